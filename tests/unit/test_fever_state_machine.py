"""Any sequence of screenings, retests, mask confirmations, clearances, roster changes and days for one person keeps
the station's two promises (hypothesis state machine over a real log, the station's clock injected):

- nobody whose fever was confirmed and not cleared is admitted;
- nobody is admitted after a reading at or above the threshold without a linked lower retest of that reading.
"""
import shutil
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import Decision, Health, MaskResult, MaskState, Reading
from gate.clearance import clear
from gate.config import Config
from gate.fever_memory import StaleRetest
from gate.station import Station
from storage.clearances import ClearanceRefused
from storage.keys import key_path_for
from storage.log import ScreeningLog, local_day
from storage.roster import Visitor, add_visitor, import_roster

WHO = "P42"
THRESHOLD = 37.3
T0 = time.mktime((2026, 12, 1, 7, 30, 0, 0, 0, -1))
# Around the threshold, where mistakes hurt; plus a cold forehead and an implausible value.
TEMPS = st.one_of(st.sampled_from([37.2, 37.29, 37.3, 37.31, 38.5, 33.0, 44.0]),
                  st.integers(3650, 3850).map(lambda n: n / 100))
MASKS = st.sampled_from([MaskState.YES, MaskState.YES, MaskState.NO, MaskState.UNKNOWN])
SOURCES = st.sampled_from(["manual", "gun-ok", "gun-fault"])


# A real SQLite file with every pragma, in memory-backed storage where there is some: hundreds of examples each
# commit dozens of times, and fsync on a shared disk would make them minutes.
_FAST = "/dev/shm" if Path("/dev/shm").is_dir() else None
_TEMPLATE: list[Path] = []


def _template() -> Path:
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="fever-sm-template-", dir=_FAST)) / "gate.db"
        ScreeningLog(path).close()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def teardown_module() -> None:
    # pytest runs this after the module's tests (atexit did not run under pytest: the templates piled up in /dev/shm).
    while _TEMPLATE:
        shutil.rmtree(_TEMPLATE.pop().parent, ignore_errors=True)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> float:
        self.at += 1.0  # every screening at its own second, so every reading is told apart by its time
        return self.at


class FeverFollowsItsPerson(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="fever-sm-", dir=_FAST))
        shutil.copy(_template(), self.dir / "gate.db")  # migrated once: each example starts from an empty log
        shutil.copy(key_path_for(_template()), key_path_for(self.dir / "gate.db"))  # a log opens only with its key
        self.clock = Clock()
        self.log = ScreeningLog(self.dir / "gate.db")
        self.station = Station(Config(), self.log, language="en", clock=self.clock)
        self.fever_uncleared = False  # the model: a confirmed fever no clearance has answered
        self.pending_high: float | None = None  # ts of a high valid reading not yet answered by a lower linked one
        self.latest = None  # the person's latest screening

    def teardown(self) -> None:
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the readings ----------------------------------------------------------------------------------------------
    def reading(self, temp: float, source: str) -> Reading:
        ts = self.clock.at
        if source == "manual":
            return Reading(object_c=temp, source="manual", operator="li", device_id="clinical-1", ts=ts)
        health = Health.OK if source == "gun-ok" else Health.FAULT
        return Reading(object_c=temp, body_c=temp, source="gun-1", ambient_c=21.0, health=health, ts=ts)

    @staticmethod
    def valid(r: Reading) -> bool:
        return (r.is_manual or r.health is Health.OK) and 34.0 <= round(r.value_c, 2) <= 43.0

    def high(self, r: Reading) -> bool:
        return self.valid(r) and round(r.value_c, 2) >= THRESHOLD

    # -- checking one screening of the person against the model ----------------------------------------------------
    def check(self, s) -> None:
        if self.fever_uncleared:
            assert s.decision is Decision.DENY and "fever-not-cleared" in s.reasons, s
        if self.pending_high is not None:
            # Every later screening of the person carries the unanswered high reading: it follows them.
            assert any(r.ts == self.pending_high for r in s.readings if self.high(r)), s
        if s.decision is Decision.ADMIT:
            last = s.reading
            assert last is not None and self.valid(last) and not self.high(last), s
            assert not self.fever_uncleared
        if "fever-confirmed" in s.reasons:
            self.fever_uncleared, self.pending_high = True, None
        elif s.reading is not None and self.high(s.reading):
            if self.pending_high is None:
                self.pending_high = s.reading.ts
        elif (s.reading is not None and self.valid(s.reading) and s.decision is not Decision.RETEST
              and "fever-suspected" not in s.reasons):
            self.pending_high = None  # a lower linked reading answered it, and the episode closed
        self.latest = s

    # -- rules -----------------------------------------------------------------------------------------------------
    @rule(temp=TEMPS, source=SOURCES, mask=MASKS)
    def screen_the_person(self, temp, source, mask):
        s = self.station.screen([self.reading(temp, source)], MaskResult(mask), entrant_id=WHO, operator="li")
        self.check(s)

    @rule(temp=TEMPS, mask=MASKS)
    def screen_someone_without_an_id(self, temp, mask):
        s = self.station.screen([self.reading(temp, "manual")], MaskResult(mask))
        assert s.follows is None and len(s.readings) == 1 and "fever-not-cleared" not in s.reasons

    @precondition(lambda self: self.latest is not None)
    @rule(temp=TEMPS)
    def retest_chosen_by_staff(self, temp):
        self.check(self.station.retest(self.latest, self.reading(temp, "manual"), operator="li"))

    @precondition(lambda self: self.latest is not None)
    @rule(state=st.sampled_from([MaskState.YES, MaskState.NO]))
    def staff_confirm_the_mask(self, state):
        self.check(self.station.confirm_mask(self.latest, state, operator="li"))

    @precondition(lambda self: self.latest is not None)
    @rule(temp=TEMPS)
    def a_retest_on_a_stale_screen_is_refused(self, temp):
        first = self.log.recent(1000)[-1]
        if first.entrant_id == WHO and first.id != self.latest.id:
            n = self.log.count()
            try:
                self.station.retest(first, self.reading(temp, "manual"), operator="li")
            except StaleRetest:
                assert self.log.count() == n
            else:
                raise AssertionError("a retest of an old screening was stored")

    @rule()
    def health_officer_records_a_clearance(self):
        try:
            clear(self.log, station_id="gate-1", entrant_id=WHO, note="doctor's note", by="nurse", role="health",
                  now=self.clock())
        except ClearanceRefused:
            assert not self.fever_uncleared
        else:
            assert self.fever_uncleared
            self.fever_uncleared = False

    @rule(with_person=st.booleans(), kind=st.sampled_from(["pupil", "staff"]))
    def roster_imported(self, with_person, kind):
        # A replacing import: without the person they have left the school and become a visitor.
        lines = ["id,name,class,kind", "P1,Wang Fang,3-2,pupil"] + ([f"{WHO},Li Lei,3-2,{kind}"] if with_person else [])
        import_roster(self.log, "\n".join(lines).encode(), station_id="gate-1", actor="admin")

    @rule()
    def approved_as_a_visitor_today(self):
        add_visitor(self.log, Visitor(WHO, "Li Lei", "13800000000", "parent", "Ms Zhao", local_day(self.clock.at)),
                    station_id="gate-1", actor="li")

    @rule(days=st.integers(1, 3), hours=st.integers(0, 12))
    def days_pass(self, days, hours):
        self.clock.at += days * 86400 + hours * 3600

    @rule(minutes=st.integers(1, 30))
    def minutes_pass(self, minutes):
        self.clock.at += minutes * 60

    @invariant()
    def the_log_still_verifies(self):
        assert self.log.count() == 0 or self.log.verify().ok


FeverFollowsItsPerson.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TestFeverFollowsItsPerson = FeverFollowsItsPerson.TestCase
