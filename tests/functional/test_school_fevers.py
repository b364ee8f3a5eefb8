"""A fever follows its person across the gates of one school (storage/school_records.py), against a real PostgreSQL:
a fever confirmed at the north gate refuses the pupil at the south gate once both have synced, naming the north gate;
a clearance recorded at either gate clears at both; a certificate case closed at one gate needs its 复课证明 at the
other; pulling twice stores nothing twice; a pulled row cut out of the file is caught and never admits."""
import io
import sqlite3
import sys
import time

import pytest

from domain import Decision, MaskResult, MaskState, Reading
from domain.case import Outcome
from gate.cli import main
from gate.clearance import clear
from gate.config import load_config
from gate.school_day import close_out
from gate.station import Station
from storage import cases, integrity
from storage.errors import StorageError
from storage.log import ScreeningLog
from storage.roster import import_roster
from storage.sync import Sync, SyncError
from tests.pg import unavailable_reason
from tests.support import Clock

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ROSTER = "id,name,class,kind\nP42,张四二,三年级二班,pupil\nP6,李六,三年级三班,pupil\nP7,李七,三年级三班,pupil\n"
YES = MaskResult(MaskState.YES)


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


def hand(v):
    return Reading(object_c=v, source="manual", operator="li", device_id="clinical-1")


def sync(capsys, db, cfg) -> str:
    capsys.readouterr()
    sys.stdin = io.StringIO("")
    code = main(["sync", "--db", str(db), "--config", str(cfg)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


class Gate:
    """One gate of the school: its config, its own log (and key), a station on the shared test clock."""

    def __init__(self, tmp_path, name, url, clock, school="school-12"):
        self.name, self.clock = name, clock
        self.cfg = tmp_path / f"{name}.toml"
        self.cfg.write_text(f'[station]\nid = "{name}"\nlanguage = "en"\n[school]\nid = "{school}"\n'
                            f'name = "第十二小学"\nabsence_cases = "{"this-gate" if name == "north" else "off"}"\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
        self.db = tmp_path / f"{name}.db"
        with ScreeningLog(self.db) as log:
            import_roster(log, ROSTER.encode(), station_id=name, actor="admin")

    def screen(self, value, entrant="P42"):
        with ScreeningLog(self.db) as log:
            return Station(load_config(self.cfg), log, language="en", clock=self.clock).screen(
                [hand(value)], YES, entrant_id=entrant)

    def clear(self, entrant="P42"):
        with ScreeningLog(self.db) as log:
            return clear(log, station_id=self.name, entrant_id=entrant, note="doctor's note", by="nurse",
                         role="health", now=self.clock())

    def pulled(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT count(*) FROM school_records").fetchone()[0]


@pytest.fixture
def school(tmp_path, pg):
    url = pg.create_db("school_fevers")
    clock = Clock(at(7, 42))
    return Gate(tmp_path, "north", url, clock), Gate(tmp_path, "south", url, clock), clock


def confirm_fever_at(gate, clock, entrant="P42"):
    assert gate.screen(38.5, entrant).decision is Decision.RETEST
    clock.advance(600)
    confirmed = gate.screen(38.4, entrant)
    assert confirmed.decision is Decision.DENY and "fever-confirmed" in confirmed.reasons
    return confirmed


def test_a_fever_confirmed_at_north_refuses_at_south_and_a_clearance_at_south_clears_at_north(school, capsys):
    north, south, clock = school
    confirm_fever_at(north, clock)  # 07:52 at the north gate
    assert south.screen(36.6).decision is Decision.ADMIT  # the hole: before any sync south knows nothing
    sync(capsys, north.db, north.cfg)
    assert "pulled 1 from the school's other gates" in sync(capsys, south.db, south.cfg)
    clock.advance(1800)
    refused = south.screen(36.6)
    assert refused.decision is Decision.DENY and refused.reasons[0] == "fever-not-cleared"
    assert refused.message.startswith("Fever confirmed at 07:52 at north gate — sent home")
    with ScreeningLog(south.db) as log:
        assert Station(load_config(south.cfg), log, clock=clock).message_in(refused, "zh-CN").startswith(
            "07:52（north 校门） 已确认发热——已送回家")
    capsys.readouterr()
    assert main(["clearance", "list", "--db", str(south.db), "--config", str(south.cfg)]) == 0
    assert "waiting  P42" in capsys.readouterr().out  # the school doctor at the south gate sees who to expect
    # Pulling again stores nothing twice, from either side.
    assert "pulled" not in sync(capsys, south.db, south.cfg) and south.pulled() == 1
    sync(capsys, north.db, north.cfg)
    assert north.pulled() == 0  # north's own fever is not pulled back into its log
    # The school doctor at the south gate sees the doctor's note: cleared here at once ...
    south.clear()
    assert south.screen(36.6).decision is Decision.ADMIT
    assert north.screen(36.6).decision is Decision.DENY  # ... and at north once the clearance has travelled
    sync(capsys, south.db, south.cfg)
    sync(capsys, north.db, north.cfg)
    assert north.pulled() == 1
    assert north.screen(36.6).decision is Decision.ADMIT
    capsys.readouterr()
    assert main(["clearance", "list", "--db", str(north.db), "--config", str(north.cfg)]) == 0
    assert "waiting" not in capsys.readouterr().out  # cleared at the south gate: nobody waits at north either
    with ScreeningLog(south.db) as log:
        assert integrity.check(log).ok
    with ScreeningLog(north.db) as log:
        assert integrity.check(log).ok


def test_a_certificate_case_closed_at_north_needs_its_certificate_at_south(school, capsys):
    north, south, clock = school
    assert north.screen(36.6).decision is Decision.ADMIT  # P42 seen; P6 and P7 absent from the morning check
    with ScreeningLog(north.db) as log:
        close_out(log, load_config(north.cfg), at(8, 30))
        p6 = next(c for c in cases.listed(log) if c.entrant_id == "P6")
        cases.close_case(log, p6.case_id, station_id="north", outcome=Outcome.SICK_LEAVE, symptoms=("fever",),
                         onset="2026-12-01", note="", by="chen", role="teacher", at=at(10, 0), classes=None)
    sync(capsys, north.db, north.cfg)
    sync(capsys, south.db, south.cfg)
    clock.advance(86400)
    refused = south.screen(36.6, "P6")
    assert refused.decision is Decision.DENY and refused.reasons[0] == "certificate-needed"
    assert p6.short_id in refused.message
    assert south.screen(36.6, "P7").decision is Decision.ADMIT  # closed without a fever: nothing to bring
    capsys.readouterr()
    assert main(["clearance", "list", "--db", str(south.db), "--config", str(south.cfg)]) == 0
    assert f"case {p6.short_id}" in capsys.readouterr().out
    south.clear("P6")  # the 复课证明 seen at the south gate
    sync(capsys, south.db, south.cfg)
    sync(capsys, north.db, north.cfg)
    assert north.screen(36.6, "P6").decision is Decision.ADMIT


def test_a_pulled_fever_cut_out_of_the_file_is_caught_and_never_admits(school, capsys):
    north, south, clock = school
    confirm_fever_at(north, clock)
    sync(capsys, north.db, north.cfg)
    sync(capsys, south.db, south.cfg)
    with sqlite3.connect(south.db) as conn:  # a pupil with the file: their fever row deleted
        assert conn.execute("DELETE FROM school_records WHERE entrant_id = 'P42'").rowcount == 1
    with ScreeningLog(south.db) as log:
        report = integrity.check(log)
        assert not report.ok and any("pulled from the school's other gates" in line for line in report.lines())
        before = log.count()
    capsys.readouterr()
    assert main(["verify", "--db", str(south.db), "--config", str(south.cfg)]) == 1
    assert "school's other gates" in capsys.readouterr().err
    with pytest.raises(StorageError, match="pulled from the other gates were changed"):
        south.screen(36.6)  # fail closed: not admitted, nothing stored
    with ScreeningLog(south.db) as log:
        assert log.count() == before
    # Pulling again does not launder the cut: the seal still says a row is missing.
    sync(capsys, south.db, south.cfg)
    with pytest.raises(StorageError):
        south.screen(36.6)


def test_an_unreachable_upstream_never_blocks_the_gate(school, capsys):
    north, south, clock = school
    confirm_fever_at(north, clock)
    sync(capsys, north.db, north.cfg)
    sync(capsys, south.db, south.cfg)
    with ScreeningLog(south.db) as log:
        down = Sync(log, "postgresql+psycopg://gate@127.0.0.1:9/none", connect_timeout=1, school_id="school-12")
        with pytest.raises(SyncError):
            down.once()
        down.close()
    # What was pulled before still refuses; an unknown pupil is still screened as usual.
    assert south.screen(36.6).decision is Decision.DENY
    assert south.screen(36.6, "P7").decision is Decision.ADMIT


@pytest.mark.parametrize("edit", ["DELETE FROM school_records WHERE entrant_id = 'P42'",
                                  "UPDATE school_records SET entrant_id = 'P43' WHERE entrant_id = 'P42'"])
def test_a_pulled_fever_edited_while_the_gate_runs_is_caught_at_the_next_screening(school, capsys, edit):
    north, south, clock = school
    confirm_fever_at(north, clock)
    sync(capsys, north.db, north.cfg)
    sync(capsys, south.db, south.cfg)
    with ScreeningLog(south.db) as log:
        station = Station(load_config(south.cfg), log, language="en", clock=clock)
        assert station.screen([hand(36.6)], YES, entrant_id="P42").decision is Decision.DENY  # trusted, remembered
        with sqlite3.connect(south.db) as conn:  # the same file edited by hand while the station has it open
            assert conn.execute(edit).rowcount == 1
        with pytest.raises(StorageError, match="pulled from the other gates were changed"):
            station.screen([hand(36.6)], YES, entrant_id="P42")


def test_a_clearance_from_another_school_on_the_same_upstream_clears_nobody_here(school, tmp_path, pg, capsys):
    north, south, clock = school
    confirm_fever_at(north, clock)
    sync(capsys, north.db, north.cfg)
    url = north.cfg.read_text(encoding="utf-8").split('url = "')[1].split('"')[0]
    east = Gate(tmp_path, "east", url, clock, school="school-13")  # another school's gate, its own P42
    confirm_fever_at(east, clock)
    east.clear()
    sync(capsys, east.db, east.cfg)
    sync(capsys, south.db, south.cfg)
    assert south.pulled() == 1  # north's fever only: nothing of school-13
    assert south.screen(36.6).decision is Decision.DENY
