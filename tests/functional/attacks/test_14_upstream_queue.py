"""Issue 14 attacks (a14): the sync queue edited in the file (outbox rows deleted, the sync position moved past
unsent rows) so that two screenings of a fever never reach the upstream: `gate sync verify` names the first one."""
import sqlite3

import pytest

from tests.support import north_of_s7, run_gate


@pytest.fixture
def station(tmp_path, pg):
    url = pg.create_db("outbox")
    db, cfg = north_of_s7(tmp_path, url, db_in_config=True)
    assert run_gate("screen", "--config", cfg, "--temp", "36.5", "--mask", "yes", "--operator", "t").returncode == 0
    assert run_gate("sync", "--config", cfg).returncode == 0
    for t in ("38.6", "38.7"):
        assert run_gate("screen", "--config", cfg, "--temp", t, "--entrant", "P1", "--mask", "yes",
                        "--operator", "t").returncode == 0
    return db, cfg, url


@pytest.mark.parametrize("sql", ["delete from outbox where kind = 'screening'", "delete from outbox",
                                 "update sync_state set last_seq = last_seq + 100"])
def test_a_fever_kept_from_the_upstream_by_editing_the_queue_is_named(station, sql):
    db, cfg, url = station
    with sqlite3.connect(db) as c:
        c.execute(sql)
    s = run_gate("sync", "--config", cfg)
    r = run_gate("sync", "verify", "--config", cfg)
    assert s.returncode == 0
    assert r.returncode == 1, "two screenings never reached the upstream and nobody says so"
    assert "2 differ" in r.stdout and "seq 2" in r.stderr and "missing upstream" in r.stderr and "differs from the log" in r.stderr
