"""One camera frame -> MaskCheckResult: face found?, mask yes / no / unknown, score, face box, time taken."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gate.mask.classifier import UNSURE, LinearMaskModel, judge, rule_p_mask
from gate.mask.cnn import CnnMaskModel
from gate.mask.detector import SECOND_LOOK, FaceDetector
from gate.mask.features import features


@dataclass(frozen=True)
class MaskCheckResult:
    face: bool
    mask: str  # yes / no / unknown ("unknown" when no face or low confidence: staff confirm)
    score: float | None  # probability of "mask on", None without a face
    box: tuple[int, int, int, int] | None
    ms: float
    method: str  # "cnn", "svm" or "rules"

    def to_dict(self) -> dict:
        return {"face": self.face, "mask": self.mask, "score": None if self.score is None else round(self.score, 4),
                "box": list(self.box) if self.box else None, "ms": round(self.ms, 2), "method": self.method}


class MaskCheck:
    """Face detector + classifier, loaded once: the network (mask_cnn.onnx) if present, else the linear SVM
    (weights.npz), else the documented colour rule. ``model`` picks one: "default", "cnn", "svm", a loaded model, or
    None for the rules. With a network that knows non-faces the detector takes its second look (faint faces are
    found; what is not a face the network says so); with the others it does not."""

    def __init__(self, model: CnnMaskModel | LinearMaskModel | None | str = "default"):
        if model == "default":
            model = CnnMaskModel.load() or LinearMaskModel.load()
        elif model == "cnn":
            model = CnnMaskModel.load()
        elif model == "svm":
            model = LinearMaskModel.load()
        self.model = model
        self.method = {CnnMaskModel: "cnn", LinearMaskModel: "svm"}.get(type(model), "rules")
        self.band = model.band if isinstance(model, CnnMaskModel) else UNSURE
        knows = isinstance(model, CnnMaskModel) and model.knows_non_faces
        self.detector = FaceDetector(second_look=SECOND_LOOK if knows else None)

    def check(self, bgr: np.ndarray) -> MaskCheckResult:
        t0 = time.perf_counter()
        faces = self.detector.detect(bgr)
        if not faces:
            return MaskCheckResult(False, "unknown", None, None, (time.perf_counter() - t0) * 1000, self.method)
        face = faces[0]
        if isinstance(self.model, CnnMaskModel):
            p, is_face = self.model.judge_face(bgr, face)
            if not is_face:  # a card, a code, a striped top: staff look, it is never "mask: yes"
                return MaskCheckResult(False, "unknown", None, None, (time.perf_counter() - t0) * 1000, self.method)
        else:
            x = features(bgr, face)
            p = self.model.p_mask(x) if self.model is not None else rule_p_mask(x)
        verdict = judge(p, self.band)
        return MaskCheckResult(True, verdict.mask, p, face.box, (time.perf_counter() - t0) * 1000, self.method)
