"""The log: durable (WAL + FULL, survives kill -9), hash-chained, migrated, and tamper-evident."""
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.base import Reading
from gate.config import Config
from domain import Decision, MaskResult, MaskState
from gate.station import Station
from storage.log import LogError, ScreeningLog
from storage.migrate import head_revision
from tests.support import ROOT, env_with_root, run_gate


def _fill(path: Path, n: int) -> list[str]:
    with ScreeningLog(path) as log:
        st = Station(Config(station_id="t"), log)
        return [st.screen([Reading(object_c=36.5, source="manual", operator="x")], MaskResult(MaskState.YES),
                          entrant_id=f"e{i}", operator="李老师").id for i in range(n)]


def test_append_then_read_back_everything(db_path):
    ids = _fill(db_path, 5)
    with ScreeningLog(db_path) as log:
        assert log.ids() == set(ids)
        s = log.get(ids[2])
        assert s.decision is Decision.ADMIT and s.entrant_id == "e2" and s.operator == "李老师"
        assert s.readings[0].object_c == 36.5 and s.mask.state is MaskState.YES
        assert log.day_counts()["admit"] == 5 and log.day_counts()["screened"] == 5
        assert log.verify().ok and log.verify().rows == 5


def test_every_connection_uses_wal_and_full_sync(db_path):
    with ScreeningLog(db_path) as log:
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_schema_is_migrated_with_alembic_and_upgrades_in_place(db_path):
    _fill(db_path, 1)
    raw = sqlite3.connect(db_path)
    assert raw.execute("select version_num from alembic_version").fetchone()[0] == head_revision()
    raw.close()
    _fill(db_path, 1)  # reopening an up-to-date log is a no-op, not an error


def test_every_screening_is_queued_for_sync_in_its_own_transaction(db_path):
    ids = _fill(db_path, 3)
    raw = sqlite3.connect(db_path)
    assert [r[0] for r in raw.execute("select record_id from outbox where kind = 'screening' order by seq")] == ids


@pytest.mark.parametrize("tamper, says", [
    ("update screenings set decision='admit', message='ok' where seq=3", "changed"),
    ("update screenings set temperature_c=36.0 where seq=3", "changed"),
    ("update screenings set readings=replace(readings, '36.5', '35.5') where seq=3", "changed"),
    ("delete from screenings where seq=3", "broken"),
    ("update screenings set mask_state='yes', source='gun-9' where seq=3", "disagree"),
])
def test_verify_names_the_first_bad_row(db_path, tamper, says):
    _fill(db_path, 6)
    raw = sqlite3.connect(db_path)
    raw.execute(tamper)
    raw.commit()
    raw.close()
    with ScreeningLog(db_path) as log:
        result = log.verify()
    assert not result.ok
    bad = 3 if "seq=3" in tamper and "delete" not in tamper else 4
    assert result.bad_seq == bad and says in result.detail


def test_gate_verify_exit_codes(db_path):
    _fill(db_path, 4)
    cmd = ["verify", "--db", db_path]
    ok = run_gate(*cmd)
    assert ok.returncode == 0 and "ok: 4 screenings" in ok.stdout
    raw = sqlite3.connect(db_path)
    raw.execute("update screenings set entrant_id='someone-else' where seq=2")
    raw.commit()
    bad = run_gate(*cmd)
    assert bad.returncode == 1 and "row 2" in bad.stderr and "Traceback" not in bad.stderr


def test_a_read_only_log_raises_log_error_and_stores_nothing(db_path):
    _fill(db_path, 2)
    with ScreeningLog(db_path, read_only=True) as log:
        st = Station(Config(), log)
        with pytest.raises(LogError) as err:
            st.screen([Reading(object_c=36.5, source="manual", operator="x")], MaskResult(MaskState.YES))
        assert "not saved" in str(err.value)
    with ScreeningLog(db_path) as log:
        assert log.count() == 2 and log.verify().ok


@pytest.mark.parametrize("round_", range(3))
def test_kill_minus_9_mid_burst_loses_no_acknowledged_screening(tmp_path, round_):
    db = tmp_path / "burst.db"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/helpers/writer.py"), str(db)],
                            stdout=subprocess.PIPE, text=True, env=env_with_root(), cwd=ROOT)
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 150 + 50 * round_:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    acknowledged += [line.strip() for line in proc.stdout if line.strip()]
    with ScreeningLog(db) as log:
        stored = log.ids()
        assert set(acknowledged) <= stored
        assert log.verify().ok
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_a_log_from_the_first_release_upgrades_in_place_and_still_verifies(db_path):
    from alembic import command
    from sqlalchemy import text

    from domain import Screening
    from storage import chain
    from storage.db import make_engine
    from storage.log import HASHED_COLUMNS, screening_content, screening_values
    from storage.migrate import alembic_config

    engine = make_engine(db_path)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")  # the schema as the first release shipped it
    insert_v1 = text(f"INSERT INTO screenings ({', '.join(HASHED_COLUMNS)}, prev_hash, row_hash) "
                     f"VALUES ({', '.join(':' + k for k in HASHED_COLUMNS)}, :prev_hash, :row_hash)")
    prev = chain.GENESIS
    with engine.begin() as conn:
        for v in (36.4, 38.0):
            s = Screening("old", (Reading(object_c=v, source="gun-1", ambient_c=21.0),), MaskResult(MaskState.NO),
                          Decision.DENY, ("no-mask",), "m", 37.3)
            values = {k: screening_values(s)[k] for k in HASHED_COLUMNS}
            h = chain.link(prev, screening_content(s))
            conn.execute(insert_v1, {**values, "prev_hash": prev, "row_hash": h})
            prev = h
    engine.dispose()
    with ScreeningLog(db_path) as log:  # opening migrates to the newest schema
        result = log.verify()
        assert result.ok and result.rows == 2
        with log.engine.connect() as conn:
            rows = conn.exec_driver_sql("select source, mask_state from screenings").all()
        assert rows == [("gun-1", "no"), ("gun-1", "no")]
    _fill(db_path, 1)  # and it takes new screenings on the same chain
    with ScreeningLog(db_path) as log:
        assert log.verify().ok and log.verify().rows == 3
