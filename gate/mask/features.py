"""Features of an aligned face for the mask classifier: HOG of the lower face, and its colour against the forehead.

The face is rotated so the eyes are level and scaled by the eye distance, so the same regions are compared on every
face whatever its size or tilt.
"""
from __future__ import annotations

import cv2
import numpy as np

from gate.mask.detector import Face

LOWER = 48  # lower-face patch side, pixels
# Where the colour rule finds "lower face minus forehead" Lab means in the feature vector (see the end of features()).
COLOUR_DIFF_MEANS = slice(-24, -21)
_HOG = cv2.HOGDescriptor((LOWER, LOWER), (16, 16), (8, 8), (8, 8), 9)
FACE = 64
_HOG_FACE = cv2.HOGDescriptor((FACE, FACE), (16, 16), (16, 16), (8, 8), 9)


def align(bgr: np.ndarray, face: Face, size: int = FACE, margin: int = 0) -> tuple[np.ndarray, float]:
    """The face rotated upright and scaled to eye distance = size * 0.3; returns (square crop, eye distance).

    ``margin`` pixels of surroundings are kept on every side (training crops a jittered ``size`` square out of them).
    """
    right_eye, left_eye = face.keypoints[0], face.keypoints[1]
    dx, dy = left_eye - right_eye
    eye_dist = float(np.hypot(dx, dy)) or max(face.box[2], 1) * 0.4
    angle = float(np.degrees(np.arctan2(dy, dx)))
    centre = (right_eye + left_eye) / 2
    scale = size * 0.3 / eye_dist
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    # Eyes land at 40 % of the height, centred: the mouth and chin fit below them.
    m[0, 2] += size / 2 + margin - centre[0]
    m[1, 2] += size * 0.4 + margin - centre[1]
    out = size + 2 * margin
    crop = cv2.warpAffine(bgr, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return crop, eye_dist


def _stats(lab: np.ndarray) -> np.ndarray:
    flat = lab.reshape(-1, 3).astype(np.float32)
    return np.concatenate([flat.mean(0), flat.std(0)])


def features(bgr: np.ndarray, face: Face) -> np.ndarray:
    crop, _ = align(bgr, face)
    if crop.ndim == 2 or crop.shape[2] == 1:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    gray = cv2.equalizeHist(gray)
    lower = gray[int(FACE * 0.5):, int(FACE * 0.15):int(FACE * 0.85)]
    lower = cv2.resize(lower, (LOWER, LOWER), interpolation=cv2.INTER_AREA)
    hog_lower = _HOG.compute(lower).reshape(-1)
    hog_face = _HOG_FACE.compute(gray).reshape(-1)
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
    lower_lab = lab[int(FACE * 0.55):int(FACE * 0.9), int(FACE * 0.25):int(FACE * 0.75)]
    cheeks_lab = lab[int(FACE * 0.45):int(FACE * 0.6), int(FACE * 0.1):int(FACE * 0.9)]
    forehead_lab = lab[int(FACE * 0.1):int(FACE * 0.28), int(FACE * 0.3):int(FACE * 0.7)]
    lo, ch, fo = _stats(lower_lab), _stats(cheeks_lab), _stats(forehead_lab)
    hsv = cv2.cvtColor(crop[int(FACE * 0.55):int(FACE * 0.9), int(FACE * 0.25):int(FACE * 0.75)], cv2.COLOR_BGR2HSV)
    hue = cv2.calcHist([hsv], [0], None, [12], [0, 180]).reshape(-1)
    hue = hue / max(hue.sum(), 1.0)
    colour = np.concatenate([lo, fo, lo - fo, ch - fo, hue]) / 64.0
    return np.concatenate([hog_lower, hog_face, colour]).astype(np.float32)
