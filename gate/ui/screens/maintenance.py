"""The maintenance screen (F9): live raw readings, the sensor's calibration status and history, and the blackbody
wizard (a full calibration or a daily check).

The wizard runs the same procedure as ``gate calibrate run`` (``gate.calibration_procedure.BlackbodyProcedure``): the
live samples go into it frame by frame, and it says when a point is measured, unstable or the last one; the record is
made by ``calibrate`` (through the procedure) or ``daily_check``, with the configured tolerance. Screening pauses
while the sensor looks at the blackbody: the blackbody is not a person.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Sparkline, Static

from domain import CalibrationRecord
from domain.identifiers import IdentifierError, check_id
from drivers.samples import Sample
from gate.calibration import CalibrationError, daily_check
from gate.calibration_procedure import BlackbodyProcedure, Step, parse_set_points
from gate.config import SensorConfig
from gate.station import Station
from gate.ui.feed import SampleFeed
from gate.ui.messages import CalibrationHistory, CalibrationSaved, SamplesWaiting, WizardSays
from gate.ui.screens.base import ShowsWorkerFailures
from gate.ui.widgets.residual_plot import ResidualPlot
from storage import calibrations

NO_FRAMES_S = 2.0  # no frame for this long while measuring: the sensor is gone, as the CLI says
INBOX_MAX = 4096  # samples held for a screen that cannot keep up (a 100 Hz sensor: 40 s); the oldest go first


class MaintenanceScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back / 返回")]

    def __init__(self, station: Station, sensor_config: SensorConfig, feed: SampleFeed, operator: str, *,
                 samples: int = 5, on_saved=None, monotonic: Callable[[], float] = time.monotonic):
        super().__init__()
        self.station = station
        self.sensor_config = sensor_config
        self.sensor_key = station.sensor_key(sensor_config)
        self.feed = feed
        self.operator = operator
        self.samples = samples
        self.on_saved = on_saved  # e.g. the duty screen's calibration check, so its status bar follows at once
        self.recent: deque[float] = deque(maxlen=120)
        self.procedure: BlackbodyProcedure | None = None  # the calibration in progress
        self.daily = False  # the procedure measures one point for a daily check, not a full calibration
        self.measuring = False  # Ready was pressed: frames count for the current set point
        self.monotonic = monotonic
        self.last_frame = 0.0  # when the sensor thread last handed over a frame (or Ready was pressed)
        # Samples cross from the sensor thread through this inbox; at most one message says "samples waiting", so a
        # fast sensor on a slow PC never floods the screen with one message and one redraw per sample.
        self._inbox: deque[Sample] = deque(maxlen=INBOX_MAX)
        self._inbox_told = threading.Event()
        self._arrived = 0.0

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
        self.set_interval(0.5, self._check_frames)

    def on_unmount(self) -> None:
        self.feed.remove(self._on_sample)
        self.procedure = None
        self.station.paused.clear()  # leaving the screen ends any calibration in progress

    # -- live data --------------------------------------------------------------------------------------------------
    def _on_sample(self, sample: Sample) -> None:
        """Called in the sensor's thread: the sample goes into the inbox, and one message if none is on its way."""
        self._inbox.append(sample)
        self._arrived = self.monotonic()  # the sensor's pace, not the screen's: a busy screen is no silent sensor
        if not self._inbox_told.is_set():
            self._inbox_told.set()
            self.post_message(SamplesWaiting())

    def on_samples_waiting(self, _msg: SamplesWaiting) -> None:
        self._inbox_told.clear()  # before taking: a sample arriving from now on sends a new message
        values = []
        while self._inbox:
            values.append(self._inbox.popleft().object_c)
        if not values:
            return
        self.recent.extend(values)
        self.query_one("#maint-spark", Sparkline).data = list(self.recent)
        self.query_one("#maint-status", Static).update(
            f"raw {values[-1]:.2f} °C · last minute: min {min(self.recent):.2f} / max {max(self.recent):.2f}")
        for value in values:  # the wizard counts every frame, however many arrived at once
            if self.procedure is None or not self.measuring:
                break
            self._frame(value)

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

    # -- the wizard -------------------------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("cal-start", "cal-check"):
            self._start(daily=event.button.id == "cal-check")
        elif event.button.id == "cal-ready" and self.procedure is not None:
            event.button.disabled = True
            self.measuring, self.last_frame = True, self.monotonic()
            self._say(f"measuring at {self.procedure.set_c:.1f} °C … / 测量中")

    def _reference_id(self) -> str:
        """The certificate id typed, checked like `gate calibrate --reference-id` (empty: none given)."""
        text = self.query_one("#cal-reference", Input).value
        try:
            return check_id(text, "reference id") if text.strip() else ""
        except IdentifierError as exc:
            raise CalibrationError(str(exc)) from None

    def _say(self, text: str) -> None:
        self.query_one("#cal-instruction", Static).update(text)

    def _start(self, daily: bool) -> None:
        if self.procedure is not None:
            self._say("a calibration is in progress: finish it, or leave the screen (Esc) to abandon it")
            return
        cfg = self.station.config
        try:
            plan = parse_set_points(self.query_one("#cal-points", Input).value)
            if daily and len(plan) != 1:
                raise CalibrationError("a daily check is one set point, e.g. 37")
            try:
                uncertainty = float(self.query_one("#cal-uncertainty", Input).value)
            except ValueError:
                raise CalibrationError("reference uncertainty: a number of °C, e.g. 0.1") from None
            procedure = BlackbodyProcedure(
                self.sensor_key, plan, reference_id=self._reference_id(),
                operator=self.operator, samples=self.samples, tolerance_c=cfg.calibration_tolerance_c,
                reference_uncertainty_c=uncertainty, interval_days=cfg.calibration_interval_days,
                body_site_offset_c=cfg.body_site_offset_c, max_correction_c=cfg.calibration_max_correction_c,
                full=not daily)
        except CalibrationError as exc:
            self._say(str(exc))
            return
        self.procedure, self.daily = procedure, daily
        self.query_one(ResidualPlot).record = None
        self.station.paused.set()  # no screenings while the sensor looks at the blackbody
        self._ask()

    def _ask(self) -> None:
        p = self.procedure
        n, total, set_c = len(p.points) + 1, len(p.set_points), p.set_c
        self._say(f"[{n}/{total}] set the blackbody to {set_c:.1f} °C, wait until it is stable, then press Ready / "
                  f"请将黑体设为 {set_c:.1f} °C，稳定后按“已就绪”")
        ready = self.query_one("#cal-ready", Button)
        ready.disabled = False
        ready.focus()

    def _frame(self, value: float) -> None:
        p = self.procedure
        step = p.add_frame(value)
        done, total = p.progress()
        self.query_one("#cal-progress", ProgressBar).update(total=total, progress=done)
        if step is Step.AGAIN:
            self._say(f"not stable yet at {p.set_c:.1f} °C (spread {p.last_unstable.spread:.2f} °C > 0.1): "
                      f"measuring again ({p.tries})")
        elif step is Step.NEXT_POINT:
            self.measuring = False
            self._ask()
        elif step is Step.FINISHED:
            self._stop()
            self.save_result(p, self.daily)

    def _stop(self, why: str = "") -> None:
        self.procedure, self.measuring = None, False
        self.query_one("#cal-ready", Button).disabled = True
        self.station.paused.clear()
        if why:
            self._say(why)

    def _check_frames(self) -> None:
        last = max(self.last_frame, self._arrived)
        if self.procedure is not None and self.measuring and self.monotonic() - last > NO_FRAMES_S:
            self._stop(f"calibration stopped: no readings from the sensor at {self.procedure.set_c} °C: check the "
                       "cable and the sensor, then start again")

    @work(thread=True, exclusive=True, group="calibration-save", exit_on_error=False,
          name="saving the calibration")
    def save_result(self, procedure: BlackbodyProcedure, daily: bool) -> None:
        try:
            if daily:
                current, _ = calibrations.latest(self.station.log, self.sensor_key)
                record = daily_check(self.sensor_key, procedure.points[0], current,
                                     reference_id=procedure.reference_id, operator=procedure.operator,
                                     tolerance_c=procedure.tolerance_c)
            else:
                record = procedure.record()
        except CalibrationError as exc:
            self.post_message(WizardSays(f"calibration failed: {exc}"))
            return
        calibrations.save(self.station.log, record, self.station.config.station_id)
        self.station.forget_calibration_cache()
        self.post_message(CalibrationSaved(record))

    def on_wizard_says(self, msg: WizardSays) -> None:
        self._say(msg.text)

    def on_calibration_saved(self, msg: CalibrationSaved) -> None:
        r: CalibrationRecord = msg.record
        self.query_one(ResidualPlot).record = r
        self._say(f"{r.kind} {r.result.upper()}: gain {r.gain:.4f}, offset {r.offset_c:+.3f} °C, tolerance "
                  f"±{r.tolerance_c} °C" + (f" — {r.note}" if r.note else "") + " (saved)")
        self.notify(f"calibration {r.result}: saved", severity="information" if r.result == "pass" else "error")
        self.load_history()
        if self.on_saved is not None:
            self.on_saved()
