"""Issue 15's one case list at its edges, attacked against a real PostgreSQL (attacker a15): class names with invisible
characters or a no-break space, a class found under any spelling at the other gate, one pupil with a cough at both
gates in a cluster, a gate that synced one second before the check ended, a provisional report in CSV, checks across
midnight. Every attempt here is refused or detected."""
import json

import pytest

from domain.case import Outcome
from storage import cases
from storage.log import ScreeningLog
from tests.functional.attacks.school_cases_setup import faked, registered_pair, school  # noqa: F401  (a fixture)
from tests.functional.test_school_cases import at, morning_synced
from tests.pg import unavailable_reason
from tests.support import env_with_root, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.mark.parametrize("spelling", ["三年级\u200b二班", "三年级\t二班", "三年级二班\u202e", "三年级\ufeff二班"])
def test_a_class_with_an_invisible_character_is_refused_in_the_roster_and_in_classes(tmp_path, spelling):
    env = dict(env_with_root(), HOME=str(tmp_path), GATE_LOG_DIR=str(tmp_path / "log"))
    db = tmp_path / "g.db"
    assert run_gate("users", "add", "admin", "--role", "admin", "--db", db, "--pin-stdin", input="900001\n",
                    env=env).returncode == 0
    roster = tmp_path / "r.csv"
    roster.write_text(f"id,name,class,kind\nP1,甲,{spelling},pupil\n", encoding="utf-8")
    r = run_gate("roster", "import", "--db", db, roster, "--user", "admin", "--pin-stdin", input="900001\n", env=env)
    assert r.returncode == 2 and "line 2, field class" in r.stderr and spelling not in r.stderr
    r = run_gate("users", "add", "t", "--role", "teacher", "--classes", spelling, "--db", db, "--user", "admin",
                 "--pin-stdin", input="900001\n754026\n754026\n", env=env)
    assert r.returncode == 2 and "invisible" in r.stderr and spelling not in r.stderr


def test_a_teacher_whose_class_was_typed_with_a_no_break_space_closes_the_other_gates_case(school):
    north, south, other, clock, url = school
    morning_synced(north, south, clock)
    r = run_gate("users", "add", "liu", "--role", "teacher", "--classes", "三年级\u00a0二班", "--db", south.db,
                 "--config", south.cfg, "--user", "admin", "--pin-stdin", input="900001\n471938\n471938\n")
    assert r.returncode == 0 and "for 三年级二班" in r.stdout, r.stderr
    r = run_gate("followup", "close", north.case("P8").short_id, "--outcome", "personal-leave", "--db", south.db,
                 "--config", south.cfg, "--user", "liu", "--pin-stdin", input="471938\n")
    assert r.returncode == 0, r.stderr
    r = run_gate("followup", "close", north.case("P7").short_id, "--outcome", "personal-leave", "--db", south.db,
                 "--config", south.cfg, "--user", "liu", "--pin-stdin", input="471938\n")
    assert r.returncode == 1 and "refused" in r.stderr


def both_keep_the_cases_and_sync_at(tmp_path, north, south, north_at, south_at):
    """Both gates keep the school's cases (two gates); each syncs once on 1 December at its own time of day."""
    for g in (north, south):
        g.cfg.write_text(g.cfg.read_text(encoding="utf-8").replace('"this-gate"', '"school"\ngates = 2'),
                         encoding="utf-8")
    for g, when in ((north, north_at), (south, south_at)):
        faked(tmp_path, f"2026-12-01 {when}", "sync", "--db", g.db, "--config", g.cfg)


def test_a_gate_that_synced_one_second_before_the_check_ended_keeps_the_report_provisional(school, tmp_path):
    north, south, other, clock, url = school
    both_keep_the_cases_and_sync_at(tmp_path, north, south, "07:20:00", "08:29:59")
    report = ("report", "daily", "--db", north.db, "--config", north.cfg, "--date", "2026-12-01", "--json")
    first = json.loads(faked(tmp_path, "2026-12-01 09:00:00", *report).stdout.decode())
    assert first["provisional"] is True and first["zero_report"] is None
    assert [w["gates"] for w in first["waiting_for"]] == [["south"]]
    faked(tmp_path, "2026-12-01 08:30:00", "sync", "--db", south.db, "--config", south.cfg)
    assert json.loads(faked(tmp_path, "2026-12-01 09:00:00", *report).stdout.decode())["provisional"] is False


def test_one_pupil_closed_with_a_cough_at_both_gates_is_one_pupil_of_a_cluster_at_both(tmp_path, pg, monkeypatch):
    import tests.functional.test_school_cases as two_gates
    monkeypatch.setattr(two_gates, "ROSTER", two_gates.ROSTER + "P9,李九,三年级三班,pupil\n")
    north, south, clock, url = registered_pair(tmp_path, pg, "a15_cluster_twice", south_absence="off")
    clock.now = at(9, 0)
    assert north.close_out(at(9, 0)) == 4
    north.sync()
    south.sync()

    def cough(g, entrant, hour):
        with ScreeningLog(g.db) as log:
            cases.close_case(log, north.case(entrant).case_id, station_id=g.name, outcome=Outcome.SICK_LEAVE,
                             symptoms=("cough",), onset="2026-12-01", note="", by="doc", role="health", at=at(hour, 0))

    def alerts(g):
        r = g.gate("report", "alerts", "--date", "2026-12-01", "--json")
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    cough(north, "P6", 10)
    cough(south, "P6", 11)  # the same pupil closed again at the other gate: a note, not a second pupil
    cough(south, "P7", 12)
    north.sync()
    south.sync()
    north.sync()
    assert alerts(north) == [] and alerts(south) == []
    cough(north, "P9", 13)
    north.sync()
    south.sync()
    for g in (north, south):
        assert [(a["class"], a["symptom"], a["pupils"]) for a in alerts(g)] == [
            ("三年级三班", "cough", ["P6", "P7", "P9"])]


def test_a_teacher_at_the_other_gate_finds_its_class_under_any_spelling_and_no_other(school):
    north, south, other, clock, url = school
    morning_synced(north, south, clock)
    for spelling in ("三年级\u3000三班", "三年级 三班", " 三年级三班 "):
        rows, _ = south.listed("--class", spelling, who="wang")
        assert sorted(r["entrant_id"] for r in rows) == ["P6", "P7"]
    r = south.gate("followup", "list", "--class", "三年级 二班", who="wang")
    assert r.returncode == 1 and "not theirs to see" in r.stderr and "P8" not in r.stdout


@pytest.mark.parametrize("start, end, says", [
    ("23:00", "00:30", "never runs past midnight"), ("18:30", "24:00", "not a time of day"),
    ("19:30", "18:30", "must end after it starts"), ("19:00", "19:00", "must end after it starts"),
    ("08:00", "09:00", "overlap"),
])
def test_a_check_across_midnight_empty_backwards_or_overlapping_is_refused_by_config_check(tmp_path, start, end,
                                                                                          says):
    cfg = tmp_path / "gate.toml"
    cfg.write_text('[station]\nid = "north"\n[[sessions]]\nname = "morning"\nlabel_zh = "晨检"\nlabel_en = "morning"\n'
                   'start = "06:30"\nend = "08:30"\n[[sessions]]\nname = "evening"\nlabel_zh = "晚检"\n'
                   f'label_en = "evening"\nstart = "{start}"\nend = "{end}"\n', encoding="utf-8")
    r = run_gate("config", "check", cfg)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr


def test_a_provisional_daily_report_in_csv_leaves_the_zero_report_empty_and_says_why_on_stderr(school, tmp_path):
    north, south, other, clock, url = school
    both_keep_the_cases_and_sync_at(tmp_path, north, south, "07:20:00", "07:21:00")  # south: before 08:30 only
    r = faked(tmp_path, "2026-12-01 15:00:00", "report", "daily", "--db", north.db, "--config", north.cfg, "--date",
              "2026-12-01", "--csv")
    rows = dict(line.split(",", 1) for line in r.stdout.decode().splitlines()[1:])
    assert rows["zero_report"] == "" and rows["provisional"] == "True"
    assert "waits for south" in r.stderr.decode() and "provisional" not in r.stdout.decode().splitlines()[0]
