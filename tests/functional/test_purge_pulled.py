"""Issue 16 F2 (g17): `gate purge` deletes what the sync pulled from the school's other gates past retention, by the
station's own rule (storage/pulled_retention.py), against a real PostgreSQL and two gates' logs: rows pulled before
the retention go, newer ones stay, a pupil still refused keeps theirs, an open case keeps its events; the next pull
takes nothing again (a marker holds each gate's place) and still takes what is new; the purge is audited and the
chains verify; a marker edited or cut out of the file is caught."""
import io
import json
import sqlite3
import sys

import pytest

from domain import Decision
from domain.case import Outcome
from gate.auth import Auth, User
from gate.cli import main
from gate.config import load_config
from gate.school_day import close_out
from storage import audit, cases, integrity
from storage.log import ScreeningLog
from tests.functional.test_school_fevers import at, confirm_fever_at, school, sync  # noqa: F401 - the fixture
from tests.pg import unavailable_reason
from tests.support import apply_policy

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = 86400
PIN = "581302"


@pytest.fixture
def gates(school):
    """The school's two gates; the south gate has an auditor (and so its policy stored by its admin)."""
    north, south, clock = school
    with ScreeningLog(south.db) as log:
        auth = Auth(log, south.name)
        auth.add_user("admin", "admin", PIN, None)
        auth.add_user("wu", "auditor", PIN, User("admin", "admin"))
        apply_policy(log)
    sys.stdin = io.StringIO(PIN + "\n")  # its first sync is an admin's
    assert main(["sync", "--db", str(south.db), "--config", str(south.cfg), "--user", "admin", "--pin-stdin"]) == 0
    return north, south, clock


def purge(capsys, gate, clock) -> str:
    """`gate purge --older-than 30` at ``gate`` by its auditor, on the test's clock."""
    capsys.readouterr()
    sys.stdin = io.StringIO(PIN + "\n")
    code = main(["purge", "--older-than", "30", "--db", str(gate.db), "--config", str(gate.cfg), "--user", "wu",
                 "--pin-stdin"], clock=clock)
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def rows(gate, table="school_records") -> list[tuple]:
    with sqlite3.connect(gate.db) as conn:
        order = "kind, entrant_id" if table == "school_records" else "case_id"
        return conn.execute(f"SELECT {'kind' if table == 'school_records' else 'case_id'}, entrant_id "
                            f"FROM {table} ORDER BY {order}").fetchall()


def both_sync(capsys, north, south) -> str:
    sync(capsys, north.db, north.cfg)
    return sync(capsys, south.db, south.cfg)


def test_pulled_records_past_retention_go_newer_ones_and_a_refused_pupils_stay(gates, capsys):
    north, south, clock = gates
    for pupil in ("P6", "P7"):  # day 1: two fevers, both cleared at north
        confirm_fever_at(north, clock, pupil)
        north.clear(pupil)
    assert "pulled 4" in both_sync(capsys, north, south)
    clock.advance(4 * DAY)
    confirm_fever_at(north, clock, "P42")  # day 5: not cleared, so P42 stays refused at both gates
    both_sync(capsys, north, south)
    clock.advance(20 * DAY)
    confirm_fever_at(north, clock, "P7")  # day 25: P7 again, cleared again: within the retention at day 41
    north.clear("P7")
    both_sync(capsys, north, south)
    clock.advance(16 * DAY)

    out = purge(capsys, south, clock)
    assert "purged 4 record(s) pulled from the school's other gates" in out
    assert "kept 1 record(s) pulled from the school's other gates past retention about a pupil this gate still " \
           "refuses" in out
    assert rows(south) == [("clearance", "P7"), ("fever", "P42"), ("fever", "P7")]
    assert south.screen(36.6, "P42").decision is Decision.DENY  # still refused
    assert south.screen(36.6, "P7").decision is Decision.ADMIT  # the day-25 fever and its clearance stay
    assert south.screen(36.6, "P6").decision is Decision.ADMIT  # cleared, and nothing of it is left
    assert "pulled" not in both_sync(capsys, north, south)  # what went is not pulled again
    assert len(rows(south)) == 3
    confirm_fever_at(north, clock, "P6")  # a new fever is pulled as ever
    assert "pulled 1" in both_sync(capsys, north, south)
    assert south.screen(36.6, "P6").decision is Decision.DENY
    with ScreeningLog(south.db) as log:
        assert integrity.check(log).ok
        done = [e for e in audit.events(log) if e["action"] == "purge-pulled"]
    assert [e["detail"]["records"] for e in done] == [4] and done[0]["actor"] == "wu"


def test_an_open_case_keeps_its_events_and_a_closed_one_goes(gates, capsys):
    north, south, clock = gates
    assert north.screen(36.6).decision is Decision.ADMIT  # P42 seen; P6 and P7 absent: two cases at north
    with ScreeningLog(north.db) as log:
        close_out(log, load_config(north.cfg), at(8, 30))
        for c in cases.listed(log):
            cases.close_case(log, c.case_id, station_id="north", outcome=Outcome.PERSONAL_LEAVE, symptoms=(),
                             onset=None, note="", by="chen", role="teacher", at=at(10, 0), classes=None)
    clock.advance(DAY)
    with ScreeningLog(north.db) as log:  # day 2: nobody screened, three cases left open
        close_out(log, load_config(north.cfg), at(8, 30, day=2))
    both_sync(capsys, north, south)
    with ScreeningLog(south.db) as log:
        first = {c.case_id for c in cases.listed(log) if not c.is_open}
        still = {c.case_id for c in cases.listed(log, open_only=True)}
    assert len(first) == 2 and len(still) == 3
    clock.advance(40 * DAY)

    out = purge(capsys, south, clock)
    assert "and 4 of their case events" in out  # the two closed cases' opens and closes
    assert "of a follow-up case still open" in out
    with ScreeningLog(south.db) as log:
        assert {c.case_id for c in cases.listed(log)} == still and integrity.check(log).ok
    assert "pulled" not in both_sync(capsys, north, south)


@pytest.mark.parametrize("edit", ["UPDATE school_records SET origin_seq = 999999 WHERE kind LIKE 'upto:%'",
                                  "DELETE FROM school_records WHERE kind LIKE 'upto:%'"])
def test_a_marker_edited_or_cut_out_is_caught(gates, capsys, edit):
    """Raising a gate's place would skip its next fevers; cutting it would pull the old ones again: both are edits
    of the chain, named by gate verify, and the fever memory fails closed."""
    north, south, clock = gates
    confirm_fever_at(north, clock, "P6")
    north.clear("P6")
    both_sync(capsys, north, south)
    clock.advance(40 * DAY)
    purge(capsys, south, clock)
    assert [k for k, _ in rows(south)] == ["upto:clearance", "upto:fever"]
    with sqlite3.connect(south.db) as conn:
        assert conn.execute(edit).rowcount == 2
    with ScreeningLog(south.db) as log:
        assert not integrity.check(log).ok
    with pytest.raises(Exception, match="pulled from the other gates were changed"):
        south.screen(36.6, "P6")


def kept_and_still_admitted(capsys, south, clock, pupil: str, why: str) -> None:
    """``pupil`` admitted at south before and after a purge 40 days on, which purged nothing pulled, saying ``why``."""
    assert south.screen(36.6, pupil).decision is Decision.ADMIT
    clock.advance(40 * DAY)
    out = purge(capsys, south, clock)
    assert "purged 0 record(s)" in out and why in out
    assert south.screen(36.6, pupil).decision is Decision.ADMIT


def test_a_pulled_clearance_of_a_fever_still_in_this_log_stays(gates, capsys):
    """Without it, the fever confirmed here (kept behind P42's) would refuse the pupil again."""
    north, south, clock = gates
    confirm_fever_at(south, clock, "P42")  # never cleared: south's screenings from here on stay
    confirm_fever_at(south, clock, "P6")
    sync(capsys, south.db, south.cfg)
    clock.advance(DAY)
    sync(capsys, north.db, north.cfg)  # north learns P6's fever and its doctor clears it
    north.clear("P6")
    assert "pulled 1" in both_sync(capsys, north, south)
    kept_and_still_admitted(capsys, south, clock, "P6", "past retention clearing a fever or case still in this log")
    assert rows(south) == [("clearance", "P6")]


def test_a_pulled_fever_stays_while_an_older_one_of_the_pupil_is_here(gates, capsys):
    """P7's fever confirmed here and later at north (cleared there): the later one counts. Purging it with its
    clearance would make the older one, never cleared, the pupil's latest again."""
    north, south, clock = gates
    confirm_fever_at(south, clock, "P42")  # never cleared: south's screenings from here on stay
    confirm_fever_at(south, clock, "P7")
    clock.advance(DAY)
    confirm_fever_at(north, clock, "P7")  # north has not heard of south's yet
    north.clear("P7")
    assert "pulled 2" in both_sync(capsys, north, south)
    kept_and_still_admitted(capsys, south, clock, "P7", "while an older fever or certificate of the same pupil stays")
