"""The maintenance screen: live readings, calibration status and history, and the blackbody calibration wizard."""
from __future__ import annotations

import statistics
import time
from collections import deque

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Sparkline, Static

from gate.calibration import STABLE_SPREAD_C, CalibrationError, Point, calibrate

PER_READING = 4  # frames averaged into one reading
MAX_TRIES = 10


def residual_plot(set_points: list[float], residuals: list[float], tolerance: float, width: int = 30) -> str:
    """One line per set point: a bar from the centre, scaled so the tolerance reaches the edge."""
    lines = [f"{'':>8}  -{tolerance:.1f}{'':{width - 4}}0{'':{width - 4}}+{tolerance:.1f} °C"]
    for s, r in zip(set_points, residuals):
        n = min(width, round(abs(r) / tolerance * width))
        bar = (" " * (width - n) + "█" * n + "│" + " " * width) if r < 0 else (" " * width + "│" + "█" * n +
                                                                          " " * (width - n))
        mark = "✔" if abs(r) <= tolerance else "✖"
        lines.append(f"{s:6.1f} °C {bar} {r:+.2f} {mark}")
    return "\n".join(lines)


class MaintenanceScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back / 返回")]

    def __init__(self, sensor_key: str, operator: str, samples: int = 5):
        super().__init__()
        self.sensor_key = sensor_key
        self.operator = operator
        self.samples = samples
        self.recent: deque[float] = deque(maxlen=120)
        self._plan: list[float] = []
        self._points: list[Point] = []
        self._collecting: list[float] | None = None
        self._tries = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="maint"):
            yield Label(f"维护 / Maintenance — {self.sensor_key} — {self.operator}", id="maint-title")
            yield Static(id="maint-status")
            yield Sparkline([], id="maint-spark")
            with Horizontal(id="maint-form"):
                yield Input(value="35,37,40", placeholder="set points °C, e.g. 35,37,40", id="cal-points")
                yield Input(placeholder="reference id (blackbody certificate)", id="cal-reference")
                yield Button("Start / 开始", id="cal-start", variant="primary")
            yield Static("", id="cal-instruction")
            yield Button("Ready / 已就绪", id="cal-ready", disabled=True)
            yield ProgressBar(total=100, show_eta=False, id="cal-progress")
            yield Static("", id="cal-residuals")
            yield DataTable(id="cal-history", cursor_type="row")
        yield Footer()

    def on_unmount(self) -> None:
        self.app.want_samples = False
        self.app.station.paused.clear()  # leaving the screen ends any calibration in progress

    def on_mount(self) -> None:
        self.app.want_samples = True
        table = self.query_one("#cal-history", DataTable)
        table.add_columns("date", "kind", "result", "due", "operator", "note")
        self.app.load_calibrations(self.sensor_key)

    # -- live data (forwarded by the app) ---------------------------------------------------------------------------
    def add_sample(self, value: float) -> None:
        self.recent.append(value)
        self.query_one("#maint-spark", Sparkline).data = list(self.recent)
        self.query_one("#maint-status", Static).update(
            f"raw {value:.2f} °C · last minute: min {min(self.recent):.2f} / max {max(self.recent):.2f}")
        if self._collecting is not None:
            self._collecting.append(value)
            need = self.samples * PER_READING
            done = len(self._points) * need + len(self._collecting)
            self.query_one("#cal-progress", ProgressBar).update(total=len(self._plan) * need, progress=done)
            if len(self._collecting) >= need:
                self._finish_point()

    def show_history(self, records: list, status_text: str) -> None:
        table = self.query_one("#cal-history", DataTable)
        table.clear()
        for r in records:
            due = time.strftime("%Y-%m-%d", time.localtime(r.due)) if r.due else "—"
            table.add_row(time.strftime("%Y-%m-%d %H:%M", time.localtime(r.at)), r.kind, r.result, due, r.operator,
                          r.note)
        self.query_one("#maint-title", Label).update(
            f"维护 / Maintenance — {self.sensor_key} — {self.operator} — {status_text}")

    # -- the wizard -------------------------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cal-start":
            self._start()
        elif event.button.id == "cal-ready":
            event.button.disabled = True
            self._collecting = []
            self._say(f"measuring at {self._plan[len(self._points)]:.1f} °C … / 测量中")

    def _say(self, text: str) -> None:
        self.query_one("#cal-instruction", Static).update(text)

    def _start(self) -> None:
        try:
            plan = [float(v) for v in self.query_one("#cal-points", Input).value.split(",") if v.strip()]
        except ValueError:
            self._say("set points: numbers separated by commas, e.g. 35,37,40")
            return
        if not 1 <= len(plan) <= 5 or any(not 35.0 <= v <= 42.0 for v in plan):
            self._say("1 to 5 set points within 35–42 °C")
            return
        if not self.query_one("#cal-reference", Input).value.strip():
            self._say("the reference id (blackbody certificate) is needed for the record")
            return
        self._plan, self._points, self._tries = plan, [], 0
        self.app.station.paused.set()  # no screenings while the sensor looks at the blackbody
        self.query_one("#cal-residuals", Static).update("")
        self._ask_next()

    def _ask_next(self) -> None:
        set_c = self._plan[len(self._points)]
        self._say(f"[{len(self._points) + 1}/{len(self._plan)}] set the blackbody to {set_c:.1f} °C, wait until it "
                  f"is stable, then press Ready / 请将黑体设为 {set_c:.1f} °C，稳定后按“已就绪”")
        ready = self.query_one("#cal-ready", Button)
        ready.disabled = False
        ready.focus()

    def _finish_point(self) -> None:
        frames, self._collecting = self._collecting, None
        readings = tuple(round(statistics.fmean(frames[i:i + PER_READING]), 3)
                         for i in range(0, len(frames), PER_READING))
        point = Point(self._plan[len(self._points)], readings)
        if point.spread > STABLE_SPREAD_C + 1e-9 and self._tries < MAX_TRIES:
            self._tries += 1
            self._collecting = []
            self._say(f"not stable yet (spread {point.spread:.2f} °C > 0.1): measuring again ({self._tries})")
            return
        self._points.append(point)
        self._tries = 0
        if len(self._points) < len(self._plan):
            self._ask_next()
            return
        try:
            record = calibrate(self.sensor_key, self._points,
                               reference_id=self.query_one("#cal-reference", Input).value.strip(),
                               reference_uncertainty_c=0.1, operator=self.operator)
        except CalibrationError as exc:
            self.app.station.paused.clear()
            self._say(f"calibration failed: {exc}")
            return
        self.app.station.paused.clear()
        self.query_one("#cal-residuals", Static).update(
            residual_plot([p.set_c for p in self._points], record.residuals, record.tolerance_c))
        self._say(f"{record.result.upper()}: gain {record.gain:.4f}, offset {record.offset_c:+.3f} °C"
                  + (f" — {record.note}" if record.note else "") + " (saving …)")
        self.app.store_calibration(record)
