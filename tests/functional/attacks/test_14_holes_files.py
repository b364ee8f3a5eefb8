"""Issue 14 holes found by a14 (files, PINs, class lists, the fault log), copied unchanged from their report."""
import shutil
import stat
import threading

import pytest

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from tests.support import run_gate

import sqlite3
import json

from sqlalchemy import create_engine, text

from storage.upstream import normalise_url


@pytest.fixture(autouse=True)
def _no_fifo_writer_left_behind():
    """The key-file test arms a timer that writes into its FIFO after 10 s, so a station that blocks reading it fails
    instead of hanging. A station that refused the FIFO never opens it: the armed timer is cancelled after the test
    (a writer left waiting for a reader would keep pytest from exiting)."""
    before = set(threading.enumerate())
    yield
    for t in set(threading.enumerate()) - before:
        if isinstance(t, threading.Timer):
            t.cancel()


def screen(db, temps):
    with ScreeningLog(db) as log:
        st = Station(Config(station_id="north"), log)
        for t in temps:
            st.screen([Reading(object_c=t, body_c=t, source="gun-1", ambient_c=21.0)], MaskResult(MaskState.YES))


def test_hole_verify_on_a_loose_copy_tightens_the_log_and_its_wal_shm(tmp_path):
    db = tmp_path / "a" / "gate.db"
    screen(db, [36.5])
    dest = tmp_path / "copy"
    dest.mkdir()
    shutil.copy(db, dest / "gate.db")
    shutil.copy(str(db) + ".key", dest / "gate.db.key")
    for p in dest.iterdir():
        p.chmod(0o644)
    assert run_gate("verify", "--db", dest / "gate.db").returncode == 0
    loose = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in dest.iterdir() if p.stat().st_mode & 0o077}
    assert not loose, f"readable by other accounts after gate verify: {loose}"


def test_hole_a_block_repeated_with_a_tail_is_a_trivial_pin(tmp_path):
    db = tmp_path / "gate.db"
    assert run_gate("users", "add", "boss", "--role", "admin", "--db", db, "--pin-stdin",
                    input="583920\n").returncode == 0
    r = run_gate("users", "add", "zz", "--role", "duty", "--db", db, "--user", "boss", "--pin-stdin",
                 input="583920\n1212121\n")
    assert r.returncode == 1 and "short block" in r.stderr, r.stdout + r.stderr


def test_hole_a_key_file_that_is_not_a_key_is_refused_and_left_as_it_was(tmp_path):
    import os
    import threading
    notes = tmp_path / "notes.txt"
    notes.write_text("root:x:0:0\n", encoding="utf-8")
    notes.chmod(0o644)
    folder = tmp_path / "folder"
    folder.mkdir()
    folder.chmod(0o755)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fifo.chmod(0o644)
    for i, target in enumerate((notes, folder, fifo)):
        cfg = tmp_path / f"c{i}.toml"
        cfg.write_text(f'[station]\nid = "north"\nkey_file = "{target}"\n', encoding="utf-8")
        if target is fifo:  # unblock a reader that would hang on the FIFO, so the test reports instead of hanging
            def writer():
                try:
                    with open(fifo, "w") as f:
                        f.write("x")
                except OSError:
                    pass
            threading.Timer(10, writer).start()
        r = run_gate("screen", "--config", cfg, "--db", tmp_path / f"g{i}.db", "--temp", "36.5", "--operator", "t",
                     "--mask", "yes")
        assert r.returncode == 3 and "Traceback" not in r.stderr, (target, r.stderr)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in (notes, folder, fifo)}
    assert modes == {"notes.txt": "0o644", "folder": "0o755", "fifo": "0o644"}, modes


def test_hole_a_db_that_is_not_a_log_is_refused_and_left_as_it_was(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n", encoding="utf-8")
    notes.chmod(0o644)
    r = run_gate("audit", "list", "--db", notes)
    assert r.returncode == 3 and "not a database" in r.stderr
    assert oct(stat.S_IMODE(notes.stat().st_mode)) == "0o644"


def test_hole_a_teachers_class_list_has_a_limit(tmp_path):
    db = tmp_path / "gate.db"
    assert run_gate("users", "add", "boss", "--role", "admin", "--db", db, "--pin-stdin",
                    input="583920\n").returncode == 0
    classes = ",".join(f"c{i}" for i in range(20000))
    r = run_gate("users", "add", "chen2", "--role", "teacher", "--classes", classes, "--db", db, "--user", "boss",
                 "--pin-stdin", input="583920\n739184\n")
    assert r.returncode == 2 and len(r.stdout + r.stderr) < 1000, (r.returncode, len(r.stdout))


def test_hole_the_fault_log_is_private(tmp_path, monkeypatch):
    import os
    from storage import log as storage_log

    def boom(*a, **k):
        raise RuntimeError("simulated fault")
    monkeypatch.setattr(storage_log.ScreeningLog, "__init__", boom)
    logs = tmp_path / "state" / "log"
    old = os.umask(0o022)
    try:
        r = run_gate("screen", "--db", tmp_path / "gate.db", "--entrant", "P42", "--temp", "38.6", "--operator", "t",
                     env=dict(os.environ, GATE_LOG_DIR=str(logs)))
    finally:
        os.umask(old)
    assert r.returncode == 70
    f = logs / "gate-errors.log"
    assert "P42" in f.read_text(encoding="utf-8")  # the pupil and the temperature are in it
    assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, oct(f.stat().st_mode)
    assert stat.S_IMODE(logs.stat().st_mode) & 0o077 == 0, oct(logs.stat().st_mode)
