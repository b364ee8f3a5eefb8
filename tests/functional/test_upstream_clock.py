"""The upstream's stamps written by the owner's and the bureau's commands come from the command's clock
(gate.cli.main's ``args.clock``), not the machine's: a school's declaration (`gate upstream school add`) and a district
export (its manifest's exported_at and its record in bureau_exports), against a real PostgreSQL (issue 16, G6)."""
import datetime as dt
import json
import time

import pytest

from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

DECLARED = time.mktime((2026, 9, 1, 8, 0, 0, 0, 0, -1))
EXPORTED = time.mktime((2026, 12, 2, 17, 30, 0, 0, 0, -1))


def test_a_school_declared_and_a_district_export_are_stamped_by_the_clock_given(pg, tmp_path):
    url = pg.create_db("clock_stamps")
    done = run_gate("upstream", "school", "add", "S-K", "--name", "钟楼小学", "--upstream", url,
                    clock=lambda: DECLARED)
    assert done.returncode == 0, done.stderr
    assert owner_sql(url, "SELECT created_at FROM schools WHERE school_id = 'S-K'") == [(DECLARED,)]
    out = tmp_path / "district"
    done = run_gate("bureau", "export", "--upstream", url, "--from", "2026-12-01", "--to", "2026-12-01",
                    "--out", out, "--key", tmp_path / "k", clock=lambda: EXPORTED)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["exported_at"] == dt.datetime.fromtimestamp(EXPORTED).astimezone().isoformat(timespec="seconds")
    assert owner_sql(url, "SELECT at FROM bureau_exports") == [(EXPORTED,)]
