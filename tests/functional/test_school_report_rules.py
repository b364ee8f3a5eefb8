"""The school report applies the school's own cluster rules: the `[clusters]` numbers each gate sent upward with its
daily report, through a real PostgreSQL. Gates that disagree are named and the alerts of each gate's rules are listed;
a school whose gates sent no rules yet gets the defaults, and the report says so."""
import json
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import load_config
from gate.station import Station
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.pg import unavailable_reason
from tests.support import Clock, cli_out

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ROSTER = "id,name,class,kind\nP1,张一,三年级二班,pupil\nP2,张二,三年级二班,pupil\nP3,张三,三年级二班,pupil\n"
DAY = "2026-12-01"


def at(h, m):
    return time.mktime((2026, 12, 1, h, m, 0, 0, 0, -1))


def cli(capsys, *argv):
    return cli_out(capsys, *argv, clock=lambda: at(16, 0))  # the evening of DAY


def configure(tmp_path, name, url, same_day):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[station]\nid = "{name}"\n[school]\nid = "school-7"\nname = "第七小学"\nabsence_cases = "off"\n'
                    f'[upstream]\nurl = "{url}"\nshare_roster = true\n'
                    f'[clusters]\nsame_day_pupils = {same_day}\n', encoding="utf-8")
    return path


@pytest.fixture
def two_gates(tmp_path, pg):
    """North confirms two fevers in 三年级二班 (a cluster under same_day_pupils = 2, none under the default 3); south
    screens P3. Nothing is synced yet."""
    url = pg.create_db("school_rules")
    gates = {}
    for name, fevers in (("north", ("P1", "P2")), ("south", ())):
        db = tmp_path / f"{name}.db"
        cfg = configure(tmp_path, name, url, 2)
        with ScreeningLog(db) as log:
            import_roster(log, ROSTER.encode(), station_id=name, actor="admin")
            station = Station(load_config(cfg), log, clock=Clock(at(7, 0)))
            for pupil in fevers:
                for value in (38.6, 38.8):  # suspected, then confirmed by the retest
                    station.screen([Reading(object_c=value, source="manual")], MaskResult(MaskState.YES),
                                   entrant_id=pupil)
            if name == "south":
                station.screen([Reading(object_c=36.5, source="manual")], MaskResult(MaskState.YES), entrant_id="P3")
        gates[name] = (db, cfg)
    return url, gates


def report_daily_and_sync(capsys, db, cfg):
    cli(capsys, "report", "daily", "--db", db, "--config", cfg, "--date", DAY, "--json")
    cli(capsys, "sync", "--db", db, "--config", cfg)


def school_report(capsys, url, *extra):
    return cli(capsys, "school", "report", "--upstream", url, "--school", "school-7", "--date", DAY, *extra)


def test_the_school_report_raises_the_cluster_the_schools_own_rules_raise(two_gates, capsys):
    url, gates = two_gates
    for db, cfg in gates.values():
        report_daily_and_sync(capsys, db, cfg)
    report = json.loads(school_report(capsys, url, "--json"))
    assert [(a["class"], a["symptom"], a["pupils"]) for a in report["clusters"]] == [
        ("三年级二班", "fever", ["P1", "P2"])]  # two pupils: the school's rule, not the default three
    assert report["zero_report"] is False
    rules = report["cluster_rules"]
    assert rules["source"] == "gates" and rules["agree"] is True
    assert rules["by_gate"] == {g: {"same_day_pupils": 2, "window_days": 3, "window_pupils": 5}
                                for g in ("north", "south")}
    assert "disagree" not in school_report(capsys, url)


def test_gates_that_disagree_on_the_rules_are_named_and_no_alert_is_dropped(two_gates, tmp_path, capsys):
    url, gates = two_gates
    north_db, north_cfg = gates["north"]
    south_db, _ = gates["south"]
    report_daily_and_sync(capsys, north_db, north_cfg)
    report_daily_and_sync(capsys, south_db, configure(tmp_path, "south", url, 4))
    report = json.loads(school_report(capsys, url, "--json"))
    assert report["cluster_rules"]["agree"] is False
    assert report["cluster_rules"]["by_gate"]["south"]["same_day_pupils"] == 4
    assert [a["pupils"] for a in report["clusters"]] == [["P1", "P2"]]  # north's rule raises it: it is listed
    text = school_report(capsys, url)
    line = next(x for x in text.splitlines() if "disagree" in x)
    assert "north 2 a day" in line and "south 4 a day" in line and "[clusters]" in line


def test_no_rules_sent_yet_the_defaults_apply_and_the_report_says_so(two_gates, capsys):
    url, gates = two_gates
    for db, cfg in gates.values():
        cli(capsys, "sync", "--db", db, "--config", cfg)  # no daily report: no rules upward
    report = json.loads(school_report(capsys, url, "--json"))
    assert report["cluster_rules"]["source"] == "defaults" and report["clusters"] == []
    assert report["cluster_rules"]["applied"] == [{"same_day_pupils": 3, "window_days": 3, "window_pupils": 5}]
    assert "the defaults are applied" in school_report(capsys, url)


def test_a_gate_silent_on_its_rules_is_named(two_gates, capsys):
    url, gates = two_gates
    report_daily_and_sync(capsys, *gates["north"])
    cli(capsys, "sync", "--db", gates["south"][0], "--config", gates["south"][1])
    report = json.loads(school_report(capsys, url, "--json"))
    assert report["cluster_rules"]["by_gate"]["south"] is None and report["cluster_rules"]["source"] == "gates"
    assert len(report["clusters"]) == 1
    assert "south sent none yet" in school_report(capsys, url)


def test_rules_edited_into_nonsense_upstream_count_as_none(two_gates, capsys):
    from sqlalchemy import create_engine, text

    url, gates = two_gates
    for db, cfg in gates.values():
        report_daily_and_sync(capsys, db, cfg)
    engine = create_engine(url)
    with engine.begin() as conn:  # someone with the upstream's password rewrites north's report: no cluster rule
        conn.execute(text("UPDATE daily_reports SET content = :c WHERE station_id = 'north'"),
                     {"c": json.dumps({"cluster_rules": {"same_day_pupils": 1000, "window_days": 3,
                                                         "window_pupils": 5}})})
    engine.dispose()
    report = json.loads(school_report(capsys, url, "--json"))
    assert report["cluster_rules"]["by_gate"]["north"] is None  # 1000 is no [clusters] rule: not believed
    assert [a["pupils"] for a in report["clusters"]] == [["P1", "P2"]]  # south's rules still raise it
