"""HOLE (a17s, issue 16, the bureau with its upstream restarted mid-read): a `gate bureau late` / `daily` whose
session the server ends while it reads (the server restarted with pg_ctl -m fast, or the database's owner ending it
with pg_terminate_backend, as the owner's "who holds the lock" line tells them to) ends as a fault of the station's
own software:
    psql -c "BEGIN; LOCK TABLE daily_reports IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30)" &
    gate bureau late --upstream URL --date 2026-11-27 --lock-wait 20 &
    pg_ctl -D DATA -m fast restart        # or: SELECT pg_terminate_backend(<the bureau's pid>)
    -> gate: unexpected OperationalError: (psycopg.errors.AdminShutdown) terminating connection due to administrator
       command LINE 6: FROM daily_reports ^ [SQL: SELECT schools.school_id, ...] (a fault in the station's software;
       details in ~/.local/state/gate-station/log/gate-errors.log)   exit 70
What should happen: one line as for a stopped upstream ("upstream ... unreachable" / "the upstream ended this read:
try again"), exit 1; no SQL on the terminal, nothing in gate-errors.log. Closed by f17b (storage/bureau_access.py)."""
import os
import subprocess
import sys

import psycopg
import pytest

from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import ROOT, run_gate, wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = "2026-11-27"


@pytest.fixture
def district(pg):
    url = pg.create_db("a17s_bureau_cut", migrated=True)
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    return url


@pytest.mark.parametrize("cut", ["terminated", "restarted"])
@pytest.mark.parametrize("command", ["late", "daily"])
def test_a_read_cut_by_the_server_ends_in_one_line(pg, district, command, cut, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), GATE_LOG_DIR=str(tmp_path / "log"))
    holder = psycopg.connect(district)
    holder.execute("LOCK TABLE daily_reports IN ACCESS EXCLUSIVE MODE")
    reading = subprocess.Popen([sys.executable, "-m", "gate.cli", "bureau", command, "--upstream", district, "--date",
                                DAY, "--lock-wait", "60"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        waiting = lambda: owner_sql(district, "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "  # noqa: E731
                                              "AND datname = current_database()")
        pids = wait_until(waiting, 60)
        assert pids, "the bureau's read never waited"
        if cut == "terminated":
            owner_sql(district, f"SELECT pg_terminate_backend({pids[0][0]})")
        else:
            pg.stop("fast")
            pg.start()
        out, err = reading.communicate(timeout=90)
    finally:
        reading.kill()
        holder.close()
    # today: exit 70, "gate: unexpected OperationalError: (psycopg.errors.AdminShutdown) ... [SQL: ...]"
    assert reading.returncode == 1, (reading.returncode, err)
    assert "unexpected" not in err and "[SQL:" not in err and "0 late" not in out, err
    assert not (tmp_path / "log" / "gate-errors.log").exists()
