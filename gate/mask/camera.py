"""Camera sources for the mask check: a device index or stream URL, a video file, a folder of images.

Frames are used and dropped: nothing here stores an image. The simulated camera lives in sim/camera.py.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator, Protocol

import cv2
import numpy as np

from domain import MaskResult, MaskState
from gate.mask.check import MaskCheck
from gate.mask.dataset import IMAGE_SUFFIXES
from domain.errors import DeviceFailure


class FrameSource(Protocol):
    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class CameraError(DeviceFailure, RuntimeError):
    pass


class VideoSource:
    """cv2.VideoCapture: a device index ("0"), a stream URL (rtsp://...) or a video file."""

    def __init__(self, spec: str | int):
        target = int(spec) if isinstance(spec, str) and spec.isdigit() else spec
        self.cap = cv2.VideoCapture(target)
        if not self.cap.isOpened():
            raise CameraError(f"cannot open camera {spec!r}: check the cable, the index or the URL")

    def read(self) -> np.ndarray | None:
        ok, frame = self.cap.read()
        return frame if ok else None

    def close(self) -> None:
        self.cap.release()


class FolderSource:
    """Images from a folder, in name order, looping: a stand-in camera for tests and demonstrations."""

    def __init__(self, folder: str | Path, loop: bool = True):
        self.files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise CameraError(f"no images in {folder}")
        self.loop = loop
        self._i = 0

    def read(self) -> np.ndarray | None:
        if self._i >= len(self.files):
            if not self.loop:
                return None
            self._i = 0
        path = self.files[self._i]
        self._i += 1
        from gate.mask.image_file import ImageRefused, read_image

        try:
            return read_image(path)
        except ImageRefused:
            return None  # as a camera that gave no frame: nothing is decided on it

    def close(self) -> None:
        pass


def open_source(spec: str) -> FrameSource:
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path)
    return VideoSource(spec)


def frames(source: FrameSource) -> Iterator[np.ndarray]:
    while (frame := source.read()) is not None:
        yield frame


class CameraMask:
    """A MaskSource for the station: checks the newest frame when a reading arrives. Frames are not kept."""

    def __init__(self, source: FrameSource, check: MaskCheck | None = None, read_qr: bool = True):
        self.source = source
        self.check = check or MaskCheck()
        self._lock = threading.Lock()
        self._qr = cv2.QRCodeDetector() if read_qr else None
        self.last_qr: str | None = None  # an entrant id shown to the camera as a QR code, from the latest frame

    def current(self) -> MaskResult:
        with self._lock:
            frame = self.source.read()
        self.last_qr = None
        if frame is None:
            return MaskResult(MaskState.UNKNOWN, source="camera")
        if self._qr is not None:
            try:
                text, _points, _ = self._qr.detectAndDecode(frame)
            except cv2.error:
                text = ""
            self.last_qr = text.strip() or None if text and len(text) <= 64 and text.isprintable() else None
        result = self.check.check(frame)
        return MaskResult(MaskState(result.mask), score=result.score, source=f"camera/{result.method}")
