"""The residual of every calibration point as a bar from the centre, scaled so the tolerance reaches the edge."""
from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from domain import CalibrationRecord


def residual_plot(set_points: list[float], residuals: list[float], tolerance: float, width: int = 30) -> str:
    """One line per set point, ✔ within the tolerance, ✖ outside it."""
    lines = [f"{'':>8}  -{tolerance:g}{'':{width - 4}}0{'':{width - 4}}+{tolerance:g} °C"]
    for s, r in zip(set_points, residuals):
        n = min(width, round(abs(r) / tolerance * width))
        bar = (" " * (width - n) + "█" * n + "│" + " " * width) if r < 0 else (" " * width + "│" + "█" * n +
                                                                          " " * (width - n))
        mark = "✔" if abs(r) <= tolerance else "✖"
        lines.append(f"{s:6.1f} °C {bar} {r:+.2f} {mark}")
    return "\n".join(lines)


class ResidualPlot(Static):
    record: reactive[CalibrationRecord | None] = reactive(None, layout=True)

    def render(self) -> str:
        r = self.record
        if r is None:
            return ""
        return residual_plot([p.set_c for p in r.points], list(r.residuals), r.tolerance_c)
