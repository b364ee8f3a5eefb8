"""a16c (issue 16): a clerk's `--keep-days 1` detaches the past; a gate's late rows of a detached day wait in the
default partition; the bureau gives no zero report of a detached day; the next maintain with the right retention
attaches the day again with those rows: every record once."""
import json
import sqlite3

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate, station_role
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_a_day_detached_by_a_short_keep_days_loses_nothing_and_reports_no_zero(pg, tmp_path):
    url = pg.create_db("a16c_keep")
    w1 = make_gate(tmp_path, "w1", "S-W", "西校", url)
    w1.screen_at(at(DAY, 7, 30), "W1")
    assert run_gate("report", "daily", "--config", w1.cfg, "--date", DAY.isoformat(),
                    clock=Clock(at(DAY, 20, 0))).returncode == 0
    assert run_gate("sync", "--once", "--config", w1.cfg, clock=Clock(at(DAY, 20, 1))).returncode == 0
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", station_role(url, "a16c_keep_n1", "S-N", station="n1"))
    n1.screen_at(at(DAY, 7, 31), "N1")
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    cut = run_gate("upstream", "maintain", "--upstream", url, "--keep-days", "1")
    assert cut.returncode == 0, cut.stderr
    n1.screen_at(at(DAY, 7, 32), "N2", temp=38.5)  # a late row of the detached day, under the station's role
    n1.screen_at(at(DAY, 7, 33), "N2", temp=38.6)
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    bureau = run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json",
                      clock=Clock(at(DAY, 21, 0)))
    assert bureau.returncode == 0, bureau.stderr
    rows = {r["school_id"]: r for r in json.loads(bureau.stdout)}
    assert rows["S-N"]["zero_report"] is not True, rows["S-N"]
    assert rows["S-W"]["screened"] != 0 and rows["S-N"]["screened"] != 0, rows  # a detached day is not 0 screened
    back = run_gate("upstream", "maintain", "--upstream", url, "--keep-days", "400")
    assert back.returncode == 0 and "reattached" in back.stdout + back.stderr, (back.stdout, back.stderr)
    for gate, school in ((n1, "S-N"), (w1, "S-W")):
        with sqlite3.connect(gate.db) as db:
            local = sorted(r[0] for r in db.execute("SELECT id FROM screenings"))
        assert sorted(r[0] for r in owner_sql(url, "SELECT id FROM screenings WHERE school_id = :s",
                                              s=school)) == local
    assert owner_sql(url, "SELECT count(*) FROM screenings_default") == [(0,)]
    bureau = json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json",
                                 clock=Clock(at(DAY, 21, 0))).stdout)
    assert {r["school_id"]: r["confirmed_fevers"] for r in bureau}["S-N"] == 1, bureau
