"""One camera frame -> MaskCheckResult: face found?, mask yes / no / unknown, score, face box, time taken."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gate.mask.classifier import LinearMaskModel, judge, rule_p_mask
from gate.mask.detector import FaceDetector
from gate.mask.features import features


@dataclass(frozen=True)
class MaskCheckResult:
    face: bool
    mask: str  # yes / no / unknown ("unknown" when no face or low confidence: staff confirm)
    score: float | None  # probability of "mask on", None without a face
    box: tuple[int, int, int, int] | None
    ms: float
    method: str  # "svm" or "rules"

    def to_dict(self) -> dict:
        return {"face": self.face, "mask": self.mask, "score": None if self.score is None else round(self.score, 4),
                "box": list(self.box) if self.box else None, "ms": round(self.ms, 2), "method": self.method}


class MaskCheck:
    """Face detector + classifier, loaded once. Uses the trained weights, else the documented colour rule."""

    def __init__(self, model: LinearMaskModel | None | str = "default"):
        self.detector = FaceDetector()
        self.model = LinearMaskModel.load() if model == "default" else model
        self.method = "svm" if self.model is not None else "rules"

    def check(self, bgr: np.ndarray) -> MaskCheckResult:
        t0 = time.perf_counter()
        faces = self.detector.detect(bgr)
        if not faces:
            return MaskCheckResult(False, "unknown", None, None, (time.perf_counter() - t0) * 1000, self.method)
        face = faces[0]
        x = features(bgr, face)
        p = self.model.p_mask(x) if self.model is not None else rule_p_mask(x)
        verdict = judge(p)
        return MaskCheckResult(True, verdict.mask, p, face.box, (time.perf_counter() - t0) * 1000, self.method)
