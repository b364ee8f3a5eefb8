"""The duty screen: the banner, the reading panels, today's counts, the retest queue, recent decisions, the status bar.

It owns the workers that feed it (the sensor loop, stores of manual readings and mask confirmations, counts, sync and
calibration state); they talk back only with messages, and Textual cancels them when the screen goes away.
"""
from __future__ import annotations

import threading
from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input

from domain import Decision, Health, ManualReason, MaskState, Reason, Screening
from domain.identifiers import ID_MAX, IdentifierError, check_id
from drivers.manual import manual_reading
from drivers.sensor import Sensor
from gate.config import SensorConfig
from gate.i18n import t
from gate.retests import RetestQueue
from gate.followup import open_count
from gate.school_day import close_out, cluster_alerts, session_state
from gate.log_failure import LogFailure
from gate.station import Station
from gate.station_policy import PolicyNotStored
from gate.ui.feed import SampleFeed
from gate.ui.messages import (
    CalibrationState,
    CountsLoaded,
    LogFailed,
    Notice,
    ScreeningDecided,
    SensorHealthChanged,
    SessionLoaded,
    CasesState,
    SyncState,
    UsersChecked,
)
from gate.ui.screens.base import ShowsWorkerFailures
from gate.ui.screens.fault_offer import OffersManualEntry
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn
from gate.ui.screens.visitor import VisitorForm
from gate.ui.widgets.banner import Banner
from gate.ui.widgets.counts import EMPTY, DayCounts
from gate.ui.widgets.message import DecisionMessage
from gate.ui.widgets.panels import ReadingPanels
from gate.ui.widgets.recent import RecentTable
from gate.ui.widgets.retest_queue import RetestQueueView, label
from gate.ui.widgets.session_progress import SessionProgress
from gate.ui.widgets.status_bar import NO_USERS, NOT_SIGNED_IN, StatusBar
from storage import audit
from storage.log import LogError, local_day
from storage.roster import Visitor, add_visitor

MAX_ENTRANT_ID = ID_MAX


class DutyScreen(OffersManualEntry, ShowsWorkerFailures, Screen):
    latest: reactive[Screening | None] = reactive(None)
    log_error: reactive[str] = reactive("")
    language: reactive[str] = reactive("zh-CN")
    health: reactive[str] = reactive(Health.OFFLINE.value)
    health_reason: reactive[str] = reactive("")
    pending_entrant: reactive[str | None] = reactive(None)
    counts: reactive[dict] = reactive(lambda: dict(EMPTY))
    calibration_text: reactive[str] = reactive("")
    calibration_usable: reactive[bool] = reactive(True)
    sync_text: reactive[str] = reactive("")
    who: reactive[str] = reactive("")
    cases_text: reactive[str] = reactive("")
    alert_text: reactive[str] = reactive("")

    def __init__(self, station: Station, *, sensor_config: SensorConfig | None, sensor: Sensor | None,
                 clock: Callable[[], float]):
        super().__init__()
        self.station = station
        self.sensor_config = sensor_config
        self._sensor = sensor
        self.clock = clock
        self.samples = SampleFeed()
        self.retests = RetestQueue(station.config.retest_wait_minutes)
        self.decisions_shown = 0
        self._stop = threading.Event()
        self._entrant_lock = threading.Lock()
        self._next_entrant: str | None = None
        self._confirming: set[str] = set()  # screenings whose mask confirmation is being stored
        self.set_reactive(DutyScreen.sync_text, "sync …" if station.config.upstream_url else "sync off")

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        yield Banner(id="banner", classes="waiting").data_bind(DutyScreen.latest, DutyScreen.log_error,
                                                               DutyScreen.language)
        yield DecisionMessage(self._message_for, id="message").data_bind(DutyScreen.latest, DutyScreen.log_error,
                                                                          DutyScreen.language)
        yield ReadingPanels(id="panels").data_bind(DutyScreen.latest, DutyScreen.language,
                                                   DutyScreen.pending_entrant)
        yield DayCounts(id="counts").data_bind(DutyScreen.counts, DutyScreen.language)
        yield SessionProgress(id="session").data_bind(DutyScreen.language)
        yield RetestQueueView(self.retests, self.clock, id="retests").data_bind(DutyScreen.language)
        yield RecentTable(id="recent")
        yield Input(id="entrant-input", placeholder="扫码或输入人员编号后回车 / scan or type the entrant id, then Enter")
        status = StatusBar(id="status").data_bind(
            DutyScreen.health, DutyScreen.health_reason, DutyScreen.log_error, DutyScreen.language,
            DutyScreen.calibration_text, DutyScreen.calibration_usable, DutyScreen.sync_text, DutyScreen.who,
            DutyScreen.cases_text, DutyScreen.alert_text)
        status.sensor = self.sensor_config.id if self.sensor_config else "—"
        yield status
        yield Footer()

    def _follow_app(self, _value=None) -> None:
        app = self.app
        self.language = app.language
        self.who = ((f"{app.user.name} ({app.user.role})" if app.user else NOT_SIGNED_IN)
                    if app.users_exist else NO_USERS)

    def _message_for(self, s: Screening, language: str) -> str:
        return s.message if language == self.station.language else self.station.message_in(s, language)

    def on_mount(self) -> None:
        for name in ("language", "user", "users_exist"):
            self.watch(self.app, name, self._follow_app)
        self.query_one("#entrant-input", Input).focus()
        if self.station.policy_refusal is not None:  # at once, before anyone stands at the gate
            self.log_error = str(self.station.policy_refusal)
        self.watch_for_faults()
        self.load_counts()
        self.load_session()
        self.set_interval(15, self.load_session)
        self.check_cases()
        self.set_interval(60, self.check_cases)
        if self.station.config.upstream_url:
            self.check_sync()
            self.set_interval(15, self.check_sync)
        if self.sensor_config is not None:
            self.check_calibration()
            self.set_interval(60, self.check_calibration)
            self.watch_sensor()

    def on_unmount(self) -> None:
        self._stop.set()  # the sensor loop is a thread: cancelling its worker alone would not end it

    # -- workers: slow work off the UI thread, results back as messages ---------------------------------------------
    @work(thread=True, exclusive=True, group="sensor", exit_on_error=False, name="reading the sensor")
    def watch_sensor(self) -> None:
        self.station.run(
            self.sensor_config,
            self._stop,
            on_screening=lambda s: self.post_message(ScreeningDecided(s)),
            on_health=lambda ev: self.post_message(SensorHealthChanged(ev)),
            on_log_failure=lambda f: self.post_message(LogFailed(f)),
            entrant=self.take_entrant,
            sensor=self._sensor,
            on_sample=self.samples,
        )

    @work(thread=True, exclusive=True, group="db", exit_on_error=False, name="loading today's counts")
    def load_counts(self) -> None:
        self.post_message(CountsLoaded(self.station.log.day_counts(local_day(self.clock()))))  # the station's day
        self.post_message(UsersChecked(self.app.auth.has_users()))

    @work(thread=True, exclusive=True, group="session", exit_on_error=False, name="loading the session")
    def load_session(self) -> None:
        self.post_message(SessionLoaded(session_state(self.station.log, self.station.sessions, self.clock())))

    @work(thread=True, exclusive=True, group="cases", exit_on_error=False, name="checking the follow-up cases")
    def check_cases(self) -> None:
        """Close out the sessions that ended (their cases open), then count the open cases and the clusters."""
        cfg, now = self.station.config, self.clock()
        close_out(self.station.log, cfg, now)
        self.post_message(CasesState(open_count(self.station.log),
                                     cluster_alerts(self.station.log, cfg, local_day(now), school=True)))

    @work(thread=True, group="actions", exit_on_error=False, name="storing the manual reading")
    def store_manual(self, text: str, reason: str, previous: Screening | None, operator: str,
                     entrant: str | None) -> None:
        reading = manual_reading(text, operator=operator, reason=reason)
        try:
            if previous is not None:
                s = self.station.retest(previous, reading, operator=operator)
            else:
                s = self.station.screen([reading], self.station.mask_source.current(), entrant_id=entrant,
                                        operator=operator)
        except (LogError, PolicyNotStored) as exc:
            self.post_message(LogFailed(LogFailure(str(exc), reading)))
            return
        self.post_message(ScreeningDecided(s))

    @work(thread=True, group="actions", exit_on_error=False, name="storing the mask confirmation")
    def store_mask(self, previous: Screening, state: MaskState, operator: str) -> None:
        try:
            s = self.station.confirm_mask(previous, state, operator=operator)
        except (LogError, PolicyNotStored) as exc:
            self.post_message(LogFailed(LogFailure(str(exc), previous.reading)))
            return
        self.post_message(ScreeningDecided(s))

    @work(thread=True, exclusive=True, group="calibration-state", exit_on_error=False,
          name="checking the calibration")
    def check_calibration(self) -> None:
        self.station.forget_calibration_cache()
        st = self.station.sensor_status(self.sensor_config)
        self.post_message(CalibrationState(st.reason or st.warn, st.usable))

    @work(thread=True, exclusive=True, group="sync-state", exit_on_error=False, name="checking the sync")
    def check_sync(self) -> None:
        from storage.sync import Sync  # 0.5 s of imports, paid only by a station with an upstream
        from storage.sync_known import FIRST_SYNC

        st = Sync(self.station.log, self.station.config.upstream_url).status()  # local counts only: no network
        text = f"sync: {st['pending']} pending" + (f", {st['quarantined']} quarantined" if st["quarantined"] else "")
        if st["last_error"] and st["last_error"].startswith(FIRST_SYNC):
            text += " ⚠ an admin must sign in for the first sync (gate sync --user NAME)"
        elif st["last_error"]:
            text += " ⚠ upstream unreachable"
        self.post_message(SyncState(text))

    @work(thread=True, group="visitor", exit_on_error=False, name="registering the visitor")
    def register_visitor(self, visitor_id: str, fields: dict, operator: str, day: str) -> None:
        add_visitor(self.station.log, Visitor(visitor_id, fields["name"], fields["phone"], fields["reason"],
                                              fields["host"], day),
                    station_id=self.station.config.station_id, actor=operator)
        self.post_message(Notice(f"visitor {visitor_id} registered for today: measure again", True))

    @work(thread=True, group="visitor", exit_on_error=False, name="recording the refusal")
    def record_refusal(self, visitor_id: str, operator: str) -> None:
        audit.record(self.station.log, self.station.config.station_id, operator, "visitor-refused",
                     {"visitor_id": visitor_id})

    # -- results ----------------------------------------------------------------------------------------------------
    def on_screening_decided(self, msg: ScreeningDecided) -> None:
        s = msg.screening
        self._confirming.discard(s.follows)
        self.log_error = ""
        counts = dict(self.counts)
        counts[s.decision.value] = counts.get(s.decision.value, 0) + 1
        if s.follows is None:
            counts["screened"] += 1
        self.counts = counts
        self.decisions_shown += 1
        self.pending_entrant = self._next_entrant
        self.latest = s
        self.retests.record(s, self.clock())
        self.query_one(RetestQueueView).changes += 1
        self.query_one(RecentTable).add_screening(s, self.language)
        if s.entrant_id:
            self.load_session()
        if s.decision is Decision.DENY and self.station.config.deny_bell:
            self.app.bell()
        if self.app.screen is not self and not isinstance(self.app.screen, ModalScreen):  # the banner is hidden
            self.notify(t("ui.decided_elsewhere", self.language, decision=t(f"decision.{s.decision.value}",
                        self.language), id=s.entrant_id or "—", message=self._message_for(s, self.language)),
                        severity="information" if s.decision is Decision.ADMIT else "error", timeout=20)
        if Reason.VISITOR_NOT_APPROVED in s.reasons and s.entrant_id and not isinstance(self.app.screen, VisitorForm):
            self.app.action_visitor()  # ask at once: register the visitor, or Esc to refuse

    def on_log_failed(self, msg: LogFailed) -> None:
        self.log_error = msg.failure.error
        self._confirming.clear()  # nothing stored: F3 may be pressed again
        self.pending_entrant = self._next_entrant
        self.app.bell()

    def on_counts_loaded(self, msg: CountsLoaded) -> None:
        self.counts = {**self.counts, **msg.counts}

    def on_cases_state(self, msg: CasesState) -> None:
        first = msg.alerts[0] if msg.alerts else None
        self.alert_text = f"⚠ 聚集 cluster {first.class_name} {first.symptom}" + (
            f" +{len(msg.alerts) - 1}" if len(msg.alerts) > 1 else "") if first else ""
        self.cases_text = f"追踪 open {msg.open_count}"
        if msg.alerts and not getattr(self, "_alerts_told", None) == [a.to_dict() for a in msg.alerts]:
            self._alerts_told = [a.to_dict() for a in msg.alerts]
            self.notify("\n".join(a.line() for a in msg.alerts) + "\n→ report within 24 h (gate report alerts)",
                        severity="error", timeout=30)

    def on_session_loaded(self, msg: SessionLoaded) -> None:
        self.query_one(SessionProgress).state = msg.state

    def on_users_checked(self, msg: UsersChecked) -> None:
        self.app.users_exist = msg.exist

    def on_sync_state(self, msg: SyncState) -> None:
        self.sync_text = msg.text

    def on_calibration_state(self, msg: CalibrationState) -> None:
        self.calibration_text, self.calibration_usable = msg.text, msg.usable

    def on_notice(self, msg: Notice) -> None:
        self.notify(msg.text, severity="information" if msg.ok else "error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "entrant-input":
            return
        value = event.value.strip()
        event.input.value = ""
        if not value:
            return
        try:
            value = check_id(value, "entrant id")
        except IdentifierError as exc:  # a scanner can type anything: refuse it, never cut it to a wrong id
            self.notify(f"{exc}; scan again", severity="error")
            return
        self.scanned(value)

    def scanned(self, entrant_id: str) -> None:
        """A checked id scanned here (or into a form over this screen): it goes with the next reading; a card
        waiting unmeasured that it replaces is said, never dropped silently."""
        with self._entrant_lock:
            replaced, self._next_entrant = self._next_entrant, entrant_id
        if replaced and replaced != entrant_id:
            self.notify(t("ui.scan_replaced", self.language, old=replaced, id=entrant_id), severity="warning",
                        timeout=20)
        self.pending_entrant = entrant_id
        self.recall_entrant(entrant_id)

    @work(thread=True, group="recall", exit_on_error=False, name="looking up the person")
    def recall_entrant(self, entrant_id: str) -> None:
        """Say at once, before any reading, that this person is to be sent home (a fever not cleared)."""
        try:
            memory = self.station.remember(entrant_id)
        except LogError as exc:  # the log was edited, or cannot be read: said at once; the screening fails closed
            self.post_message(Notice(f"{entrant_id}: {exc}", False))
            return
        if memory.refused:  # each refusal said: a fever and a hold at another gate are two things to act on
            said = " ".join(t("reason." + code, self.language, **args) for code, args in memory.refusals(self.clock()))
            self.post_message(Notice(f"{entrant_id}: {said}", False))

    def take_entrant(self) -> str | None:
        """The scanned id goes with the next screening only. Called from the sensor thread too, so it does not touch
        the reactive (the panel follows when the decision arrives)."""
        with self._entrant_lock:
            entrant, self._next_entrant = self._next_entrant, None
        return entrant

    # -- staff actions (the app checks the sign-in first) -----------------------------------------------------------
    def open_manual(self, reason: str | None = None) -> None:
        now = self.clock()
        options = [(label(self.retests, w, now), w.screening.id) for w in self.retests.waiting()]
        target = self.retests.default_target(now)
        if reason is None and target is None and self.sensor_config is not None and Health(self.health) is Health.OK:
            reason = ManualReason.OTHER  # F2 beside a working sensor: not a "sensor fault" in the log unless chosen

        def done(result) -> None:
            if result:
                text, why, target, scanned = result
                previous = self.retests.get(target)
                entrant = None if previous else self.take_entrant()
                self.store_manual(text, why, previous, self.app.operator, scanned or entrant)
                if scanned and entrant and entrant != scanned:  # measured someone else: still waiting, not lost
                    self.scanned(entrant)

        self.app.push_screen(ManualEntry(self.language, target, options, reason=reason, on_scan=self.recall_entrant,
                                         waiting=self.pending_entrant), done)

    def latest_or_warn(self) -> Screening | None:
        if self.latest is None:
            self.notify("no screening to confirm yet", severity="warning")
        return self.latest

    def confirm_mask(self, previous: Screening, state: MaskState) -> None:
        # F3 pressed twice is one confirmation: a second row would count the person twice in today's figures.
        if previous.mask.source == "staff" and previous.mask.state is state:
            self.notify(f"mask already confirmed: {state.value}", severity="warning")
        elif previous.id in self._confirming:
            self.notify("mask confirmation being stored …", severity="information")
        else:
            self._confirming.add(previous.id)
            self.store_mask(previous, state, self.app.operator)

    def refused_visitor(self) -> str | None:
        """The id of the visitor the latest screening refused, if that is what it did."""
        s = self.latest
        if s is None or not s.entrant_id or Reason.VISITOR_NOT_APPROVED not in s.reasons:
            self.notify("no refused visitor to register (scan the visitor's id first)", severity="warning")
            return None
        return s.entrant_id

    def ask_visitor(self, visitor_id: str) -> None:
        def done(fields) -> None:
            if fields:
                self.register_visitor(visitor_id, fields, self.app.operator, local_day(self.clock()))
            else:
                self.record_refusal(visitor_id, self.app.operator)

        self.app.push_screen(VisitorForm(visitor_id), done)
