"""Attacker a17s (issue 16 sync): two syncs of one log at once (the station's background `gate sync send --watch`
and a teacher's or cron's `gate sync --once`) when the log holds a record edited outside the station: both check the
batch, both refuse the record; the second to write its quarantine row used to fail SQLite's unique constraint
("log failure: the sync checkpoint was not saved", exit 3) and, when it was the --watch one, the station's background
sync ended. Now the second finds the record already quarantined (not quarantined nor held twice) and says what the
first said (quarantined 1, exit 1); --watch goes on to its next round."""
import os
import subprocess
import sys

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, backlog, make_gate
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import ROOT, wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def gate_proc(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "gate.cli", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def edited(pg, tmp_path):
    import sqlite3
    url = pg.create_db("a17s_two_syncs", migrated=True)
    n1 = backlog(make_gate(tmp_path, "n1", "S-N", "北校", url), 300)
    with sqlite3.connect(n1.db) as db:
        db.execute("UPDATE screenings SET decision = 'deny' WHERE seq = 150")
    return url, n1


def test_two_syncs_at_once_over_an_edited_record_neither_says_log_failure(edited):
    url, n1 = edited
    both = [gate_proc("sync", "--once", "--config", n1.cfg) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in both]
    # today: one of them exits 3, "log failure: the sync checkpoint was not saved: UNIQUE constraint failed: ..."
    assert [r[0] for r in results] == [1, 1], results
    assert all("quarantined 1" in r[1] for r in results), results


def test_the_background_sync_goes_on_after_a_sync_beside_it(edited):
    url, n1 = edited
    watch = gate_proc("sync", "send", "--watch", "--interval", "1", "--config", n1.cfg)
    try:
        once = gate_proc("sync", "--once", "--config", n1.cfg)
        once.wait(timeout=120)
        n1.screen_at(at(DAY, 9, 0), "LATE1")
        arrived = wait_until(lambda: owner_sql(url, "SELECT count(*) FROM screenings WHERE entrant_id = 'LATE1'")
                             == [(1,)] or watch.poll() is not None, 60)
        # today (when the race falls on it): the watcher has ended, exit 3, log failure; LATE1 never goes up
        assert watch.poll() is None, watch.stderr.read()
        assert arrived
    finally:
        watch.kill()
        watch.communicate()
