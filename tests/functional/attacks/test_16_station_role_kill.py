"""a16c (issue 16): a station role's sync killed mid-way (kill -9), over days with and without a partition, then run
again, then maintain: the upstream holds every record of the log exactly once."""
import datetime as dt
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, make_gate, many, station_role, west_synced
from tests.functional.attacks.conftest import PY, ROOT
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_a_station_roles_sync_killed_mid_way_then_run_again_sends_each_record_once(pg, tmp_path):
    url, _ = west_synced(pg, tmp_path, "a16c_kill")
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", station_role(url, "a16c_kill_n1", "S-N", station="n1"))
    many(n1, [DAY, DAY - dt.timedelta(days=4), DAY - dt.timedelta(days=3)], 700)  # DAY made, the 2 before it not
    killed = 0
    for wait in (0.8, 1.5, 2.5):
        proc = subprocess.Popen([PY, "-m", "gate.cli", "sync", "--once", "--config", str(n1.cfg)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        time.sleep(wait)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate()
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    with sqlite3.connect(n1.db) as db:
        local = {r[0] for r in db.execute("SELECT id FROM screenings")}
    for step in ("synced", "maintained", "maintained again"):
        remote = [r[0] for r in owner_sql(url, "SELECT id FROM screenings WHERE school_id = 'S-N'")]
        assert len(remote) == len(set(remote)), f"{step}: {len(remote) - len(set(remote))} duplicate(s)"
        assert set(remote) == local, f"{step}: {len(local - set(remote))} missing, {len(set(remote) - local)} extra"
        assert run_gate("upstream", "maintain", "--upstream", url).returncode == 0
    assert owner_sql(url, "SELECT count(*) FROM screenings_default") == [(0,)]
    assert run_gate("sync", "verify", "--config", n1.cfg).returncode == 0
    print("killed", killed)
