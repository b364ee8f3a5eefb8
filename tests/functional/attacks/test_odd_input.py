"""Promise 7: odd input gets one clear line, no traceback, nothing stored."""
import os

import pytest

from .conftest import one_clear_line


@pytest.mark.parametrize("args, code", [
    (["--entrant", "A" * 10240, "--temp", "36.6"], 2),
    (["--temp", "\x1b[31m36.6"], 2),
    (["--entrant", os.fsdecode(b"\xff\xfeP42"), "--temp", "36.6"], 2),
])
def test_screen_refuses_odd_text_and_stores_nothing(gate, tmp_path, args, code):
    db = tmp_path / "g.db"
    r = gate("screen", "--db", str(db), "--mask", "yes", *args)
    assert r.returncode == code
    err = one_clear_line(r)
    assert len(err.strip().splitlines()) == 1 and len(err) < 400
    assert "\x1b" not in err
    if db.exists():
        import sqlite3
        assert sqlite3.connect(db).execute("select count(*) from screenings").fetchone()[0] == 0


@pytest.mark.parametrize("kind", ["folder", "random"])
def test_verify_on_a_folder_or_random_file_is_a_log_failure(gate, tmp_path, kind):
    target = tmp_path / "x"
    if kind == "folder":
        target.mkdir()
    else:
        target.write_bytes(bytes(range(256)) * 12)
    before = target.read_bytes() if kind == "random" else None
    r = gate("verify", "--db", str(target))
    assert r.returncode == 3
    assert one_clear_line(r).startswith("gate: log failure:")
    if before is not None:
        assert target.read_bytes() == before
