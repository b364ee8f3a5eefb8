"""a17s (issue 16, the bureau with its upstream down): `gate bureau late` / `daily` against an upstream stopped
(pg_ctl stop), frozen (SIGSTOP) or with a table held by another session never hang, exit 1 with one line saying
why, and never say "0 late" (or exit 0, which a cron mail reads as "nobody late") for a day they could not read;
the server back, the next run gives the day's answer."""
import os
import signal
import subprocess
import sys

import psycopg
import pytest

from tests.functional.attacks.test_16_bureau_frozen import frozen_server
from tests.pg import unavailable_reason
from tests.support import ROOT, run_gate, wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = "2026-11-27"
CEILING_S = 90  # the test's patience on a loaded machine, far above the bound (lock wait + 10 s): not a timing claim


@pytest.fixture(scope="module")
def district(pg):
    url = pg.create_db("a17s_bureau_down", migrated=True)
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    return url


def gate_cli(*args):
    """The command in its own process, as cron runs it: a hang is the process not ending (killed at the ceiling)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gate.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=CEILING_S)


def said_nothing_of_the_day(done):
    said = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in said, said
    assert "0 late" not in said and "school(s)," not in said and "S-A" not in done.stdout, said
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_read_when_up_one_school_late(district):
    done = run_gate("bureau", "late", "--upstream", district, "--date", DAY)
    assert done.returncode == 1 and "S-A" in done.stdout, done.stdout + done.stderr
    done = run_gate("bureau", "daily", "--upstream", district, "--date", DAY)
    assert done.returncode == 0 and "1 school(s), 1 late" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("command", ["late", "daily"])
def test_a_stopped_upstream_is_said_unreachable_then_read_again_once_back(pg, district, command):
    pg.stop()
    try:
        line = said_nothing_of_the_day(run_gate("bureau", command, "--upstream", district, "--date", DAY))
        assert "unreachable" in line, line
    finally:
        pg.start()
        pg.wait_ready()
    again = run_gate("bureau", command, "--upstream", district, "--date", DAY)
    assert "S-A" in again.stdout and "Traceback" not in again.stderr, again.stdout + again.stderr


@pytest.mark.parametrize("command", ["late", "daily"])
def test_a_frozen_upstream_ends_the_command_in_its_bound(pg, district, command):
    frozen = frozen_server(pg)
    for pid in frozen:  # the test's own server only
        os.kill(pid, signal.SIGSTOP)
    try:
        line = said_nothing_of_the_day(gate_cli("bureau", command, "--upstream", district, "--date", DAY))
        assert "unreachable" in line or "did not answer" in line, line
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    again = gate_cli("bureau", command, "--upstream", district, "--date", DAY)
    assert "S-A" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize("table", ["daily_reports", "stations", "schools", "school_days"])
@pytest.mark.parametrize("command", ["late", "daily"])
def test_a_table_held_by_another_session_ends_in_one_line_never_0_late(district, table, command):
    with psycopg.connect(district) as holder:
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        done = gate_cli("bureau", command, "--upstream", district, "--date", DAY, "--lock-wait", "0.5")
        holder.rollback()
    if done.returncode == 0 or (command == "late" and "S-A" in done.stdout):
        return  # this command does not read that table: its answer is the day's own
    line = said_nothing_of_the_day(done)
    assert "held by another session" in line, line


def test_a_server_restarted_while_the_app_reader_waits_is_read_again(pg, district):
    """Restarted between two runs of the cron line: the second gets the day's answer."""
    pg.stop("immediate")
    pg.start()
    assert wait_until(lambda: run_gate("bureau", "late", "--upstream", district, "--date", DAY).returncode == 1
                      and "S-A" in run_gate("bureau", "late", "--upstream", district, "--date", DAY).stdout, 30)
