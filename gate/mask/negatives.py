"""Face-free crops for the network's "not a face" output: what the detector's second look cuts out of frames with no
face in them (cards, printed codes, clothing, textures), and pieces of bare faces to check it on.

At the gate a pupil holds an id card up to the camera or wears a striped top; BlazeFace read down to its second look
(0.15) "finds" a face in some of them and the crop goes to the network. Trained on faces only, the network said
"mask" to most of them (no mouth to see). The training scenes are made here, on purpose NOT the ones
``bench/mask_objects.py`` scores (that bench stays a held-out test): no OpenCV QR encoder (random code-like module
grids with finder squares instead), other fonts and words on cards, coloured and tilted stripes and plaids, sine
gratings, dots, smoothed noise. Each scene gives the crop of the detector's best guess, whatever its score, aligned
exactly as a face is (``align``), so the network learns from what the station would feed it.

The odd-numbered bare photos (the bench tiles the even ones) cut into 4x4 shuffled tiles are made too, but only to
CHECK the network (held out, never trained on): trained on, tiles (an eye, a cheek, no mouth) taught it that close
crops of masked faces are "not a face", and it turned 4.3 % of real masked faces away (README, "Mask check").
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from gate.mask.detector import FaceDetector
from gate.mask.features import align

FRAME = (480, 640)
RECIPE = ("trained on: procedural code grids, cards, stripes/plaids, gratings, dots, noise (seeded), scene n in fold "
          "n mod k, each fold's network on the other folds' scenes; checked on (never trained on): without_mask[1::2] "
          "cut into 4x4 shuffled tiles; crop = BlazeFace's best box at any score, aligned as a face")
_FONTS = (cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
          cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)
_WORDS = ("Name", "Class 3B", "Grade 5", "Library", "Bus pass", "Valid 2027", "ID", "Pupil", "Lunch", "Room 12")


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def code_grid(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(15, 34))
    grid = (rng.random((n, n)) < 0.5).astype(np.uint8) * 255
    for y, x in ((0, 0), (0, n - 7), (n - 7, 0)):  # finder squares, as on a printed code
        grid[y:y + 7, x:x + 7] = 0
        grid[y + 1:y + 6, x + 1:x + 6] = 255
        grid[y + 2:y + 5, x + 2:x + 5] = 0
    grid = np.pad(grid, 2, constant_values=255)
    side = int(rng.integers(120, 400))
    return cv2.cvtColor(cv2.resize(grid, (side, side), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR)


def card(rng: np.random.Generator) -> np.ndarray:
    h = int(rng.integers(150, 330))
    w = int(h * rng.uniform(1.4, 1.7))
    out = np.full((h, w, 3), _colour(rng), np.uint8) if rng.random() < 0.3 else np.full((h, w, 3), 245, np.uint8)
    cv2.rectangle(out, (0, 0), (w, h // 5), _colour(rng), -1)
    if rng.random() < 0.5:  # an empty photo box or a logo
        cv2.rectangle(out, (w // 20, h // 4), (w // 3, h - h // 10), _colour(rng), int(rng.integers(-1, 3)) or 1)
    for row in range(int(rng.integers(3, 7))):
        text = " ".join(rng.choice(_WORDS, 2)) + f" {rng.integers(10, 9999)}"
        cv2.putText(out, text, (w // 3 + 5, h // 4 + row * h // 9 + 10), int(rng.choice(_FONTS)), h / 300,
                    _colour(rng) if rng.random() < 0.3 else (20, 20, 20), 1, cv2.LINE_AA)
    return out


def textile(rng: np.random.Generator) -> np.ndarray:
    h, w = int(rng.integers(150, 480)), int(rng.integers(150, 640))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, np.pi)
    u = xx * np.cos(a) + yy * np.sin(a)
    period = rng.uniform(6, 40)
    kind = int(rng.integers(4))
    if kind == 0:  # coloured stripes, any angle
        t = (np.mod(u, period) < period * rng.uniform(0.3, 0.7))[..., None]
        return np.where(t, _colour(rng), _colour(rng)).astype(np.uint8)
    if kind == 1:  # plaid: two crossing stripe sets blended
        v = -xx * np.sin(a) + yy * np.cos(a)
        s1 = (np.mod(u, period) < period / 3)[..., None]
        s2 = (np.mod(v, period * rng.uniform(0.7, 1.4)) < period / 3)[..., None]
        base = np.array(_colour(rng), np.float32)
        return np.clip(base * 0.5 + s1 * np.array(_colour(rng)) * 0.3 + s2 * np.array(_colour(rng)) * 0.3, 0,
                       255).astype(np.uint8)
    if kind == 2:  # smooth grating
        t = (0.5 + 0.5 * np.sin(u * 2 * np.pi / period))[..., None]
        return (t * np.array(_colour(rng)) + (1 - t) * np.array(_colour(rng))).astype(np.uint8)
    out = np.full((h, w, 3), _colour(rng), np.uint8)  # dots
    step = int(period) + 4
    for y in range(step // 2, h, step):
        for x in range(step // 2 + (y // step % 2) * step // 2, w, step):
            cv2.circle(out, (x, y), max(2, step // 4), _colour(rng), -1, cv2.LINE_AA)
    return out


def noise(rng: np.random.Generator) -> np.ndarray:
    scale = int(rng.integers(4, 60))
    small = rng.integers(0, 256, (480 // scale + 2, 640 // scale + 2, 3)).astype(np.uint8)
    img = cv2.GaussianBlur(cv2.resize(small, (640, 480), interpolation=cv2.INTER_CUBIC), (0, 0), rng.uniform(0.5, 3))
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    keep = rng.uniform(0, 1)  # from grey to full colour: walls, foliage, crowds out of focus
    return cv2.addWeighted(img, keep, grey, 1 - keep, 0)


def scene(rng: np.random.Generator) -> np.ndarray:
    """A 640x480 frame with no face: a background (plain, gradient or noise) holding one object, tilted."""
    h, w = FRAME
    kind = rng.choice(["code", "card", "textile", "noise"], p=[0.25, 0.25, 0.35, 0.15])
    if kind == "noise":
        return noise(rng)
    plain = _colour(rng) if rng.random() < 0.6 else (int(rng.integers(0, 256)),) * 3
    bg = noise(rng) if rng.random() < 0.3 else np.full((h, w, 3), plain, np.uint8)
    obj = {"code": code_grid, "card": card, "textile": textile}[kind](rng)
    m = cv2.getRotationMatrix2D((obj.shape[1] / 2, obj.shape[0] / 2), rng.uniform(-25, 25), 1.0)
    m[:, 2] += (rng.uniform(0, max(w - obj.shape[1], 1)), rng.uniform(0, max(h - obj.shape[0], 1)))
    warped = cv2.warpAffine(obj, m, (w, h), borderValue=(0, 0, 0))
    cover = cv2.warpAffine(np.full(obj.shape[:2], 255, np.uint8), m, (w, h)) > 0
    bg[cover] = warped[cover]
    return bg


def tiles(img: np.ndarray, rng: np.random.Generator, grid: int = 4) -> np.ndarray:
    h, w = img.shape[0] // grid * grid, img.shape[1] // grid * grid
    parts = [img[i * h // grid:(i + 1) * h // grid, j * w // grid:(j + 1) * w // grid]
             for i in range(grid) for j in range(grid)]
    order = rng.permutation(len(parts))
    return np.concatenate([np.concatenate([parts[order[i * grid + j]] for j in range(grid)], 1)
                           for i in range(grid)], 0)


def best_guess_crop(detector: FaceDetector, img: np.ndarray, size: int, margin: int) -> tuple[np.ndarray, float]:
    """The aligned crop of the detector's best box at any score (where the second look would cut a "face"), and
    that score: under the second look's 0.15 the gate would never show the crop to the network."""
    faces = detector.detect(img)
    return align(img, faces[0], size, margin)[0], faces[0].score


def tile_sources(paths: list[Path], labels: list[str]) -> list[int]:
    """Which photos are cut into tiles: the odd-numbered bare ones (the bench tiles the even ones)."""
    bare = sorted((p, n) for n, (p, lab) in enumerate(zip(paths, labels)) if lab == "no")
    return sorted(n for p, n in bare[1::2])


def make(n_scenes: int, seed: int, size: int, margin: int, photos: list[np.ndarray | None] | None = None,
         progress: Callable[[str], None] = print) -> tuple[list[np.ndarray], list[int], list[float]]:
    """(crops, source, detector score): ``n_scenes`` procedural crops (source -1), then one tiled crop per given photo
    (source = its index in ``photos``; None photos are skipped), so each crop can go to its photo's fold."""
    rng = np.random.default_rng(seed)
    detector = FaceDetector(score_threshold=0.0)
    crops, source, scores = [], [], []
    for n, img in [(-1, None)] * n_scenes + list(enumerate(photos or [])):
        if n >= 0 and img is None:
            continue
        crop, score = best_guess_crop(detector, scene(rng) if n < 0 else tiles(img, rng), size, margin)
        crops.append(crop)
        source.append(n)
        scores.append(score)
    progress(f"  face-free crops: {n_scenes} scenes, {len(crops) - n_scenes} tiled photos")
    return crops, source, scores
