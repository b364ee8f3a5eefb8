"""`gate followup close --onset` long before the case is refused (exit 2), naming the case's day, and nothing is
recorded; an onset a few days before is taken."""
import time

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.school_day import close_out
from gate.station import Station
from storage import cases
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, run_gate

ROSTER = "id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\nS3,王五,三年级二班,pupil\n"


def at(h, m):
    return time.mktime((2026, 12, 1, h, m, 0, 0, 0, -1))


def test_an_onset_weeks_before_the_case_is_refused_and_nothing_recorded(db_path):
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        Station(Config(), log, clock=Clock(at(7, 0))).screen(
            [Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S1")
        close_out(log, Config(), at(9, 0))
        s2, s3 = sorted(cases.listed(log), key=lambda c: c.entrant_id)
    r = run_gate("followup", "close", s2.short_id, "--db", db_path, "--outcome", "sick-leave", "--symptoms", "cough",
                 "--onset", "2026-10-01")
    assert r.returncode == 2 and "61 days before the case (2026-12-01)" in r.stderr and "nothing was recorded" in \
        r.stderr and "Traceback" not in r.stderr
    with ScreeningLog(db_path) as log:
        assert all(c.is_open for c in cases.listed(log))
    r = run_gate("followup", "close", s3.short_id, "--db", db_path, "--outcome", "sick-leave", "--symptoms", "cough",
                 "--onset", "2026-11-28")
    assert r.returncode == 0, r.stderr
    with ScreeningLog(db_path) as log:
        assert {c.entrant_id: c.onset for c in cases.listed(log) if not c.is_open} == {"S3": "2026-11-28"}
