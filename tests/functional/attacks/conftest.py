"""Black-box attacks: every call is the `gate` command line as a teacher would type it, through its real entry point
(in this process: same arguments, same files, same exit code and output); a call under a faked clock (faketime)
runs `python -m gate.cli ...` in a subprocess, since the clock is faked for a whole process."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import run_gate

ROOT = Path(__file__).resolve().parents[3]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


class Gate:
    def __init__(self, home: Path):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(home), GATE_LOG_DIR=str(home / "log"),
                        LANG="C.UTF-8")
        self.env.pop("FAKETIME", None)

    def __call__(self, *args, stdin=None, prefix=(), timeout=120, clock=None):
        if not prefix:
            return run_gate(*args, input=stdin, env=self.env, text=False, clock=clock)
        cmd = [*prefix, PY, "-m", "gate.cli", *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, env=self.env, timeout=timeout)

    def screen_json(self, db, *args, **kw):
        r = self("screen", "--db", str(db), "--json", *args, **kw)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        return json.loads(r.stdout.decode().strip().splitlines()[-1])


def one_clear_line(r):
    err = r.stderr.decode(errors="replace")
    assert "Traceback" not in err and "Traceback" not in r.stdout.decode(errors="replace")
    assert err.strip(), "a refusal must say why"
    return err


@pytest.fixture
def gate(tmp_path):
    return Gate(tmp_path / "home")


def faketime_prefix(offset):
    exe = shutil.which("faketime")
    if not exe:
        pytest.fail("faketime is not installed: apt-get install faketime (.ci/run does)")
    return (exe, "-f", offset)
