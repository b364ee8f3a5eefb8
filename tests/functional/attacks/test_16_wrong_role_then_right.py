"""a16c (issue 16): a gate pointed at the wrong role (the bureau's read-only role, another gate's bound role, a role
of another school) sends nothing, in one line, and loses nothing: once its config names its own role again, every
record goes upstream once."""
import sqlite3

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, bureau_role, make_gate, station_role, west_synced
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.mark.parametrize("wrong", ["bureau", "other-gates-role", "other-schools-role"])
def test_a_sync_under_the_wrong_role_sends_nothing_and_loses_nothing(pg, tmp_path, wrong):
    url, _ = west_synced(pg, tmp_path, f"a16c_wrong_{wrong.replace('-', '_')}")
    tag = wrong.replace("-", "_")
    right = station_role(url, f"a16c_{tag}_n2", "S-N", station="n2")
    bad = {"bureau": lambda: bureau_role(url, f"a16c_{tag}_b"),
           "other-gates-role": lambda: station_role(url, f"a16c_{tag}_n1", "S-N", station="n1"),
           "other-schools-role": lambda: station_role(url, f"a16c_{tag}_w", "S-W")}[wrong]()
    n2 = make_gate(tmp_path, "n2", "S-N", "北校", bad)
    n2.screen_at(at(DAY, 7, 31), "N1")
    n2.screen_at(at(DAY, 7, 32), "N2", temp=38.5)
    done = run_gate("sync", "--once", "--config", n2.cfg)
    assert done.returncode == 1 and "Traceback" not in done.stderr, (done.stdout, done.stderr)
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1, done.stderr
    assert owner_sql(url, "SELECT count(*) FROM screenings WHERE school_id = 'S-N'") == [(0,)]
    n2.cfg.write_text(n2.cfg.read_text().replace(bad, right))
    done = run_gate("sync", "--once", "--config", n2.cfg)
    assert done.returncode == 0, (done.stdout, done.stderr)
    with sqlite3.connect(n2.db) as db:
        local = {r[0] for r in db.execute("SELECT id FROM screenings")}
        quarantined = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    remote = [r[0] for r in owner_sql(url, "SELECT id FROM screenings WHERE school_id = 'S-N'")]
    assert sorted(remote) == sorted(local), f"upstream {len(remote)} of {len(local)}; {quarantined} quarantined"
