"""a16c's hole (issue 16, "a last sync stamped in the future is not believed"): a last sync stamped after the bureau's
own clock by less than a day WAS believed. A station role (its own registry row is its to update) wrote its gate's
last_sync_at = the bureau's now + 1 h: the school's day turned from provisional (the gate last synced at 08:06, before
晨检 ended at 08:30) to `provisional: false, zero_report: true`, at the bureau and in `gate school report`. Now a stamp
later than the reader's now by more than a clock's skew (`storage.provisional.CLOCK_SKEW_S`, 10 minutes) is not
believed by the bureau, the school's report or a gate's own daily report: the day stays provisional. A gate whose clock
runs a few minutes ahead is still believed."""
import json

import psycopg
import pytest

from gate.config import load_config
from gate.school_day import provisional
from storage.provisional import CLOCK_SKEW_S
from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate
from tests.functional.attacks.test_16_station_role_days import bureau_row, two_schools  # noqa: F401
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
NOW = at(DAY, 9, 0)  # the reader's clock: 晨检 ended at 08:30, 午检 has not


def synced_before_the_check_ended(two_schools):
    url, w1, n1, _ = two_schools
    n1.screen_at(at(DAY, 7, 30), "N1")
    assert run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(),
                    clock=Clock(at(DAY, 8, 5))).returncode == 0
    assert run_gate("sync", "--once", "--config", n1.cfg, clock=Clock(at(DAY, 8, 6))).returncode == 0
    assert bureau_row(url, NOW)["provisional"] is True  # not synced since 08:30
    return url, n1


def stamp(as_role: str, value: float) -> None:
    """gate n1's last sync written by hand as ``as_role``: a station role's write is stamped by the server since
    u0018; the owner's keeps its time (a gate's clock ahead, owner-run)."""
    with psycopg.connect(as_role, autocommit=True) as conn:
        assert conn.execute("UPDATE stations SET last_sync_at = %s WHERE station_id = 'n1'", (value,)).rowcount == 1


def school_report(url):
    done = run_gate("school", "report", "--upstream", url, "--school", "S-N", "--date", DAY.isoformat(), "--json",
                    clock=Clock(NOW))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_last_sync_stamped_after_the_bureaus_now_is_not_believed(two_schools):
    url, n1 = synced_before_the_check_ended(two_schools)
    for ahead_s in (CLOCK_SKEW_S + 1, 3600, 11 * 3600, 23 * 3600):  # one school: each stamp judged alone
        # a value of its own each (the trigger leaves the stamp alone when the bookkeeping does not move)
        for who, as_role, value in (("the owner", url, NOW + ahead_s), ("the station's role", n1.upstream,
                                                                         NOW + ahead_s + 0.5)):
            stamp(as_role, value)
            row, school = bureau_row(url, NOW), school_report(url)
            # was (1 h, 11 h, 23 h ahead): row provisional False, zero_report True; the school report zero_report True
            assert row["provisional"] is True and row["zero_report"] is None, (ahead_s, who, row)
            assert school["provisional"] is True and school["zero_report"] is None, (ahead_s, who, school)
            assert school["waiting_for"]["gates"] == ["n1"], (ahead_s, who, school["waiting_for"])


def test_a_gate_clock_a_few_minutes_ahead_is_still_believed(two_schools):
    url, n1 = synced_before_the_check_ended(two_schools)
    # the gate synced at 09:00 by a clock 10 minutes fast, under the owner's role (a station role's claimed time is
    # not read at all since u0018: the server stamps its syncs, test_16_server_stamps_sync.py)
    stamp(url, NOW + CLOCK_SKEW_S)
    row, school = bureau_row(url, NOW), school_report(url)
    assert row["provisional"] is False and row["zero_report"] is True, row
    assert school["provisional"] is False and school["zero_report"] is True, school


def test_a_gates_own_daily_report_does_not_believe_the_other_gates_future_stamp(pg, tmp_path):
    url = pg.create_db("f16c_future")
    north = make_gate(tmp_path, "north", "S-N", "北校", url)
    south = make_gate(tmp_path, "south", "S-N", "北校", url)
    north.cfg.write_text(north.cfg.read_text(encoding="utf-8").replace(
        '[school]\n', '[school]\nabsence_cases = "school"\ngates = 2\n'), encoding="utf-8")
    for gate, pupil in ((north, "P1"), (south, "P2")):
        gate.screen_at(at(DAY, 7, 30), pupil)
        assert run_gate("sync", "--once", "--config", gate.cfg, clock=Clock(at(DAY, 8, 45))).returncode == 0
    cfg = load_config(north.cfg)
    assert provisional(cfg, DAY.isoformat(), NOW) == []  # both synced after 晨检 ended: the morning is whole
    with psycopg.connect(url, autocommit=True) as conn:  # south's registry row written by hand: before the check
        conn.execute("UPDATE stations SET last_sync_at = %s WHERE station_id = 'south'", (at(DAY, 8, 6),))
    assert [(w["session"], w["gates"]) for w in provisional(cfg, DAY.isoformat(), NOW)] == [("morning", ["south"])]
    for ahead_s, waits in ((CLOCK_SKEW_S + 1, [("morning", ["south"])]), (3600, [("morning", ["south"])]),
                           (CLOCK_SKEW_S, [])):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE stations SET last_sync_at = %s WHERE station_id = 'south'", (NOW + ahead_s,))
        assert [(w["session"], w["gates"]) for w in provisional(cfg, DAY.isoformat(), NOW)] == waits, ahead_s
    report = json.loads(run_gate("report", "daily", "--config", north.cfg, "--date", DAY.isoformat(), "--json",
                                 clock=Clock(NOW)).stdout)
    assert report["provisional"] is False  # south within the skew: believed
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE stations SET last_sync_at = %s WHERE station_id = 'south'", (NOW + 3600,))
    report = json.loads(run_gate("report", "daily", "--config", north.cfg, "--date", DAY.isoformat(), "--json",
                                 clock=Clock(NOW)).stdout)
    assert report["provisional"] is True and report["zero_report"] is None, report
