"""The station's terminal UI. ``build_app`` is the one factory used by the CLI and the tests."""
from __future__ import annotations

import getpass
import threading
import time

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header, Input, Static

from drivers.base import Health
from drivers.manual import ManualEntryError, manual_reading
from drivers.sensor import Sensor
from gate.config import Config, SensorConfig
from domain import Decision, MaskState, Screening
from gate.i18n import normalise, t
from gate.station import LogFailure, MaskSource, Station
from gate.auth import RIGHTS, Auth, AuthError, User
from gate.ui.maintenance import MaintenanceScreen
from gate.ui.manual import ManualEntry
from gate.ui.messages import (
    ActionFailed,
    AuditorResult,
    CalibrationHistory,
    CalibrationSaved,
    CalibrationState,
    DayLoaded,
    ExportProgress,
    PageLoaded,
    SyncState,
    CountsLoaded,
    SampleSeen,
    LogFailed,
    ScreeningDecided,
    SensorHealthChanged,
    SignedIn,
    SignInFailed,
    UsersChecked,
)
from gate.ui.signin import SignIn
from gate.ui.views import AuditorScreen, DayView, HelpScreen
from gate.ui.visitor import VisitorForm
from storage.log import LogError, ScreeningLog

SYMBOL = {Decision.ADMIT: "✔", Decision.DENY: "✖", Decision.RETEST: "↻"}


def _while_shown(method):
    """A render that may run as the app shuts down (a timer tick, a late message from a worker) does nothing then,
    instead of failing on widgets that are already gone."""
    import functools

    from textual.app import ScreenStackError
    from textual.css.query import NoMatches

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (NoMatches, ScreenStackError):
            if self._shutting_down or not self.is_running:
                return None
            raise

    return wrapper
RECENT_ROWS = 200


class GateApp(App):
    CSS_PATH = "gate.tcss"
    BINDINGS = [
        Binding("f1", "help", "Help / 帮助"),
        Binding("f2", "manual", "Manual entry / 手测"),
        Binding("f3", "mask_yes", "Mask OK / 已戴口罩"),
        Binding("f4", "mask_no", "No mask / 未戴"),
        Binding("f6", "language", "中文 / English"),
        Binding("f7", "sign_in", "Sign in / 登录"),
        Binding("f5", "day_view", "Today / 今日"),
        Binding("f8", "auditor", "Auditor / 审计"),
        Binding("f9", "maintenance", "Maintenance / 维护"),
        Binding("f10", "visitor", "Visitor / 访客登记"),
        Binding("ctrl+q", "quit", "Quit / 退出"),
    ]

    language: reactive[str] = reactive("zh-CN")
    latest: reactive[Screening | None] = reactive(None)
    health: reactive[str] = reactive(Health.OFFLINE.value)
    health_reason: reactive[str] = reactive("")
    log_error: reactive[str] = reactive("")

    def __init__(self, station: Station, sensor_config: SensorConfig | None = None, sensor: Sensor | None = None,
                 operator: str | None = None, show_clock: bool = True):
        super().__init__()
        self.show_clock = show_clock
        self._shutting_down = False
        self.want_samples = False  # set by the maintenance screen while it is shown
        self.station = station
        self.sensor_config = sensor_config
        self._sensor = sensor
        self.operator = operator or getpass.getuser()
        self.auth = Auth(station.log, station.config.station_id, station.config.security)
        self.users_exist = False  # learnt at mount, in a worker
        self.user: User | None = None  # who is signed in (when the station has users)
        self.last_activity = time.monotonic()
        self._pending: tuple[str, object] | None = None
        self.open_retests: dict[str, tuple[Screening, float]] = {}  # id -> (screening, when the rest began)
        self.calibration_text = ""
        self.calibration_usable = True
        self.sync_text = "sync off" if not station.config.upstream_url else "sync …"
        self.pending_entrant: str | None = None
        self.counts = {"screened": 0, "admit": 0, "deny": 0, "retest": 0}
        self._stop = threading.Event()
        self.decisions_shown = 0
        self.set_reactive(GateApp.language, normalise(station.language))

    # -- layout ---------------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.show_clock)
        yield Static(id="banner", classes="waiting")
        yield Static(id="message")
        with Horizontal(id="panels"):
            yield Static(id="temperature", classes="panel")
            yield Static(id="mask", classes="panel")
            yield Static(id="entrant", classes="panel")
        yield Static(id="counts")
        yield Static(id="retests")
        yield DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        yield Input(id="entrant-input")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self._duty("#recent", DataTable)
        table.add_columns("时间 time", "结果 decision", "°C", "口罩 mask", "人员 entrant")
        self.title = f"{t('ui.title', self.language)} · {self.station.config.gate_name}"
        self.sub_title = self.station.config.station_id
        self._render_all()
        self._duty("#entrant-input", Input).focus()
        self.load_counts()
        self.set_interval(5, self._idle_check)
        self.set_interval(1, self._render_retests)
        if self.station.config.upstream_url:
            self.check_sync()
            self.set_interval(15, self.check_sync)
        if self.sensor_config is not None:
            self.check_calibration()
            self.set_interval(60, self.check_calibration)
        if self.sensor_config is not None:
            self.watch_sensor()

    def on_unmount(self) -> None:
        self._shutting_down = True
        self._stop.set()

    # -- workers: slow work off the UI thread, results back as messages ---------------------------------------------
    @work(thread=True, exclusive=True, group="sensor")
    def watch_sensor(self) -> None:
        self.station.run(
            self.sensor_config,
            self._stop,
            on_screening=lambda s: self.post_message(ScreeningDecided(s)),
            on_health=lambda ev: self.post_message(SensorHealthChanged(ev)),
            on_log_failure=lambda f: self.post_message(LogFailed(f)),
            entrant=self._take_entrant,
            sensor=self._sensor,
            # 14 samples a second are only worth a message while the maintenance screen shows them.
            on_sample=lambda sample: self.want_samples and self.post_message(SampleSeen(sample)),
        )

    @work(thread=True, exclusive=True, group="db")
    def load_counts(self) -> None:
        try:
            self.post_message(CountsLoaded(self.station.log.day_counts()))
            self.post_message(UsersChecked(self.auth.has_users()))
        except LogError as exc:
            self.post_message(ActionFailed(str(exc)))

    @work(thread=True, exclusive=True, group="auth")
    def check_sign_in(self, name: str, pin: str, action: str) -> None:
        try:
            self.post_message(SignedIn(self.auth.check(name, pin, action), action))
        except (AuthError, LogError) as exc:
            self.post_message(SignInFailed(str(exc), action))

    @work(thread=True, group="actions")
    def store_manual(self, text: str, reason: str, previous: Screening | None) -> None:
        try:
            reading = manual_reading(text, operator=self.operator, reason=reason)
        except ManualEntryError as exc:
            self.post_message(ActionFailed(str(exc)))
            return
        try:
            if previous is not None:
                s = self.station.retest(previous, reading, operator=self.operator)
            else:
                s = self.station.screen([reading], self.station.mask_source.current(),
                                        entrant_id=self._take_entrant(), operator=self.operator)
        except LogError as exc:
            self.post_message(LogFailed(LogFailure(str(exc), reading)))
            return
        self.post_message(ScreeningDecided(s))

    @work(thread=True, group="actions")
    def store_mask(self, previous: Screening, state: MaskState) -> None:
        try:
            s = self.station.confirm_mask(previous, state, operator=self.operator)
        except LogError as exc:
            self.post_message(LogFailed(LogFailure(str(exc), previous.reading)))
            return
        self.post_message(ScreeningDecided(s))

    @work(thread=True, group="calibration")
    def store_calibration(self, record) -> None:
        from storage import calibrations

        try:
            calibrations.save(self.station.log, record, self.station.config.station_id)
        except LogError as exc:
            self.post_message(ActionFailed(str(exc)))
            return
        self.station.forget_calibration_cache()
        self.post_message(CalibrationSaved(record))

    @work(thread=True, exclusive=True, group="calibration-state")
    def check_calibration(self) -> None:
        self.station.forget_calibration_cache()
        st = self.station.sensor_status(self.sensor_config)
        self.post_message(CalibrationState(st.reason or st.warn, st.usable))

    @work(thread=True, exclusive=True, group="sync-state")
    def check_sync(self) -> None:
        from storage.sync import Sync

        st = Sync(self.station.log, self.station.config.upstream_url).status()  # local counts only: no network
        text = f"sync: {st['pending']} pending" + (f", {st['quarantined']} quarantined" if st["quarantined"] else "")
        if st["last_error"]:
            text += " ⚠ upstream unreachable"
        self.post_message(SyncState(text))

    @_while_shown
    def on_sync_state(self, msg: SyncState) -> None:
        self.sync_text = msg.text
        self._render_status()

    @_while_shown
    def on_calibration_state(self, msg: CalibrationState) -> None:
        self.calibration_text, self.calibration_usable = msg.text, msg.usable
        self._render_status()

    @work(thread=True, exclusive=True, group="calibration-history")
    def load_calibrations(self, sensor_key: str) -> None:
        from storage import calibrations

        records = calibrations.records(self.station.log, sensor_key, limit=50)
        status = self.station.sensor_status(self.sensor_config) if self.sensor_config else None
        text = "" if status is None else (status.reason or status.warn or (
            f"due {time.strftime('%Y-%m-%d', time.localtime(status.calibration.due))}"
            if status.calibration and status.calibration.due else "not calibrated"))
        self.post_message(CalibrationHistory(records, text))

    @_while_shown
    def on_calibration_history(self, msg: CalibrationHistory) -> None:
        if isinstance(self.screen, MaintenanceScreen):
            self.screen.show_history(msg.records, msg.status_text)

    # -- day view and auditor ----------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="day")
    def load_day(self) -> None:
        from storage import reports
        from storage.log import local_day

        day = local_day(time.time())
        try:
            self.post_message(DayLoaded(reports.daily(self.station.log, day, self.station.config.station_id),
                                        reports.day_profile(self.station.log, day)))
        except LogError as exc:
            self.post_message(ActionFailed(str(exc)))

    @_while_shown
    def on_day_loaded(self, msg: DayLoaded) -> None:
        if isinstance(self.screen, DayView):
            self.screen.show(msg.report, msg.profile, self.language, self.station.config.threshold_c)

    @work(thread=True, exclusive=True, group="auditor-page")
    def load_page(self, filters: dict, offset: int, limit: int) -> None:
        from storage import reports

        try:
            total, rows = reports.query(self.station.log, offset=offset, limit=limit, **filters)
        except Exception as exc:  # noqa: BLE001 - a bad filter is shown to the auditor, not raised
            self.post_message(AuditorResult(f"search failed: {exc}", False))
            return
        self.post_message(PageLoaded(total, rows))

    @_while_shown
    def on_page_loaded(self, msg: PageLoaded) -> None:
        if isinstance(self.screen, AuditorScreen):
            self.screen.show_page(msg.total, msg.rows)

    @work(thread=True, exclusive=True, group="export")
    def run_export(self, date_from: str, date_to: str, fmt: str, out: str, identified: bool) -> None:
        from storage.export import ExportError, export

        if identified and (self.user is None and self.users_exist or self.user and self.user.role != "auditor"):
            self.post_message(AuditorResult("an identified export needs an auditor's sign-in (F7)", False))
            return
        try:
            m = export(self.station.log, date_from=date_from, date_to=date_to, fmt=fmt, out_dir=out,
                       identified=identified, actor=self.operator, station_id=self.station.config.station_id,
                       language=self.language, progress=lambda d, n: self.post_message(ExportProgress(d, n)))
        except (ExportError, LogError, OSError) as exc:
            self.post_message(AuditorResult(f"export refused: {exc}", False))
            return
        self.post_message(AuditorResult(f"exported {m['rows']} rows to {out} (manifest.json beside them)", True))

    @work(thread=True, exclusive=True, group="verify")
    def run_verify(self) -> None:
        from storage import audit

        v, a = self.station.log.verify(), audit.verify(self.station.log)
        if v.ok and a.ok:
            self.post_message(AuditorResult(f"log verifies: {v.rows} screenings, {a.rows} audit events", True))
        else:
            bad = v if not v.ok else a
            self.post_message(AuditorResult(f"BROKEN at row {bad.bad_seq}: {bad.detail}", False))

    @_while_shown
    def on_export_progress(self, msg: ExportProgress) -> None:
        if isinstance(self.screen, AuditorScreen):
            self.screen.progress(msg.done, msg.total)

    @_while_shown
    def on_auditor_result(self, msg: AuditorResult) -> None:
        if isinstance(self.screen, AuditorScreen):
            self.screen.result(("✔ " if msg.ok else "✖ ") + msg.text)
        self.notify(msg.text, severity="information" if msg.ok else "error")

    def action_visitor(self) -> None:
        s = self.latest
        if s is None or not s.entrant_id or "visitor-not-approved" not in s.reasons:
            self.notify("no refused visitor to register (scan the visitor's id first)", severity="warning")
            return

        def done(fields) -> None:
            if fields:
                self.register_visitor(s.entrant_id, fields)
            else:
                self.record_refusal(s.entrant_id)

        self._as_operator("visitor-add", lambda: self.push_screen(VisitorForm(s.entrant_id), done))

    @work(thread=True, group="visitor")
    def register_visitor(self, visitor_id: str, fields: dict) -> None:
        from storage.log import local_day
        from storage.roster import RosterError, Visitor, add_visitor

        try:
            add_visitor(self.station.log, Visitor(visitor_id, fields["name"], fields["phone"], fields["reason"],
                                                  fields["host"], local_day(time.time())),
                        station_id=self.station.config.station_id, actor=self.operator)
        except (RosterError, LogError) as exc:
            self.post_message(ActionFailed(str(exc)))
            return
        self.post_message(AuditorResult(f"visitor {visitor_id} registered for today: measure again", True))

    @work(thread=True, group="visitor")
    def record_refusal(self, visitor_id: str) -> None:
        from storage import audit

        audit.record(self.station.log, self.station.config.station_id, self.operator, "visitor-refused",
                     {"visitor_id": visitor_id})

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_day_view(self) -> None:
        self.push_screen(DayView())

    def action_auditor(self) -> None:
        # Screenings with entrant ids are personal data: the auditor screen needs an auditor (or no users yet).
        self._as_operator("export-identified", lambda: self.push_screen(AuditorScreen(self.operator)))

    def get_system_commands(self, screen):
        from textual.app import SystemCommand

        yield from super().get_system_commands(screen)
        yield SystemCommand("Manual reading / 手测", "Type a temperature from a handheld thermometer", self.action_manual)
        yield SystemCommand("Today / 今日", "Counts by hour, temperatures, zero report", self.action_day_view)
        yield SystemCommand("Auditor / 审计", "Search, export and verify the log", self.action_auditor)
        yield SystemCommand("Maintenance / 维护", "Live readings and calibration", self.action_maintenance)
        yield SystemCommand("Language / 语言", "Switch between 中文 and English", self.action_language)
        yield SystemCommand("Sign in / 登录", "Sign in or switch role", self.action_sign_in)
        yield SystemCommand("Help / 帮助", "Keys of the duty screen", self.action_help)

    def _duty(self, selector: str, kind=None):
        """A widget of the duty screen, even while another screen (maintenance, a form) is on top."""
        from textual.css.query import NoMatches

        if not self.screen_stack:
            raise NoMatches("the duty screen is closed")
        base = self.screen_stack[0]
        return base.query_one(selector, kind) if kind else base.query_one(selector)

    def _take_entrant(self) -> str | None:
        entrant, self.pending_entrant = self.pending_entrant, None
        return entrant

    # -- messages ---------------------------------------------------------------------------------------------------
    @_while_shown
    def on_screening_decided(self, msg: ScreeningDecided) -> None:
        s = msg.screening
        self.log_error = ""
        self.counts[s.decision.value] = self.counts.get(s.decision.value, 0) + 1
        if s.follows is None:
            self.counts["screened"] += 1
        self.decisions_shown += 1
        self.latest = s
        began = time.time()
        if s.follows in self.open_retests:
            began = self.open_retests.pop(s.follows)[1]
        if s.decision is Decision.RETEST:
            self.open_retests[s.id] = (s, began if s.follows else s.created_at)
        self._render_retests()
        table = self._duty("#recent", DataTable)
        temp = "—" if s.temperature_c is None else f"{s.temperature_c:.1f}"
        table.add_row(time.strftime("%H:%M:%S", time.localtime(s.created_at)),
                      f"{SYMBOL[s.decision]} {t('decision.' + s.decision.value, self.language)}",
                      temp, s.mask.state.value, s.entrant_id or "—", key=s.id)
        if table.row_count > RECENT_ROWS:
            table.remove_row(next(iter(table.rows)))
        table.move_cursor(row=table.row_count - 1)
        if s.decision is Decision.DENY and self.station.config.deny_bell:
            self.bell()
        if "visitor-not-approved" in s.reasons and s.entrant_id and not isinstance(self.screen, VisitorForm):
            self.action_visitor()  # ask at once: register the visitor, or Esc to refuse

    @_while_shown
    def on_sample_seen(self, msg: SampleSeen) -> None:
        if isinstance(self.screen, MaintenanceScreen):
            self.screen.add_sample(msg.sample.object_c)

    @_while_shown
    def on_calibration_saved(self, msg: CalibrationSaved) -> None:
        record = msg.record
        self.notify(f"calibration {record.result}: saved", severity="information" if record.result == "pass"
                    else "error")
        if isinstance(self.screen, MaintenanceScreen):
            self.load_calibrations(record.sensor)
        self.check_calibration()

    def action_maintenance(self) -> None:
        if self.sensor_config is None:
            self.notify("no sensor configured", severity="warning")
            return
        self._as_operator("calibrate", lambda: self.push_screen(
            MaintenanceScreen(self.station.sensor_key(self.sensor_config), self.operator)))

    @_while_shown
    def on_sensor_health_changed(self, msg: SensorHealthChanged) -> None:
        self.health = msg.event.health.value
        self.health_reason = msg.event.reason
        if msg.event.health in (Health.FAULT, Health.OFFLINE) and not isinstance(self.screen, (ManualEntry, SignIn)):
            self.notify(t("reason.sensor-fault", self.language, detail=msg.event.reason), severity="error",
                        timeout=6)
            # Offer manual entry at once: the queue at the gate does not wait for the sensor to come back.
            self.action_manual(reason="sensor-fault")

    @_while_shown
    def on_log_failed(self, msg: LogFailed) -> None:
        self.log_error = msg.failure.error
        self.bell()

    @_while_shown
    def on_counts_loaded(self, msg: CountsLoaded) -> None:
        self.counts = {**self.counts, **msg.counts}
        self._render_counts()

    @_while_shown
    def on_action_failed(self, msg: ActionFailed) -> None:
        self.notify(msg.error, severity="error", timeout=8)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "entrant-input":
            return
        value = event.value.strip()
        event.input.value = ""
        if not value:
            return
        if len(value) > 64 or not value.isprintable():
            self.notify("entrant id: up to 64 printable characters", severity="error")
            return
        self.pending_entrant = value
        self._render_panels()

    # -- signing in -------------------------------------------------------------------------------------------------
    def _signed_in_for(self, action: str) -> bool:
        if not self.users_exist:
            return True  # a new station without users works at once; `gate users add` turns PINs on
        return self.user is not None and self.user.role in RIGHTS[action]

    def _as_operator(self, action: str, then) -> None:
        """Run ``then`` now if the signed-in user may do ``action``; else ask for name and PIN first."""
        self.last_activity = time.monotonic()
        if self._signed_in_for(action):
            then()
            return
        self._pending = (action, then)
        self.push_screen(SignIn(action), lambda creds: creds and self.check_sign_in(creds[0], creds[1], action))

    @_while_shown
    def on_signed_in(self, msg: SignedIn) -> None:
        self.user = msg.user
        self.operator = msg.user.name
        self.last_activity = time.monotonic()
        self._render_status()
        pending, self._pending = self._pending, None
        if pending and pending[0] == msg.action:
            pending[1]()

    def on_sign_in_failed(self, msg: SignInFailed) -> None:
        self._pending = None
        self.notify(msg.error, severity="error", timeout=8)

    @_while_shown
    def on_users_checked(self, msg: UsersChecked) -> None:
        self.users_exist = msg.exist
        self._render_status()

    def on_key(self) -> None:
        self.last_activity = time.monotonic()

    def _idle_check(self) -> None:
        idle_s = self.station.config.security.idle_logout_minutes * 60
        if self.user is not None and time.monotonic() - self.last_activity > idle_s:
            self.user = None
            self.operator = "—"
            while len(self.screen_stack) > 1:
                self.pop_screen()
            self.notify("已自动退出登录 / signed out after inactivity", timeout=6)
            self._render_status()

    def action_sign_in(self) -> None:
        self.user = None
        self._as_operator("switch-role", lambda: self.notify(f"{self.operator}: {self.user.role if self.user else ''}"))

    # -- actions ----------------------------------------------------------------------------------------------------
    def action_manual(self, reason: str | None = None) -> None:
        self._as_operator("manual-entry", lambda: self._open_manual(reason))

    def _open_manual(self, reason: str | None = None) -> None:
        # Only retests that need a temperature (fever, cold) and have rested are a sensible default; a mask question
        # is answered with F3/F4, not with a new reading.
        ready = [s for s, began in sorted(self.open_retests.values(), key=lambda v: v[1])
                 if self._needs_rest(s) and self._wait_left(s, began) <= 0]
        options = [(self._retest_label(s, began), s.id)
                   for s, began in sorted(self.open_retests.values(), key=lambda v: v[1])]
        default = ready[0] if ready else None  # the person who has rested longest, else a new person

        def done(result) -> None:
            if result:
                text, reason, target = result
                previous = self.open_retests.get(target, (None, 0))[0] if target else None
                self.store_manual(text, reason, previous)

        self.push_screen(ManualEntry(self.language, default, options, reason=reason), done)

    @staticmethod
    def _needs_rest(s: Screening) -> bool:
        return bool({"fever-suspected", "ambient-too-cold", "reading-too-low"} & set(s.reasons))

    def _wait_left(self, s: Screening, began: float) -> float:
        """Seconds until a retest may be measured: people rest first (fever, cold); a mask question needs no rest."""
        wait = self.station.config.retest_wait_minutes * 60 if self._needs_rest(s) else 0
        return began + wait - time.time()

    def _retest_label(self, s: Screening, began: float) -> str:
        left = self._wait_left(s, began)
        when = "ready / 可复测" if left <= 0 else f"{int(left // 60):02d}:{int(left % 60):02d}"
        temp = "—" if s.temperature_c is None else f"{s.temperature_c:.1f} °C"
        return f"{s.entrant_id or time.strftime('%H:%M', time.localtime(began))} {temp} {when}"

    @_while_shown
    def _render_retests(self) -> None:
        if not self.is_mounted:
            return
        items = sorted(self.open_retests.values(), key=lambda v: v[1])
        text = ("↻ " + t("ui.retests", self.language) + ": " + " · ".join(self._retest_label(s, b)
                                                                           for s, b in items[:6])) if items else ""
        self._duty("#retests", Static).update(text)

    def _confirm_mask(self, state: MaskState) -> None:
        s = self.latest
        if s is None:
            self.notify("no screening to confirm yet", severity="warning")
            return
        self._as_operator("override", lambda: self.store_mask(s, state))

    def action_mask_yes(self) -> None:
        self._confirm_mask(MaskState.YES)

    def action_mask_no(self) -> None:
        self._confirm_mask(MaskState.NO)

    def action_language(self) -> None:
        self.language = "en" if self.language == "zh-CN" else "zh-CN"

    # -- rendering --------------------------------------------------------------------------------------------------
    def watch_language(self) -> None:
        if self.is_mounted:
            self.title = f"{t('ui.title', self.language)} · {self.station.config.gate_name}"
            self._render_all()

    def watch_latest(self) -> None:
        if self.is_mounted:
            self._render_all()

    def watch_health(self) -> None:
        if self.is_mounted:
            self._render_status()
            self._render_panels()

    def watch_log_error(self) -> None:
        if self.is_mounted:
            self._render_all()

    @_while_shown
    def _render_all(self) -> None:
        self._render_banner()
        self._render_panels()
        self._render_counts()
        self._render_status()
        self._duty("#entrant-input", Input).placeholder = (
            "扫码或输入人员编号后回车 / scan or type the entrant id, then Enter")

    @_while_shown
    def _render_banner(self) -> None:
        banner = self._duty("#banner", Static)
        message = self._duty("#message", Static)
        lang = self.language
        banner.remove_class("admit", "deny", "retest", "waiting", "failure")
        if self.log_error:
            banner.add_class("failure")
            banner.update("⚠  LOG FAILURE / 记录失败  ⚠")
            message.update(t("ui.log_failure", lang, error=self.log_error))
            return
        s = self.latest
        if s is None:
            banner.add_class("waiting")
            banner.update(f"…  {t('decision.waiting', lang)}")
            message.update(t("ui.waiting_for_person", lang))
            return
        banner.add_class(s.decision.value)
        other = "en" if lang == "zh-CN" else "zh-CN"
        banner.update(f"{SYMBOL[s.decision]}  {t('decision.' + s.decision.value, lang)}  ·  "
                      f"{t('decision.' + s.decision.value, other)}  {SYMBOL[s.decision]}")
        message.update(s.message if lang == self.station.language else self.station.message_in(s, lang))

    @_while_shown
    def _render_panels(self) -> None:
        lang = self.language
        s = self.latest
        temp = self._duty("#temperature", Static)
        mask = self._duty("#mask", Static)
        entrant = self._duty("#entrant", Static)
        if s is None or s.reading is None:
            temp.update(f"{t('ui.temperature', lang)}\n—")
        else:
            r = s.reading
            source = t("ui.manual", lang) if r.is_manual else r.source
            amb = "" if r.ambient_c is None else f" · {t('ui.ambient', lang)} {r.ambient_c:.1f} °C"
            temp.update(f"{t('ui.temperature', lang)}: [b]{r.value_c:.1f} °C[/b]\n{t('ui.source', lang)}: {source}{amb}")
        state = s.mask.state if s else MaskState.UNKNOWN
        who = f" ({s.mask.source})" if s and s.mask.source not in ("none",) else ""
        mask.update(f"{t('ui.mask', lang)}\n{t('ui.mask_' + state.value, lang)}{who}\nF3 ✔ / F4 ✖")
        shown = s.entrant_id if s and s.entrant_id else t("ui.anonymous", lang)
        nxt = f"\n→ {self.pending_entrant}" if self.pending_entrant else ""
        entrant.update(f"{t('ui.entrant', lang)}\n{shown}{nxt}")

    @_while_shown
    def _render_counts(self) -> None:
        lang, c = self.language, self.counts
        self._duty("#counts", Static).update(
            f"{t('ui.today', lang)}: {t('ui.screened', lang)} {c['screened']} · ✔ {t('ui.admitted', lang)} "
            f"{c['admit']} · ✖ {t('ui.denied', lang)} {c['deny']} · ↻ {t('ui.retests', lang)} {c['retest']}")

    @_while_shown
    def _render_status(self) -> None:
        status = self._duty("#status", Static)
        lang = self.language
        sensor = self.sensor_config.id if self.sensor_config else "—"
        log = "log OK" if not self.log_error else "LOG FAILURE"
        status.set_class(self.health not in ("ok",) and self.sensor_config is not None or bool(self.log_error),
                         "problem")
        extra = "  F2 = 手测 / manual entry" if self.health in ("fault", "offline") else ""
        who = (f"{self.user.name} ({self.user.role})" if self.user else "未登录 / not signed in") if self.users_exist \
            else "no users: PINs off"
        cal = ""
        if self.calibration_text:
            cal = (" · ⚠ " if self.calibration_usable else " · ✖ ") + self.calibration_text
        status.set_class(bool(status.has_class("problem") or not self.calibration_usable), "problem")
        status.update(f"{t('ui.sensor', lang)} {sensor}: {self.health} {self.health_reason}{cal} · {log} · "
                      f"{self.sync_text} · {who}{extra}")


def build_app(config: Config, log: ScreeningLog, *, sensor_config: SensorConfig | None = None,
              sensor: Sensor | None = None, mask_source: MaskSource | None = None, operator: str | None = None,
              language: str | None = None, show_clock: bool = True) -> GateApp:
    """The one factory for the CLI and the tests (``show_clock=False`` makes screenshots repeatable)."""
    station = Station(config, log, mask_source=mask_source, language=language)
    return GateApp(station, sensor_config=sensor_config, sensor=sensor, operator=operator, show_clock=show_clock)
