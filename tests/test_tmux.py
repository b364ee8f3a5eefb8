"""`gate demo` in a real terminal (tmux): a person is screened within seconds; keys work; it quits cleanly."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


class Tmux:
    def __init__(self, name: str):
        self.base = ["tmux", "-L", name]

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=10).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "demo")

    def wait_for(self, pattern: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not on screen after {seconds} s:\n{text}")


def test_demo_in_tmux_shows_a_decision_with_its_temperature(tmp_path):
    tmux = Tmux(f"gate-test-{os.getpid()}")
    cmd = (f"cd {shlex.quote(str(ROOT))} && env PYTHONPATH={shlex.quote(str(ROOT))} HOME={shlex.quote(str(tmp_path))} "
           f"{shlex.quote(sys.executable)} -m gate.cli demo --seed 2 --language en; sleep 5")
    tmux("new-session", "-d", "-s", "demo", "-x", "100", "-y", "30", cmd)
    try:
        t0 = time.monotonic()
        text = tmux.wait_for(r"(ADMIT|DENY|RETEST)", 15)
        took = time.monotonic() - t0
        assert re.search(r"Temperature: \d\d\.\d °C", text), text
        assert re.search(r"Today: screened [1-9]", text), text
        assert "F2 Manual entry" in text or "f2 Manual entry" in text
        assert took < 15
        tmux("send-keys", "-t", "demo", "F6")
        tmux.wait_for(r"(准许进入|禁止进入|复测)\s+·", 5)
        tmux("send-keys", "-t", "demo", "C-q")
        tmux.wait_for(r"demo log kept at", 10)
    finally:
        tmux("kill-server")
