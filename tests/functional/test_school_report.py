"""One school, two gates, one real PostgreSQL: pupils split between the north and the south gate, both synced with
their roster; the school report counts a pupil seen at any gate as seen and equals one gate's report of the union.
The gate that keeps the absence cases asks the upstream who the other gate saw."""
import json
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import load_config
from gate.school_day import close_out
from gate.station import Station
from storage import cases
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.pg import unavailable_reason
from tests.support import Clock, cli_out

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ROSTER = ("id,name,class,kind\nP1,张一,三年级二班,pupil\nP2,张二,三年级二班,pupil\nP3,张三,三年级二班,pupil\n"
          "P4,李四,三年级三班,pupil\nP5,李五,三年级三班,pupil\nP6,李六,三年级三班,pupil\nT1,王老师,教务处,staff\n")
DAY = "2026-12-01"
SPLIT = {"north": ["P1", "P2", "P4"], "south": ["P3", "P5", "P2", "T1"]}  # P2 goes through both; P6 is absent


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


def cli(capsys, *argv):
    return cli_out(capsys, *argv, clock=lambda: at(8, 0))  # DAY, before its first check ended: none waits


def gate_config(tmp_path, name, url, absences):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[station]\nid = "{name}"\n[school]\nid = "school-12"\nname = "第十二小学"\n'
                    f'absence_cases = "{absences}"\n[upstream]\nurl = "{url}"\nshare_roster = true\n',
                    encoding="utf-8")
    return path


def screen_all(db, cfg_path, ids, clock):
    with ScreeningLog(db) as log:
        import_roster(log, ROSTER.encode(), station_id=db.stem, actor="admin")
        station = Station(load_config(cfg_path), log, clock=clock)
        for i in ids:
            station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id=i)


@pytest.fixture
def school(tmp_path, pg, capsys):
    url = pg.create_db("school")
    clock = Clock(at(7, 0))
    gates = {}
    for name, absences in (("north", "school"), ("south", "off")):
        cfg = gate_config(tmp_path, name, url, absences)
        db = tmp_path / f"{name}.db"
        screen_all(db, cfg, SPLIT[name], clock)
        assert "roster shared" in cli(capsys, "sync", "--db", db, "--config", cfg)
        gates[name] = (db, cfg)
    return url, gates, clock


def test_the_school_report_is_one_gates_report_of_the_union(school, tmp_path, capsys):
    url, gates, clock = school
    report = json.loads(cli(capsys, "school", "report", "--upstream", url, "--school", "school-12", "--date", DAY,
                            "--session", "morning", "--json"))
    assert report["gates"] == {"north": 3, "south": 4} and report["school_name"] == "第十二小学"
    assert report["seen"] == 6 and report["expected"] == 7
    assert report["unscreened_by_class"] == {"三年级三班": ["P6"]} and report["unscreened_staff"] == []
    assert report["zero_report"] is True
    union = tmp_path / "union.db"  # the same people through one gate
    screen_all(union, gates["north"][1], sorted({i for ids in SPLIT.values() for i in ids}), Clock(at(7, 0)))
    one_gate = [json.loads(line)["id"] for line in cli(capsys, "report", "unscreened", "--db", union, "--date", DAY,
                                                       "--session", "morning", "--json").splitlines()]
    school_ids = [i for ids in report["unscreened_by_class"].values() for i in ids] + report["unscreened_staff"]
    assert sorted(one_gate) == sorted(school_ids)
    noon = json.loads(cli(capsys, "school", "report", "--upstream", url, "--school", "school-12", "--date", DAY,
                          "--session", "noon", "--json"))
    assert noon["seen"] == 0 and noon["unscreened"] == 7


def test_only_the_gate_keeping_the_cases_opens_them_knowing_what_the_other_gate_saw(school):
    url, gates, clock = school
    opened = {}
    for name, (db, cfg_path) in gates.items():
        with ScreeningLog(db) as log:
            close_out(log, load_config(cfg_path), at(8, 30))
            opened[name] = sorted(c.entrant_id for c in cases.listed(log))
    assert opened == {"north": ["P6"], "south": []}  # P3 and P5 came in by the south gate


def test_with_the_upstream_unreachable_the_session_waits_instead_of_guessing(school, tmp_path):
    url, gates, clock = school
    db, cfg_path = gates["north"]
    text = cfg_path.read_text(encoding="utf-8").replace(url, "postgresql://nobody@127.0.0.1:1/none")
    down = tmp_path / "down.toml"
    down.write_text(text, encoding="utf-8")
    with ScreeningLog(db) as log:
        assert close_out(log, load_config(down), at(8, 30)) == 0 and cases.listed(log) == []
        assert close_out(log, load_config(cfg_path), at(8, 31)) == 1  # reachable again: closed out once


def test_every_gate_shows_the_schools_cluster_even_when_another_gate_holds_the_cases(school, capsys):
    from domain.case import Outcome
    from gate.school_day import cluster_alerts

    url, gates, clock = school
    north_db, north_cfg = gates["north"]
    extra = "id,name,class,kind\n" + "".join(f"Q{i},王{i},三年级四班,pupil\n" for i in range(3))
    with ScreeningLog(north_db) as log:
        import_roster(log, extra.encode(), station_id="north", actor="admin", merge=True)
        close_out(log, load_config(north_cfg), at(8, 30))
        for c in [c for c in cases.listed(log) if c.class_name == "三年级四班"]:
            cases.close_case(log, c.case_id, station_id="north", outcome=Outcome.SICK_LEAVE,
                             symptoms=("diarrhoea", "vomiting"), onset=DAY, note="", by="chen", role="teacher",
                             at=at(10, 0), classes=None)
    cli(capsys, "sync", "--db", north_db, "--config", north_cfg)
    south_db, south_cfg = gates["south"]
    with ScreeningLog(south_db) as log:
        cfg = load_config(south_cfg)
        assert cluster_alerts(log, cfg, DAY) == []  # its own log holds none of these cases
        found = cluster_alerts(log, cfg, DAY, school=True)
    assert {(a.class_name, a.symptom, len(a.pupils)) for a in found} == {
        ("三年级四班", "diarrhoea", 3), ("三年级四班", "vomiting", 3)}
