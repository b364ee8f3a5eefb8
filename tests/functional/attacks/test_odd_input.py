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


@pytest.mark.parametrize("command", [["screen", "--temp", "36.6", "--mask", "yes"],
                                     ["users", "add", "boss", "--role", "admin", "--pin-stdin"]])
def test_a_db_in_a_folder_that_is_not_there_creates_nothing(gate, tmp_path, command):
    db = tmp_path / "no" / "such" / "folder" / "x.db"
    r = gate(*command, "--db", str(db), stdin=b"111111\n")
    assert r.returncode == 2 and b"ADMIT" not in r.stdout
    err = one_clear_line(r)
    assert f"no folder {db.parent} for the log x.db" in err and "nothing was created" in err
    assert not (tmp_path / "no").exists()


def test_a_new_log_in_an_existing_folder_still_screens(gate, tmp_path):
    r = gate("screen", "--db", str(tmp_path / "first.db"), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 0 and r.stdout.startswith(b"ADMIT")


@pytest.mark.parametrize("typed, decision, shown", [("37.2949", "ADMIT", "37.29 °C"), ("37.2951", "RETEST", "37.3 °C"),
                                                     ("36.60000", "ADMIT", "36.6 °C"), ("37,27", "ADMIT", "37.27 °C")])
def test_any_sensible_decimal_is_a_temperature_shown_on_the_side_of_its_decision(gate, tmp_path, typed, decision,
                                                                                 shown):
    r = gate("screen", "--db", str(tmp_path / "g.db"), "--temp", typed, "--mask", "yes")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.split()[0] == decision and shown in out
