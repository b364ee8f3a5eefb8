"""The bureau's row of a school is provisional by the school report's own rule (storage.provisional): while one of its
gates has not synced since a check of the day ended, the day is no zero report, even when every gate has sent a
daily report that said nothing abnormal. Real PostgreSQL; the gates' clocks and the bureau's are the test's."""
import json

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate, sql_as, station_role
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
D = DAY.isoformat()


def bureau_row(url, h, m):
    done = run_gate("bureau", "daily", "--upstream", url, "--date", D, "--json", clock=Clock(at(DAY, h, m)))
    assert done.returncode == 0, done.stderr
    return {r["school_id"]: r for r in json.loads(done.stdout)}["S-P"]


def school_report(url, h, m):
    done = run_gate("school", "report", "--upstream", url, "--school", "S-P", "--date", D, "--json",
                    clock=Clock(at(DAY, h, m)))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def bureau_text(url, h, m):
    return run_gate("bureau", "daily", "--upstream", url, "--date", D, clock=Clock(at(DAY, h, m))).stdout


@pytest.fixture
def two_gates(pg, tmp_path):
    """School S-P, gates p1 and p2 (each thinks it is the school's only gate: their own reports say nothing of
    the other). p2 reports at 07:35 and syncs at 07:40, before the morning check ends (08:30); p1 reports at 08:00
    and syncs at 08:45, after it."""
    url = pg.create_db("bureau_provisional")
    p1, p2 = (make_gate(tmp_path, g, "S-P", "两门小学", url) for g in ("p1", "p2"))
    p1.screen_at(at(DAY, 7, 0), "P1")
    p2.screen_at(at(DAY, 7, 5), "P2")
    for gate, reported, synced in ((p2, (7, 35), (7, 40)), (p1, (8, 0), (8, 45))):
        assert run_gate("report", "daily", "--config", gate.cfg, "--date", D,
                        clock=Clock(at(DAY, *reported))).returncode == 0
        done = run_gate("sync", "--once", "--config", gate.cfg, clock=Clock(at(DAY, *synced)))
        assert done.returncode == 0, done.stderr
    return url, p1, p2


def test_a_gate_not_synced_since_the_morning_check_keeps_the_bureaus_row_provisional(two_gates):
    url, _, p2 = two_gates
    row = bureau_row(url, 9, 30)
    # Before: provisional false, zero_report true: the bureau called half the school's morning a zero report.
    assert (row["provisional"], row["zero_report"], row["stations_reported"]) == (True, None, 2), row
    assert row["unscreened"] is None and row["late"] is False
    mine = school_report(url, 9, 30)
    assert (mine["provisional"], mine["zero_report"]) == (True, None)  # the school's own report: the same answer
    assert mine["waiting_for"]["gates"] == ["p2"] and mine["waiting_for"]["since"] == f"{D} 08:30"
    assert "临时 prov." in bureau_text(url, 9, 30) or "provisional" in bureau_text(url, 9, 30).lower()
    # p2 syncs again after the check (nothing new to send: the upstream still learns it came)
    assert run_gate("sync", "--once", "--config", p2.cfg, clock=Clock(at(DAY, 10, 0))).returncode == 0
    row = bureau_row(url, 10, 30)
    assert (row["provisional"], row["zero_report"]) == (False, True), row
    mine = school_report(url, 10, 30)
    assert (mine["provisional"], mine["zero_report"]) == (False, True)


@pytest.mark.parametrize("forged", ["a year ahead", "NaN"])
def test_a_forged_last_sync_from_a_station_role_does_not_end_the_wait(two_gates, forged):
    url, _, _ = two_gates
    # Whoever holds p2's station password may update p2's registry row (the README's grants, u0015): a stamp after
    # the bureau's "now" is not believed, so the day stays provisional until p2 really syncs.
    p2_role = station_role(url, "h16v_p2", "S-P", station="p2")
    assert sql_as(p2_role, "UPDATE stations SET last_sync_at = %s WHERE station_id = 'p2'",
                  (at(DAY, 23, 59) + 86400 * 365 if forged == "a year ahead" else float("nan"),)) == 1
    row = bureau_row(url, 9, 30)
    assert (row["provisional"], row["zero_report"]) == (True, None), row
    assert school_report(url, 9, 30)["waiting_for"]["gates"] == ["p2"]
