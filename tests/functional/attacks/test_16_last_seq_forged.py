"""a16c (issue 16): a station role may move its own gate's registry bookkeeping; a forged last_seq (the highest int,
or below zero) neither quarantines nor drops nor doubles the gate's later records."""
import sqlite3

import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate, station_role
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_a_forged_last_seq_loses_and_doubles_nothing(pg, tmp_path):
    url = pg.create_db("a16c_lastseq")
    w1 = make_gate(tmp_path, "w1", "S-W", "西校", url)
    w1.screen_at(at(DAY, 7, 30), "W1")
    assert run_gate("sync", "--once", "--config", w1.cfg).returncode == 0
    role = station_role(url, "a16c_ls_n1", "S-N", station="n1")
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", role)
    n1.screen_at(at(DAY, 7, 31), "N1")
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    for i, forged in enumerate((2147483647, -5, 0)):
        with psycopg.connect(role, autocommit=True) as conn:
            assert conn.execute("UPDATE stations SET last_seq = %s WHERE station_id = 'n1'", (forged,)).rowcount == 1
        n1.screen_at(at(DAY, 7, 32 + i), f"N{i + 2}", temp=38.5 if i == 0 else 36.5)
        done = run_gate("sync", "--once", "--config", n1.cfg)
        assert done.returncode == 0 and "quarantined 0" in done.stdout, (done.stdout, done.stderr)
    with sqlite3.connect(n1.db) as db:
        local = sorted(db.execute("SELECT seq, id FROM screenings"))
    assert sorted(owner_sql(url, "SELECT seq, id FROM screenings WHERE station_id = 'n1'")) == local
    assert run_gate("sync", "verify", "--config", n1.cfg).returncode == 0
