"""Issue 14 attacks (a14): a pupil plants a symlink where a new log's station key will be written, in a shared
folder; the station refuses and the master secret never lands in the pupil's file. Odd files given as images."""
import os

import pytest

from tests.support import run_gate


@pytest.mark.parametrize("planted", ["gate.db.key", "gate.db-wal"])
def test_a_symlink_planted_beside_a_new_log_never_receives_the_secret(tmp_path, planted):
    shared, pupil = tmp_path / "shared", tmp_path / "pupil"
    shared.mkdir(mode=0o1777)
    pupil.mkdir()
    (shared / planted).symlink_to(pupil / "stolen")
    r = run_gate("screen", "--db", shared / "gate.db", "--temp", "36.5", "--operator", "t", "--mask", "yes")
    assert r.returncode == 3 and r.stderr.startswith("gate: log failure:") and "Traceback" not in r.stderr
    assert not (pupil / "stolen").exists()
    assert list(pupil.iterdir()) == []


def test_odd_files_given_as_photos_are_one_line_each_and_left_as_they_were(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    before = {p: p.stat().st_mode for p in (fifo, folder)}
    r = run_gate("mask", fifo, folder, tmp_path)
    assert r.returncode == 1 and "3 of 3 image(s) could not be read" in r.stderr and "Traceback" not in r.stderr
    assert {p: p.stat().st_mode for p in (fifo, folder)} == before
