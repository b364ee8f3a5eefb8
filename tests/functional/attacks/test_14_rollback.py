"""Issue 14 attacks (a14): a log rolled back to an older copy (with its own key) after a sync, the log copied with
and without its key, two stations' key files swapped. The file alone cannot tell "older" from "now" (README, "What a
station alone cannot detect"); the upstream copy can, and `gate sync verify` must say so."""
import shutil

import pytest

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from storage.sync import Sync
from tests.pg import unavailable_reason
from tests.support import run_gate


def screen(db, temps, station_id="north"):
    with ScreeningLog(db) as log:
        st = Station(Config(station_id=station_id), log)
        for t in temps:
            st.screen([Reading(object_c=t, body_c=t, source="gun-1", ambient_c=21.0)], MaskResult(MaskState.YES))


def test_a_log_copied_without_its_key_is_refused_by_every_command(tmp_path):
    db = tmp_path / "a" / "gate.db"
    screen(db, [36.5, 38.6])
    (tmp_path / "copy").mkdir()
    shutil.copy(db, tmp_path / "copy" / "gate.db")
    for argv in (["verify"], ["audit", "list"], ["screen", "--temp", "36.5", "--operator", "t"],
                 ["export", "create", "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(tmp_path / "x")]):
        r = run_gate(*argv, "--db", tmp_path / "copy" / "gate.db")
        assert r.returncode == 3 and "station key for this log is missing" in r.stderr, (argv, r.stderr)
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "copy" / "gate.db.key").exists()


def test_a_log_copied_with_its_key_verifies_and_stays_private(tmp_path):
    db = tmp_path / "a" / "gate.db"
    screen(db, [36.5, 38.6])
    dest = tmp_path / "copy"
    dest.mkdir()
    shutil.copy(db, dest / "gate.db")
    shutil.copy(str(db) + ".key", dest / "gate.db.key")
    (dest / "gate.db").chmod(0o644)
    (dest / "gate.db.key").chmod(0o644)
    r = run_gate("screen", "--db", dest / "gate.db", "--temp", "36.5", "--operator", "t")
    assert r.returncode == 0
    r = run_gate("verify", "--db", dest / "gate.db")
    assert r.returncode == 0 and "ok: 3 screenings" in r.stdout
    assert (dest / "gate.db").stat().st_mode & 0o077 == 0
    assert (dest / "gate.db.key").stat().st_mode & 0o077 == 0


def test_two_stations_key_files_swapped_are_both_refused_naming_the_fingerprints(tmp_path):
    a, b = tmp_path / "a" / "gate.db", tmp_path / "b" / "gate.db"
    screen(a, [36.5])
    screen(b, [36.6], station_id="south")
    ka, kb = a.with_name("gate.db.key"), b.with_name("gate.db.key")
    da, db_ = ka.read_bytes(), kb.read_bytes()
    ka.write_bytes(db_)
    kb.write_bytes(da)
    for log in (a, b):
        r = run_gate("verify", "--db", log)
        assert r.returncode == 3 and "is not the key of" in r.stderr
    r = run_gate("screen", "--db", a, "--temp", "36.5", "--operator", "t")
    assert r.returncode == 3
    with pytest.raises(Exception):
        ScreeningLog(a).close()


pg_only = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.fixture
def synced(tmp_path, pg):
    url = pg.create_db("rollback")
    db, cfg = tmp_path / "gate.db", tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "north"\n[school]\nid = "s-7"\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
    screen(db, [36.5] * 5)
    with ScreeningLog(db) as log:
        sync = Sync(log, url, school_id="s-7")
        assert sync.once().pending == 0
        sync.close()
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copy(db, backup / "gate.db")
    shutil.copy(str(db) + ".key", backup / "gate.db.key")
    screen(db, [38.6, 38.7])  # a fever: retest then deny, synced
    with ScreeningLog(db) as log:
        sync = Sync(log, url, school_id="s-7")
        assert sync.once().pending == 0
        sync.close()
    return db, cfg, url, backup


def restore(db, backup):
    for suffix in ("-wal", "-shm"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            p.unlink()
    shutil.copy(backup / "gate.db", db)


@pg_only
def test_a_rolled_back_log_is_named_by_sync_verify(synced):
    db, cfg, url, backup = synced
    restore(db, backup)
    assert run_gate("verify", "--db", db).returncode == 0  # the file alone cannot tell (README says so)
    r = run_gate("sync", "verify", "--db", db, "--config", cfg)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "6" in r.stderr  # the first row the upstream holds that the log does not


@pg_only
def test_a_rolled_back_log_that_screened_again_does_not_hide_the_fever_upstream(synced):
    db, cfg, url, backup = synced
    restore(db, backup)
    screen(db, [36.5, 36.5])  # seq 6 and 7 again, now admits
    r = run_gate("sync", "--db", db, "--config", cfg)
    r = run_gate("sync", "verify", "--db", db, "--config", cfg)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "seq 6" in r.stderr, r.stderr
