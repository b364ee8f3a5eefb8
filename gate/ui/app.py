"""The station's terminal UI. ``build_app`` is the one factory used by the CLI and the tests.

The app holds what every screen shares (the station, who is signed in, the language, the keys) and opens screens;
the screens own their work (see ``gate/ui/screens/``).
"""
from __future__ import annotations

import getpass
import time
from typing import Callable

from textual import events
from textual.app import App, SystemCommand
from textual.reactive import reactive

from domain import MaskState
from drivers.sensor import Sensor
from gate.auth import Auth
from gate.user import User
from gate.roles import may
from gate.config import Config, SensorConfig
from gate.i18n import normalise, t
from gate.station import MaskSource, Station
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.day import DayView
from gate.ui.screens.duty import DutyScreen
from gate.ui.screens.followup import FollowupScreen
from gate.ui.screens.help import STATION_BINDINGS, HelpScreen
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.signin import SignIn
from gate.ui.drafts import Drafts
from gate.ui.scans import ScanCatcher
from storage.log import ScreeningLog


class GateApp(App):
    CSS_PATH = "gate.tcss"
    BINDINGS = STATION_BINDINGS  # the station's keys work from every screen, as the help screen lists them

    language: reactive[str] = reactive("zh-CN")
    user: reactive[User | None] = reactive(None)  # who is signed in (when the station has users)
    users_exist: reactive[bool] = reactive(False)  # learnt at mount, in a worker of the duty screen

    def __init__(self, station: Station, sensor_config: SensorConfig | None = None, sensor: Sensor | None = None,
                 operator: str | None = None, show_clock: bool = True, clock: Callable[[], float] = time.time):
        super().__init__()
        self.station = station
        self.clock = clock
        self.operator = operator or getpass.getuser()
        self.auth = Auth(station.log, station.config.station_id, station.config.security)
        self.last_activity = clock()
        self.scans = ScanCatcher()  # a card scanned over another screen goes to the gate, never lost
        self.drafts = Drafts()  # forms the idle sign-out closed, kept for the same user
        self._idle_warned = False
        self.show_clock = show_clock  # the clock in a screen's header (off: screenshots that repeat)
        self.duty = DutyScreen(station, sensor_config=sensor_config, sensor=sensor, clock=clock)
        self.set_reactive(GateApp.language, normalise(station.language))

    def get_default_screen(self) -> DutyScreen:
        return self.duty

    def on_mount(self) -> None:
        self.sub_title = self.station.config.station_id
        self.watch_language()
        self.set_interval(5, self._idle_check)

    def watch_language(self) -> None:
        self.title = f"{t('ui.title', self.language)} · {self.station.config.gate_name}"

    # -- signing in -------------------------------------------------------------------------------------------------
    def may(self, action: str) -> bool:
        """Whether the signed-in person may do ``action`` now (anyone may, on a station without users)."""
        if not self.users_exist:
            return True  # a new station without users works at once; `gate users add` turns PINs on
        return self.user is not None and may(self.user.role, action)  # the one table: gate/roles.py

    def _as_operator(self, action: str, then: Callable[[], object], reason: str | None = None) -> None:
        """Run ``then`` now if the signed-in user may do ``action``; else ask for name and PIN first (``reason``:
        why the station asks by itself, e.g. the sensor went to fault; such a sign-in is withdrawn when it is over)."""
        self.last_activity = self.clock()
        if self.may(action):
            then()
            return

        def signed_in(user: User | None) -> None:
            if user is not None:
                self.user, self.operator = user, user.name
                self.last_activity = self.clock()
                then()

        self.push_screen(SignIn(action, self.auth, reason=reason, on_scan=self.duty.scanned), signed_in)

    async def on_event(self, event: events.Event) -> None:
        # Every key reaches the app before any screen or field: the only place that sees a card typed anywhere.
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.last_activity, self._idle_warned = self.clock(), False  # keys typed into a field count too
            if self.scans.key(self, event):
                return
        await super().on_event(event)

    def _idle_check(self) -> None:
        idle_s = self.station.config.security.idle_logout_minutes * 60
        if self.user is None:
            return
        idle = self.clock() - self.last_activity
        if idle > idle_s:
            # A form being filled is kept for the same user; the sign-out and the form's closing are not delayed.
            kept = self.drafts.keep(self.user.name, self.screen_stack[1:])
            self.user = None
            self.operator = "—"
            while len(self.screen_stack) > 1:
                self.pop_screen()
            self.notify("已自动退出登录 / signed out after inactivity" + (
                " — 未完成的表单已为您保留，重新登录后继续 / what you typed is kept for you: sign in again to go on"
                if kept else ""), timeout=10)
        elif idle > idle_s - min(60.0, idle_s / 2) and not self._idle_warned and self.drafts.pending(
                self.screen_stack[1:]):
            self._idle_warned = True
            self.notify(f"{idle_s - idle:.0f} 秒后自动退出登录 / signing out in {idle_s - idle:.0f} s: press any key "
                        "to keep working (what you typed is kept for you)", severity="warning", timeout=10)

    def action_sign_in(self) -> None:
        self.user = None
        self._as_operator("switch-role", lambda: self.notify(f"{self.operator}: {self.user.role if self.user else ''}"))

    # -- the keys ---------------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_manual(self, reason: str | None = None) -> None:
        self._as_operator("manual-entry", lambda: self.duty.open_manual(reason), reason)

    def _confirm_mask(self, state: MaskState) -> None:
        s = self.duty.latest_or_warn()
        if s is not None:
            self._as_operator("override", lambda: self.duty.confirm_mask(s, state))

    def action_mask_yes(self) -> None:
        self._confirm_mask(MaskState.YES)

    def action_mask_no(self) -> None:
        self._confirm_mask(MaskState.NO)

    def action_language(self) -> None:
        self.language = "en" if self.language == "zh-CN" else "zh-CN"

    def action_day_view(self) -> None:
        self.push_screen(DayView())

    def action_auditor(self) -> None:
        # Screenings with entrant ids are personal data: the auditor screen needs an auditor (or no users yet).
        self._as_operator("export-identified", lambda: self.push_screen(AuditorScreen(self.station, self.operator)))

    def action_maintenance(self) -> None:
        sc = self.duty.sensor_config
        if isinstance(self.screen, MaintenanceScreen):
            return  # F9 pressed twice: one maintenance screen (a second would listen to the sensor beside the first)
        if sc is None:
            self.notify("no sensor configured", severity="warning")
            return
        self.duty.offer_when_back()  # leaving it with the sensor still down, the manual form is offered again
        self._as_operator("calibrate", lambda: self.push_screen(
            MaintenanceScreen(self.station, sc, self.duty.samples, self.operator,
                              on_saved=self.duty.check_calibration)))

    def action_visitor(self) -> None:
        visitor_id = self.duty.refused_visitor()
        if visitor_id is not None:
            self._as_operator("visitor-add", lambda: self.duty.ask_visitor(visitor_id))

    def action_followup(self) -> None:
        # Names and classes of pupils: the class teacher (its classes), the school doctor or an admin.
        self._as_operator("followup-list", lambda: self.push_screen(
            FollowupScreen(self.station, self.user if self.users_exist else None, self.operator)))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Manual reading / 手测", "Type a temperature from a handheld thermometer", self.action_manual)
        yield SystemCommand("Today / 今日", "Counts by hour, temperatures, zero report", self.action_day_view)
        yield SystemCommand("Auditor / 审计", "Search, export and verify the log", self.action_auditor)
        yield SystemCommand("Follow-up / 追踪 (F11)", "Open cases of your classes; close one with its outcome",
                            self.action_followup)
        yield SystemCommand("Maintenance / 维护", "Live readings and calibration", self.action_maintenance)
        yield SystemCommand("Language / 语言", "Switch between 中文 and English", self.action_language)
        yield SystemCommand("Sign in / 登录", "Sign in or switch role", self.action_sign_in)
        yield SystemCommand("Help / 帮助", "Keys of the duty screen", self.action_help)


def build_app(config: Config, log: ScreeningLog, *, sensor_config: SensorConfig | None = None,
              sensor: Sensor | None = None, mask_source: MaskSource | None = None, operator: str | None = None,
              language: str | None = None, show_clock: bool = True,
              clock: Callable[[], float] = time.time) -> GateApp:
    """The one factory for the CLI and the tests (``show_clock=False`` makes screenshots repeatable; ``clock`` is
    the wall clock of the station's decisions, the retest countdown and the idle sign-out)."""
    station = Station(config, log, mask_source=mask_source, language=language, clock=clock)
    return GateApp(station, sensor_config=sensor_config, sensor=sensor, operator=operator, show_clock=show_clock,
                   clock=clock)
