"""The maintenance screen (F9): live raw readings, the sensor's calibration status and history, and the blackbody
wizard (a full calibration or a daily check).

The wizard runs the same procedure as ``gate calibrate run``: ``gate.calibration.collect_point`` for each set point,
then ``calibrate`` or ``daily_check`` with the configured tolerance. Screening pauses while it measures: the
blackbody is not a person.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import deque

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Sparkline, Static

from domain import CalibrationRecord
from drivers.base import Sample
from gate.calibration import SET_RANGE_C, CalibrationError, calibrate, collect_point, daily_check
from gate.config import SensorConfig
from gate.station import Station
from gate.ui.messages import CalibrationHistory, CalibrationSaved, SampleSeen, WizardAsks, WizardProgress, WizardSays
from gate.ui.screens.base import ShowsWorkerFailures
from gate.ui.screens.duty import SampleFeed
from gate.ui.widgets.residual_plot import ResidualPlot
from storage import calibrations

PER_READING = 4  # frames averaged into one reading, as in the CLI
TRIES = 10  # measurements of one set point before it counts as unstable
READ_TIMEOUT_S = 2.0  # no frame for this long: the sensor is gone (collect_point says so)
SETTLE_S = 1.0  # an unstable point is measured again after this long


class _Stopped(Exception):
    """The screen closed while the wizard was waiting or measuring."""


class MaintenanceScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back / 返回")]

    def __init__(self, station: Station, sensor_config: SensorConfig, feed: SampleFeed, operator: str, *,
                 samples: int = 5, on_saved=None):
        super().__init__()
        self.station = station
        self.sensor_config = sensor_config
        self.sensor_key = station.sensor_key(sensor_config)
        self.feed = feed
        self.operator = operator
        self.samples = samples
        self.on_saved = on_saved  # e.g. the duty screen's calibration check, so its status bar follows at once
        self.recent: deque[float] = deque(maxlen=120)
        self._frames: queue.Queue[float] | None = None  # set while the wizard measures a point
        self._point_ready = threading.Event()  # the operator pressed Ready (or the screen is closing)
        self._leaving = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="maint"):
            yield Label(f"维护 / Maintenance — {self.sensor_key} — {self.operator}", id="maint-title")
            yield Static(id="maint-status")
            yield Sparkline([], id="maint-spark")
            with Horizontal(id="maint-form"):
                yield Input(value="35,37,40", placeholder="set points °C, e.g. 35,37,40", id="cal-points")
                yield Input(placeholder="reference id (blackbody certificate)", id="cal-reference")
                yield Input(value="0.1", placeholder="reference uncertainty °C", id="cal-uncertainty")
                yield Button("Calibrate / 校准", id="cal-start", variant="primary")
                yield Button("Daily check / 日检", id="cal-check")
            yield Static("", id="cal-instruction")
            yield Button("Ready / 已就绪", id="cal-ready", disabled=True)
            yield ProgressBar(total=100, show_eta=False, id="cal-progress")
            yield ResidualPlot(id="cal-residuals")
            yield DataTable(id="cal-history", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.feed.add(self._on_sample)
        self.query_one("#cal-history", DataTable).add_columns("date", "kind", "result", "due", "operator", "note")
        self.load_history()

    def on_unmount(self) -> None:
        self.feed.remove(self._on_sample)
        self._leaving.set()
        self._point_ready.set()  # a wizard waiting for Ready wakes up and stops
        self.station.paused.clear()  # leaving the screen ends any calibration in progress

    # -- live data (called in the sensor thread) ---------------------------------------------------------------------
    def _on_sample(self, sample: Sample) -> None:
        frames = self._frames
        if frames is not None:
            frames.put(sample.object_c)
        self.post_message(SampleSeen(sample))

    def on_sample_seen(self, msg: SampleSeen) -> None:
        value = msg.sample.object_c
        self.recent.append(value)
        self.query_one("#maint-spark", Sparkline).data = list(self.recent)
        self.query_one("#maint-status", Static).update(
            f"raw {value:.2f} °C · last minute: min {min(self.recent):.2f} / max {max(self.recent):.2f}")

    # -- history ----------------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="calibration-history", exit_on_error=False,
          name="loading the calibration history")
    def load_history(self) -> None:
        records = calibrations.records(self.station.log, self.sensor_key, limit=50)
        self.station.forget_calibration_cache()
        st = self.station.sensor_status(self.sensor_config)
        text = st.reason or st.warn or (
            f"due {time.strftime('%Y-%m-%d', time.localtime(st.calibration.due))}"
            if st.calibration and st.calibration.due else "not calibrated")
        self.post_message(CalibrationHistory(records, text))

    def on_calibration_history(self, msg: CalibrationHistory) -> None:
        table = self.query_one("#cal-history", DataTable)
        table.clear()
        for r in msg.records:
            due = time.strftime("%Y-%m-%d", time.localtime(r.due)) if r.due else "—"
            table.add_row(time.strftime("%Y-%m-%d %H:%M", time.localtime(r.at)), r.kind, r.result, due, r.operator,
                          r.note)
        self.query_one("#maint-title", Label).update(
            f"维护 / Maintenance — {self.sensor_key} — {self.operator} — {msg.status_text}")

    # -- the wizard: buttons ----------------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("cal-start", "cal-check"):
            self._start(daily=event.button.id == "cal-check")
        elif event.button.id == "cal-ready":
            event.button.disabled = True
            self._point_ready.set()

    def _say(self, text: str) -> None:
        self.query_one("#cal-instruction", Static).update(text)

    def _start(self, daily: bool) -> None:
        lo, hi = SET_RANGE_C
        try:
            plan = [float(v) for v in self.query_one("#cal-points", Input).value.split(",") if v.strip()]
            uncertainty = float(self.query_one("#cal-uncertainty", Input).value)
        except ValueError:
            self._say("set points: numbers separated by commas, e.g. 35,37,40; uncertainty: a number, e.g. 0.1")
            return
        if daily and len(plan) != 1:
            self._say("a daily check is one set point, e.g. 37")
            return
        if not 1 <= len(plan) <= 5 or any(not lo <= v <= hi for v in plan):
            self._say(f"1 to 5 set points within {lo:g}–{hi:g} °C")
            return
        reference = self.query_one("#cal-reference", Input).value.strip()
        if not reference:
            self._say("the reference id (blackbody certificate) is needed for the record")
            return
        if any(w.node is self and w.group == "wizard" and w.is_running for w in self.app.workers):
            self._say("a calibration is in progress: finish it, or leave the screen (Esc) to abandon it")
            return
        self.query_one(ResidualPlot).record = None
        self.run_wizard(plan, reference, uncertainty, daily)

    def on_wizard_asks(self, msg: WizardAsks) -> None:
        self._say(f"[{msg.index}/{msg.total}] set the blackbody to {msg.set_c:.1f} °C, wait until it is stable, then "
                  f"press Ready / 请将黑体设为 {msg.set_c:.1f} °C，稳定后按“已就绪”")
        ready = self.query_one("#cal-ready", Button)
        ready.disabled = False
        ready.focus()

    def on_wizard_progress(self, msg: WizardProgress) -> None:
        self.query_one("#cal-progress", ProgressBar).update(total=msg.total, progress=msg.done)

    def on_wizard_says(self, msg: WizardSays) -> None:
        self._say(msg.text)

    def on_calibration_saved(self, msg: CalibrationSaved) -> None:
        r = msg.record
        self.query_one(ResidualPlot).record = r
        self._say(f"{r.kind} {r.result.upper()}: gain {r.gain:.4f}, offset {r.offset_c:+.3f} °C, tolerance "
                  f"±{r.tolerance_c} °C" + (f" — {r.note}" if r.note else "") + " (saved)")
        self.notify(f"calibration {r.result}: saved", severity="information" if r.result == "pass" else "error")
        self.load_history()
        if self.on_saved is not None:
            self.on_saved()

    # -- the wizard: the procedure, in a thread ---------------------------------------------------------------------
    @work(thread=True, group="wizard", exit_on_error=False, name="the calibration")
    def run_wizard(self, plan: list[float], reference_id: str, uncertainty_c: float, daily: bool) -> None:
        cfg = self.station.config
        self.station.paused.set()  # no screenings while the sensor looks at the blackbody
        try:
            points = [self._measure(set_c, n, len(plan)) for n, set_c in enumerate(plan, 1)]
            if daily:
                current, _ = calibrations.latest(self.station.log, self.sensor_key)
                record = daily_check(self.sensor_key, points[0], current, reference_id=reference_id,
                                     operator=self.operator, tolerance_c=cfg.calibration_tolerance_c)
            else:
                record = calibrate(self.sensor_key, points, reference_id=reference_id,
                                   reference_uncertainty_c=uncertainty_c, operator=self.operator,
                                   tolerance_c=cfg.calibration_tolerance_c,
                                   interval_days=cfg.calibration_interval_days,
                                   body_site_offset_c=cfg.body_site_offset_c)
        except _Stopped:
            return
        except CalibrationError as exc:
            self.post_message(WizardSays(f"calibration failed: {exc}"))
            return
        finally:
            self._frames = None
            self.station.paused.clear()
        calibrations.save(self.station.log, record, cfg.station_id)
        self.station.forget_calibration_cache()
        self.post_message(CalibrationSaved(record))

    def _measure(self, set_c: float, n: int, total: int):
        """Wait for Ready, then collect one set point from the live samples (``collect_point``, as the CLI does)."""
        self._point_ready.clear()
        self.post_message(WizardAsks(set_c, n, total))
        self._point_ready.wait()
        if self._leaving.is_set():
            raise _Stopped
        need = self.samples * PER_READING
        frames: queue.Queue[float] = queue.Queue()
        taken = 0

        def read() -> float | None:
            nonlocal taken
            if self._leaving.is_set():
                raise _Stopped
            try:
                value = frames.get(timeout=READ_TIMEOUT_S)
            except queue.Empty:
                return None
            taken += 1
            self.post_message(WizardProgress((n - 1) * need + min(taken, need), total * need))
            return value

        def settle() -> None:
            nonlocal taken
            self.post_message(WizardSays(f"not stable yet at {set_c:.1f} °C (spread > 0.1 °C): measuring again"))
            self._frames = None  # what the sensor saw while the blackbody settled does not count
            if self._leaving.wait(SETTLE_S):
                raise _Stopped
            taken = 0
            while not frames.empty():
                frames.get_nowait()
            self._frames = frames

        self.post_message(WizardSays(f"measuring at {set_c:.1f} °C … / 测量中"))
        self._frames = frames
        return collect_point(set_c, read, self.samples, per_reading=PER_READING, tries=TRIES, wait=settle)
