"""Issue 14, input at the edges: a roster or a config named on the command line is checked before it is read.
/dev/zero, a FIFO nobody writes to, a folder and a 3 GB file are refused in one line, reading nothing (a process
limited to 1 GB of memory gets the same answer for /dev/zero); a file that fits is read as before."""
import os
import resource
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.input_files import FileRefused, read_bounded
from tests.functional.security.cli import run_gate
from tests.support import ROOT, env_with_root


@pytest.fixture
def odd(tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:  # sparse: 3 GB by its size, nothing on disk
        f.truncate(3 * 1024 ** 3)
    (tmp_path / "folder.csv").mkdir()
    return {"/dev/zero": ("/dev/zero", "is a device"), "fifo": (fifo, "is a pipe (FIFO)"),
            "folder": (tmp_path / "folder.csv", "is a folder"), "huge": (huge, "is 3072.0 MB")}


@pytest.mark.parametrize("name", ["/dev/zero", "fifo", "folder", "huge"])
def test_roster_import_refuses_what_is_not_a_small_file_before_reading_it(odd, name, tmp_path, capsys, monkeypatch):
    path, says = odd[name]
    code, _, err = run_gate(capsys, monkeypatch, "roster", "import", path, "--db", tmp_path / "gate.db")
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "gate.db").exists()  # refused before the log was opened


@pytest.mark.parametrize("name", ["/dev/zero", "fifo", "folder"])
def test_config_check_refuses_them_too(odd, name, capsys, monkeypatch):
    path, says = odd[name]
    code, _, err = run_gate(capsys, monkeypatch, "config", "check", path)
    assert code == 2 and says in err


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1024 ** 3, 1024 ** 3))


def test_dev_zero_is_refused_in_a_process_with_1_gb_of_memory(tmp_path):
    out = subprocess.run([sys.executable, "-m", "gate.cli", "roster", "import", "/dev/zero", "--db",
                          str(tmp_path / "g.db")], capture_output=True, text=True, env=env_with_root(), cwd=ROOT,
                         timeout=120, preexec_fn=_limit_memory)
    assert out.returncode == 2 and "/dev/zero is a device" in out.stderr and "Traceback" not in out.stderr


def test_a_roster_that_fits_is_read_whole(tmp_path):
    path = tmp_path / "r.csv"
    data = b"id,name,class,kind\n" + b"".join(b"P%d,N,1A,pupil\n" % i for i in range(5000))
    path.write_bytes(data)
    assert read_bounded(path, len(data), "a roster") == data
    with pytest.raises(FileRefused, match="at most"):
        read_bounded(path, len(data) - 1, "a roster")


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=2500))
@settings(max_examples=100, deadline=None)
def test_read_bounded_returns_the_file_or_refuses_it(tmp_path_factory, data, limit):
    path = tmp_path_factory.mktemp("b") / "f"
    path.write_bytes(data)
    try:
        assert read_bounded(path, limit, "x") == data and len(data) <= limit
    except FileRefused:
        assert len(data) > limit
