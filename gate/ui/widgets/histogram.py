"""A text histogram of today's temperatures with the fever threshold on a bin edge."""
from __future__ import annotations

import math

from textual.reactive import reactive
from textual.widgets import Static

from domain.temperature import judged


def histogram(temps: list[float], lo: float = 35.0, hi: float = 39.0, step: float = 0.2, width: int = 40,
              threshold: float = 37.3) -> str:
    """Text histogram of temperatures; bins at or above the threshold are marked."""
    if not temps:
        return "—"
    # Put a bin edge exactly on the threshold, so every bin is wholly below or wholly at/above it.
    lo = round(threshold - math.ceil(round((threshold - lo) / step, 6)) * step, 2)
    bins = int(round((hi - lo) / step))
    counts = [0] * (bins + 2)  # below lo, bins..., at or above hi
    for v in map(judged, temps):  # binned as the policy judged them: 37.299999 belongs at the threshold
        k = 0 if v < lo else bins + 1 if v >= hi else 1 + int((v - lo) / step + 1e-9)
        counts[k] += 1
    top = max(counts) or 1
    lines = []
    for k, n in enumerate(counts):
        if k == 0:
            label = f"   <{lo:.1f}"
        elif k == bins + 1:
            label = f"  ≥{hi:.1f}"
        else:
            label = f"{lo + (k - 1) * step:6.1f}"
        edge = lo + (k - 1) * step
        mark = "!" if k == bins + 1 or (k > 0 and edge + 1e-9 >= threshold) else " "
        lines.append(f"{label} {mark}{'█' * round(n / top * width):<{width}} {n}")
    return "\n".join(lines)


class TemperatureHistogram(Static):
    temperatures: reactive[list[float] | None] = reactive(None, layout=True)  # None until loaded

    def __init__(self, threshold: float, **kwargs):
        super().__init__(**kwargs)
        self.threshold = threshold

    def render(self) -> str:
        if self.temperatures is None:
            return ""
        return "体温分布 / temperatures (°C)\n" + histogram(self.temperatures, threshold=self.threshold)
