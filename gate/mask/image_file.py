"""Photos named on the command line (``gate mask IMAGE``), refused above a pixel limit before they are decoded.

A PNG of 20000 × 20000 is a few KB on disk and 1.2 GB once decoded. Its width and height are read from the header
first (the ``imagesize`` library: PNG, JPEG, BMP, GIF, TIFF, WebP ...), and a picture over ``MAX_PIXELS`` is refused
by its size alone. As a second guard OpenCV's own limit (``OPENCV_IO_MAX_IMAGE_PIXELS``) is set to the same value
when this module is the first to load OpenCV, for a format the header reader does not know.
"""
from __future__ import annotations

import os
from pathlib import Path

MAX_PIXELS = 50_000_000  # a 50-megapixel photo (≈150 MB decoded); a gate camera frame is 0.3 to 2 megapixels
MAX_BYTES = 200 * 1024 * 1024
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))  # read by OpenCV once, when it loads

import cv2  # noqa: E402  (after the limit above)
import imagesize  # noqa: E402


class ImageRefused(ValueError):
    """An image that will not be decoded; the message says why (one line)."""


def dimensions(path: str | os.PathLike) -> tuple[int, int] | None:
    """(width, height) from the file's header, or None when the header is not one the reader knows."""
    try:
        w, h = imagesize.get(str(path))
    except Exception:  # noqa: BLE001  a damaged header is "unknown", and OpenCV gets to say what it is
        return None
    return (int(w), int(h)) if w > 0 and h > 0 else None


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS):
    """The image as OpenCV's BGR array; ImageRefused for a missing file, a folder, a picture over ``max_pixels``
    (judged from its header, nothing decoded) or one OpenCV cannot read."""
    p = Path(path)
    try:
        if not p.exists():
            raise ImageRefused("no such file")
        if not p.is_file():
            raise ImageRefused("not a file (a folder or a device)")
        size = p.stat().st_size
    except OSError as exc:
        raise ImageRefused(f"cannot read it: {exc.strerror or exc}") from None
    if size > MAX_BYTES:
        raise ImageRefused(f"{size / 1024 / 1024:.0f} MB: a photo is at most {MAX_BYTES // 1024 // 1024} MB")
    dims = dimensions(p)
    if dims and dims[0] * dims[1] > max_pixels:
        raise ImageRefused(f"{dims[0]} × {dims[1]} pixels ({dims[0] * dims[1] / 1e6:.0f} megapixels): over the "
                           f"limit of {max_pixels / 1e6:.0f} megapixels; give a smaller photo, nothing was decoded")
    try:
        img = cv2.imread(str(p))
    except cv2.error:  # OpenCV's own pixel limit (a header the reader above did not know), or a damaged file
        raise ImageRefused(f"OpenCV refused to decode it (over {max_pixels / 1e6:.0f} megapixels, or damaged)"
                           ) from None
    if img is None:
        raise ImageRefused("not an image OpenCV can read (JPEG, PNG, BMP ...)"
                           + ("" if dims else f", or over {max_pixels / 1e6:.0f} megapixels"))
    return img
