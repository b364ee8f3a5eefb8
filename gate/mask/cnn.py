"""The mask classifier the station uses: a small convolutional network on the aligned face, run by OpenCV's DNN module.

``mask_cnn.onnx`` is made by ``gate mask train`` (PyTorch, optional extra ``[train]``) and is all the station needs:
OpenCV reads ONNX, so PyTorch is never installed at the gate. ``mask_cnn.json`` beside it records how it was made
(data hash, cluster split, seed, command, cross-validated figures) and the unknown band chosen for safety.
The network has a third output, "not a face", trained on face-free crops (negatives.py): a crop it judges not to be a
face is "no face" (unknown, staff confirm), never "mask: yes".
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np

from domain.errors import DeviceFailure
from gate.mask.detector import Face
from gate.mask.features import align

MODEL = Path(__file__).with_name("mask_cnn.onnx")
SIZE = 64  # input side: the aligned face, eyes at 40 % of the height, eye distance 0.3 of the side
# P(face) under the record's "face_min" is "no face" (chosen on validation folds with the band, README "Mask check");
# this default is for a fold network scored without a record.
FACE_MIN = 0.5


def face_input(bgr: np.ndarray, face: Face) -> np.ndarray:
    """The network's input for one face: the aligned SIZE x SIZE colour crop (BGR, uint8)."""
    if bgr.ndim == 2 or bgr.shape[2] == 1:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    return align(bgr, face, SIZE)[0]


def blob(crops: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """Crops (uint8 BGR) -> the N x 3 x SIZE x SIZE float blob in [-1, 1] that training uses as well."""
    return cv2.dnn.blobFromImages(list(crops), 1 / 127.5, (SIZE, SIZE), (127.5, 127.5, 127.5), swapRB=False)


def record_path(model: Path) -> Path:
    return model.with_suffix(".json")


class MaskModelError(DeviceFailure, RuntimeError):
    """The shipped network or its record is missing a part, changed, or unreadable: restore it or retrain."""


class CnnMaskModel:
    """The ONNX network plus its record; ``band`` is the unknown band (probabilities inside it go to staff).

    The record holds the network file's SHA-256: a changed or swapped file is refused, not run.
    """

    def __init__(self, path: Path = MODEL, band: tuple[float, float] | None = None, face_min: float = FACE_MIN):
        """``band`` given: a training fold's network, trusted without a record; else the record is checked."""
        self.path = path
        self.meta: dict = {}
        what = f"the mask model {path.name}"
        if band is None:
            rec = record_path(path)
            try:
                self.meta = json.loads(rec.read_text(encoding="utf-8"))
                lo, hi = (float(v) for v in self.meta["unknown_band"])
                face_min = float(self.meta.get("face_min", FACE_MIN))
                digest = str(self.meta["onnx_sha256"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise MaskModelError(f"{what}: its record {rec.name} is missing or unreadable ({exc}); run "
                                     "`gate mask train` again or restore both files from the release") from None
            if not 0.0 < lo <= hi < 1.0:
                raise MaskModelError(f"{what}: unknown band {lo}..{hi} in {rec.name} is not within "
                                     "0 < low <= high < 1")
            if not 0.0 < face_min < 1.0:
                raise MaskModelError(f"{what}: face_min {face_min} in {rec.name} is not within 0 < face_min < 1 "
                                     "(at 0 a card or a striped top would be taken for a face)")
            if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                raise MaskModelError(f"{what} does not match the SHA-256 in {rec.name}: the file was changed; "
                                     "restore it from the release or run `gate mask train` again")
        else:
            lo, hi = band
        self.band = (lo, hi)
        self.face_min = face_min
        try:
            self.net = cv2.dnn.readNetFromONNX(str(path))
            self.net.setInput(blob([np.zeros((SIZE, SIZE, 3), np.uint8)]))
            self.outputs = int(self.net.forward().shape[-1])  # the first pass is slow: pay it at start-up
        except cv2.error as exc:
            raise MaskModelError(f"{what}: OpenCV cannot run it ({str(exc).strip().splitlines()[-1]})") from None

    @classmethod
    def load(cls, path: Path = MODEL) -> "CnnMaskModel | None":
        return cls(path) if path.exists() else None

    def scores(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(P(mask | a face), P(a face)) per crop. Logits are "no mask", "mask" and, if the network has it, "not a
        face" (a two-output network takes every crop for a face)."""
        self.net.setInput(blob(crops))
        logits = self.net.forward().reshape(len(crops), -1).astype(np.float64)
        z = logits[:, 1] - logits[:, 0]  # softmax over "no" and "yes" alone is a sigmoid of their difference
        p_mask = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
        if logits.shape[1] < 3:
            return p_mask, np.ones(len(crops))
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p_mask, 1 - e[:, 2] / e.sum(axis=1)

    def p_masks(self, crops: list[np.ndarray]) -> np.ndarray:
        return self.scores(crops)[0]

    def p_mask(self, bgr: np.ndarray, face: Face) -> float:
        return float(self.p_masks([face_input(bgr, face)])[0])

    def judge_face(self, bgr: np.ndarray, face: Face) -> tuple[float, bool]:
        """(P(mask | a face), is it a face at all) for one detected face."""
        p_mask, p_face = self.scores([face_input(bgr, face)])
        return float(p_mask[0]), bool(p_face[0] >= self.face_min)

    @property
    def knows_non_faces(self) -> bool:
        return self.outputs >= 3
