"""The mask classifier: a linear SVM on face features, trained by ``gate mask train``; a colour rule without weights.

Weights live in ``gate/mask/weights.npz`` (feature mean and spread, the SVM's weight vector and bias, and the Platt
scale that turns its margin into a probability). Without that file the rules-only fallback compares the colour of the
lower face with the forehead: a mask hides the skin of the mouth and chin. It is clearly weaker (see README).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gate.mask.features import COLOUR_DIFF_MEANS

WEIGHTS = Path(__file__).with_name("weights.npz")
UNSURE = (0.35, 0.65)  # probabilities of "mask" in this band are "unknown": staff confirm
# Chroma (a, b) distance between lower face and forehead above which the rule says "mask"; set on the training part
# of ../shared/mask-data (held-out accuracy 0.69: a fallback, not a substitute for the weights).
RULE_THRESHOLD = 10.75


@dataclass(frozen=True)
class Verdict:
    mask: str  # yes / no / unknown
    p_mask: float


class LinearMaskModel:
    def __init__(self, mean: np.ndarray, std: np.ndarray, w: np.ndarray, b: float, scale: float, meta: dict):
        self.mean, self.std, self.w, self.b, self.scale, self.meta = mean, std, w, float(b), float(scale), meta

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "LinearMaskModel | None":
        if not path.exists():
            return None
        z = np.load(path, allow_pickle=False)
        return cls(z["mean"], z["std"], z["w"], float(z["b"]), float(z["scale"]), json.loads(str(z["meta"])))

    def save(self, path: Path = WEIGHTS) -> None:
        np.savez_compressed(path, mean=self.mean.astype(np.float32), std=self.std.astype(np.float32),
                            w=self.w.astype(np.float32), b=np.float32(self.b), scale=np.float32(self.scale),
                            meta=json.dumps(self.meta, sort_keys=True))

    def margin(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std) @ self.w + self.b

    def p_mask(self, x: np.ndarray) -> float:
        return float(1 / (1 + np.exp(-np.clip(self.scale * self.margin(x), -30, 30))))


def judge(p_mask: float, band: tuple[float, float] = UNSURE) -> Verdict:
    """yes / no, or unknown strictly inside the band (staff confirm); a NaN probability is unknown, never a pass."""
    if not band[0] < p_mask < band[1] and p_mask == p_mask:
        return Verdict("yes" if p_mask >= band[1] else "no", p_mask)
    return Verdict("unknown", p_mask)


def rule_p_mask(x: np.ndarray) -> float:
    """The colour rule on the same feature vector: chroma distance of the lower face's mean from the forehead's."""
    diff = x[COLOUR_DIFF_MEANS] * 64.0
    dist = float(np.linalg.norm(diff[1:]))  # a and b only: lighting changes L between forehead and chin
    return float(1 / (1 + np.exp(-(dist - RULE_THRESHOLD) / 2.0)))
