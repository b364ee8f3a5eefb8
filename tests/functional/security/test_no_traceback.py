"""Issue 14, input at the edges: no traceback ever reaches a user. Invalid UTF-8 arguments, `gate verify --db` on a
folder or on a random file, `gate export --out` on a file or where nobody may write: one line each, with the exit
code of its kind (gate/cli/__init__.py: 2 input, 3 log)."""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.security.cli import run_gate

DAY = "2026-11-28"


@pytest.fixture
def db(tmp_path, capsys, monkeypatch):
    path = tmp_path / "gate.db"
    assert run_gate(capsys, monkeypatch, "screen", "--db", path, "--temp", 36.5, "--mask", "yes")[0] == 0
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gate: ") and lines[0].isprintable(), err
    return lines[0]


def not_utf8(text: bytes) -> str:
    return os.fsdecode(text)  # what Python makes of argv bytes that are not UTF-8


@pytest.mark.parametrize("argv", [
    [b"\xff"], [b"screen", b"--entrant", b"P\xc3"], [b"roster", b"import", b"r\xff.csv"],
    [b"export", b"--from", DAY.encode(), b"--to", DAY.encode(), b"--out", b"\xfe\xff"],
    [b"verify", b"--db", b"\xff.db"], [b"mask", b"\xe4\xb8.png"],
])
def test_arguments_that_are_not_utf8_are_refused_in_one_line(argv, capsys, monkeypatch):
    code, _, err = run_gate(capsys, monkeypatch, *map(not_utf8, argv))
    assert code == 2 and "is not UTF-8 text" in one_line(err) and "\\udc" in err


def test_verify_on_a_folder_says_it_is_a_folder(tmp_path, capsys, monkeypatch):
    code, _, err = run_gate(capsys, monkeypatch, "verify", "--db", tmp_path)
    assert code == 3 and "log failure: " in err and "is a folder, not a log" in one_line(err)


def test_verify_on_a_random_file_is_a_log_failure_in_one_line(tmp_path, capsys, monkeypatch):
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(8192))
    code, _, err = run_gate(capsys, monkeypatch, "verify", "--db", junk)
    assert code == 3 and "not a database" in one_line(err)


@pytest.mark.parametrize("out, says", [
    ("{tmp}/a-file", "is a file, not a folder"),
    ("/dev/null", "is a file, not a folder"),
    ("{tmp}/a-file/below", "cannot make the folder"),
    ("/proc/gate-export", "cannot make the folder"),
    ("/sys/gate-export", "cannot make the folder"),
])
def test_export_out_on_a_file_or_an_unwritable_place(db, tmp_path, capsys, monkeypatch, out, says):
    (tmp_path / "a-file").write_text("x")
    code, _, err = run_gate(capsys, monkeypatch, "export", "--db", db, "--from", DAY, "--to", "2030-01-01",
                            "--out", out.replace("{tmp}", str(tmp_path)))
    assert code == 2 and says in one_line(err)


@given(st.lists(st.sampled_from([b"screen", b"--db", b"x.db", b"verify", b"export", b"--out", b"roster", b"import"])
                | st.binary(max_size=8), max_size=4), st.binary(min_size=1, max_size=8), st.integers(0, 4))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_argument_that_is_not_utf8_is_refused_before_anything_runs(capsys, monkeypatch, argv, bad, where):
    argv.insert(min(where, len(argv)), b"\xff" + bad)  # one argument at least is not UTF-8
    code, out, err = run_gate(capsys, monkeypatch, *map(not_utf8, argv))
    assert code == 2 and "is not UTF-8 text" in one_line(err) and out == ""
