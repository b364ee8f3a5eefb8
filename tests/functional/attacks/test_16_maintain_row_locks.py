"""Issue 16 G4 (a16d), against a real PostgreSQL: what a pupil with a station role's password can hold besides a
read. An insert's lock (ROW EXCLUSIVE, which INSERT lets any station role take with LOCK TABLE, on the screenings or
straight on their default partition) makes maintain skip what needs the default partition in one line naming the
holder, since when and what to do (exit 1), and the next run does it all; a lock held on the registry (`stations`) or
a read of the rollup (`school_days`) stops nothing of maintain."""
import datetime as dt

import psycopg
import pytest

from storage.partitions import name_of
from tests.functional.attacks.bureau_roles_setup import DAY, TODAY
from tests.functional.attacks.test_16_owner_locks import attached, old_days  # noqa: F401  (fixture)
from tests.functional.attacks.test_16_station_role_days import one_line
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

MAINTAIN = ("upstream", "maintain", "--ahead", "2", "--keep-days", "1")


@pytest.mark.parametrize("table", ["screenings", "screenings_default"])
def test_a_pupils_insert_lock_on_the_screenings_is_skipped_in_one_line_and_the_next_run_does_it(old_days, table):
    url, _, pupil = old_days
    ahead = name_of(TODAY + dt.timedelta(days=2))
    held = psycopg.connect(pupil)
    try:
        held.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")  # never ended
        pid = held.info.backend_pid
        done = run_gate(*MAINTAIN, "--upstream", url, "--lock-wait", "0.5")
        line = one_line(done.stderr)
        assert done.returncode == 1 and "skipped" in line and f"pid {pid}, role " in line, line
        assert "idle in transaction since " in line and f"SELECT pg_terminate_backend({pid})" in line, line
        assert "run gate upstream maintain again later" in line, line
        assert ahead not in attached(url) and name_of(DAY) in attached(url)
    finally:
        held.close()
    again = run_gate(*MAINTAIN, "--upstream", url)
    assert again.returncode == 0 and not again.stderr, again.stderr
    assert ahead in attached(url) and name_of(DAY) not in attached(url)


@pytest.mark.parametrize("hold", ["LOCK TABLE stations IN ROW EXCLUSIVE MODE", "SELECT * FROM school_days"])
def test_a_pupils_lock_on_the_registry_or_the_rollup_stops_nothing_of_maintain(old_days, hold):
    url, _, pupil = old_days
    held = psycopg.connect(pupil)
    try:
        held.execute(hold)
        done = run_gate(*MAINTAIN, "--upstream", url, "--lock-wait", "0.5")
        assert done.returncode == 0 and not done.stderr, done.stderr
        assert name_of(TODAY + dt.timedelta(days=2)) in attached(url) and name_of(DAY) not in attached(url)
    finally:
        held.close()
