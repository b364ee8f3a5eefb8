"""a16c (issue 16): `gate purge` keeps what the sync pulled from the school's other gates and says how many of those
records past retention it kept; the pupil they refuse stays refused; a bad --older-than is refused in one line."""
import time
import sqlite3

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.fixture
def pulled(pg, tmp_path):
    url = pg.create_db("a16c_purge")
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    n2 = make_gate(tmp_path, "n2", "S-N", "北校", url)
    n1.screen_at(at(DAY, 7, 30), "P9", temp=38.5)
    n1.screen_at(at(DAY, 7, 31), "P9", temp=38.6)
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    n2.screen_at(at(DAY, 7, 40), "P1")
    done = run_gate("sync", "--once", "--config", n2.cfg)
    assert done.returncode == 0 and "pulled 1" in done.stdout, done.stdout
    return url, n1, n2


def decision(gate, entrant):
    result = gate.screen_at(time.time(), entrant)
    return str(getattr(result, "decision", result)).lower()


def admin(gate):
    assert run_gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--config", gate.cfg,
                    input="318274\n").returncode == 0
    assert run_gate("users", "add", "aud", "--role", "auditor", "--user", "boss", "--pin-stdin", "--config",
                    gate.cfg, input="318274\n427351\n").returncode == 0


def purge(gate, days, clock=None):
    return run_gate("purge", "--older-than", days, "--config", gate.cfg, "--user", "aud", "--pin-stdin",
                    input="427351\n", clock=clock)


def test_purge_says_it_keeps_the_pulled_fever_past_retention_and_the_pupil_stays_refused(pulled):
    url, n1, n2 = pulled
    with sqlite3.connect(n2.db) as db:
        before = db.execute("SELECT count(*) FROM school_records").fetchone()[0]
    admin(n2)
    for _ in range(2):  # twice: the second run keeps and says the same
        done = purge(n2, "1", clock=Clock(time.time() + 3 * 86400))  # pulled 3 days ago
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        said = done.stdout + done.stderr
        assert "kept 2 record(s) pulled from the school's other gates past retention" in said, said
    with sqlite3.connect(n2.db) as db:
        assert db.execute("SELECT count(*) FROM school_records").fetchone()[0] == before
    assert run_gate("verify", "--config", n2.cfg).returncode == 0
    with sqlite3.connect(n2.db) as db:
        assert db.execute("SELECT count(*) FROM screenings").fetchone()[0] == 1  # P1: after an uncleared fever
    assert "deny" in decision(n2, "P9")


@pytest.mark.parametrize("days", ["nan", "-1", "abc", "", "1e400", "3.5", "0x10"])
def test_a_bad_older_than_is_refused_in_one_line_and_nothing_is_purged(pulled, days):
    url, n1, n2 = pulled
    with sqlite3.connect(n2.db) as db:
        before = db.execute("SELECT count(*) FROM screenings").fetchone()[0]
    admin(n2)
    done = purge(n2, days)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    with sqlite3.connect(n2.db) as db:
        assert db.execute("SELECT count(*) FROM screenings").fetchone()[0] == before
