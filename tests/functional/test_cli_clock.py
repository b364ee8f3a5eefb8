"""`gate report alerts`, `gate report unscreened` and `gate followup list|close` take "now" from gate.cli.main's clock
(``args.clock``), not the machine's: with the clock set to a school day, the day's alerts, the day's unscreened list,
the absence cases closed out after its morning check and an onset on that day are what the school sees that day."""
import json
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, run_gate

ROSTER = "id,name,class,kind\n" + "".join(f"S{i},学生{i},三年级二班,pupil\n" for i in range(1, 6))


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


@pytest.fixture
def day_one(db_path):
    """2026-12-01: S1, S2 and S3 confirmed feverish at the gate in the morning check (a same-day cluster of their
    class); S4 and S5 never seen."""
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        station = Station(Config(), log, clock=Clock(at(7, 0)))
        for pupil in ("S1", "S2", "S3"):
            for v in (38.6, 38.7):
                station.screen([Reading(object_c=v, source="manual")], MaskResult(MaskState.YES), entrant_id=pupil)
    return db_path


def gate(db, *argv, when):
    return run_gate(*argv, "--db", db, clock=lambda: when)


def test_report_alerts_without_a_date_is_the_clocks_day(day_one):
    r = gate(day_one, "report", "alerts", "--json", when=at(10, 0))
    assert r.returncode == 0, r.stderr
    (alert,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert (alert["rule"], alert["class"], alert["pupils"]) == ("same-day", "三年级二班", ["S1", "S2", "S3"])
    r = gate(day_one, "report", "alerts", when=at(10, 0, day=20))  # three weeks on: the rule's window is past
    assert r.returncode == 0 and r.stdout.strip() == "2026-12-20: no cluster alert", r.stdout


def test_report_unscreened_without_a_date_is_the_clocks_day(day_one):
    r = gate(day_one, "report", "unscreened", "--json", when=at(10, 0))
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["S4", "S5"]
    r = gate(day_one, "report", "unscreened", when=at(10, 0, day=2))  # the next day: nobody seen yet
    assert r.stdout.startswith("2026-12-02: 5 on the roster not seen"), r.stdout


def test_followup_list_closes_out_the_clocks_morning_and_close_takes_an_onset_on_the_clocks_day(day_one):
    r = gate(day_one, "followup", "list", "--json", when=at(8, 0))  # the morning check still open: no absences
    assert r.returncode == 0, r.stderr
    assert {json.loads(line)["reason"] for line in r.stdout.splitlines()} == {"fever"}
    r = gate(day_one, "followup", "list", "--json", when=at(9, 0))  # closed out at 08:30 of the clock's day
    listed = [json.loads(line) for line in r.stdout.splitlines()]
    absent = {c["entrant_id"]: c for c in listed if c["reason"] == "absent"}
    assert set(absent) == {"S4", "S5"} and {c["day"] for c in absent.values()} == {"2026-12-01"}
    case = absent["S4"]["case"]
    r = gate(day_one, "followup", "close", case, "--outcome", "sick-leave", "--symptoms", "cough", "--onset",
             "2026-12-02", when=at(9, 30))
    assert r.returncode == 2 and "after today (2026-12-01)" in r.stderr and "nothing was recorded" in r.stderr
    r = gate(day_one, "followup", "close", case, "--outcome", "sick-leave", "--symptoms", "cough", "--onset",
             "2026-12-01", when=at(9, 30))
    assert r.returncode == 0, r.stderr
    closed = next(json.loads(line) for line in gate(day_one, "followup", "list", "--json", when=at(9, 31))
                  .stdout.splitlines() if json.loads(line)["case"] == case)
    assert (closed["onset"], closed["closed_at"]) == ("2026-12-01", at(9, 30))


def stamped(when: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds")


def test_a_daily_report_and_a_station_export_are_stamped_by_the_clock_given(day_one, tmp_path):
    """The report's created_at (which the bureau orders a gate's reports by) and the export manifest's exported_at
    are the command's clock, not the machine's (issue 16, G6)."""
    import sqlite3

    r = gate(day_one, "report", "daily", "--date", "2026-12-01", "--json", when=at(16, 5))
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(day_one) as db:
        assert db.execute("SELECT created_at FROM daily_reports").fetchall() == [(at(16, 5),)]
    r = gate(day_one, "export", "--from", "2026-12-01", "--to", "2026-12-01", "--out", tmp_path / "x",
             when=at(16, 10))
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "x" / "manifest.json").read_text())["exported_at"] == stamped(at(16, 10))
    assert run_gate("export", "verify", tmp_path / "x", "--db", day_one).returncode == 0
