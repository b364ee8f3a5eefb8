"""Attack (h16s): a pupil writes a JSON column nested deeper than Python's stack into the SQLite file (a hundred thousand
'[' then as many ']'). Parsing it raised RecursionError, which nothing caught: `gate verify` ended as a fault of the
station's software (exit 70) instead of naming the row, and every sync round crashed on it, so the gate sent nothing
more upstream. Now it is an edit like any other: `gate verify` names the row and exits 1, the sync quarantines it and
sends the rest, whether the row is checked in the sync itself or in its helper processes (which answer, not die)."""
import sqlite3

import pytest

from storage import row_check
from storage.log import ScreeningLog
from storage.row_check import RowCheckHelper
from storage.sync import Sync
from tests.support import fill_log, run_gate

DEEP = "[" * 100_000 + "]" * 100_000


def nested_log(tmp_path, rows: int = 12):
    db = tmp_path / "station.db"
    fill_log(db, rows)
    with sqlite3.connect(db) as con:
        (row_id,) = con.execute("SELECT id FROM screenings WHERE rowid = 5").fetchone()
        con.execute("UPDATE screenings SET readings = ? WHERE id = ?", (DEEP, row_id))
    con.close()
    return db, row_id


def test_gate_verify_names_the_row_instead_of_failing(tmp_path):
    db, row_id = nested_log(tmp_path)
    done = run_gate("verify", "--db", str(db))
    assert done.returncode == 1, done.stderr
    assert row_id in done.stdout + done.stderr and "unexpected" not in done.stderr


@pytest.mark.parametrize("where", ["in the sync", "in the helpers"])
def test_the_sync_quarantines_the_row_and_sends_the_rest(tmp_path, monkeypatch, where):
    db, row_id = nested_log(tmp_path)
    gave_up = []
    if where == "in the helpers":
        monkeypatch.setattr(row_check, "FROM_ROWS", 1)  # a batch of 12 is checked in the helpers too
        original = RowCheckHelper._give_up
        monkeypatch.setattr(RowCheckHelper, "_give_up", lambda self, exc: gave_up.append(exc) or original(self, exc))
    with ScreeningLog(db) as log:
        sync = Sync(log, f"sqlite:///{tmp_path / 'district.db'}")
        result = sync.once()
        sync.close()
    assert result.quarantined == 1 and row_id in result.errors[0] and "changed outside the station" in result.errors[0]
    assert gave_up == []  # the helpers answered for the row: none died on it
    with sqlite3.connect(tmp_path / "district.db") as up:
        sent = {r[0] for r in up.execute("SELECT id FROM screenings")}
    up.close()
    assert len(sent) == 11 and row_id not in sent
