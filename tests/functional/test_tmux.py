"""`gate demo` in a real terminal (tmux): a person is screened, the decision on screen is in the log, keys work, and it
quits cleanly."""
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from storage.log import ScreeningLog
from tests.support import ROOT, wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


class Tmux:
    def __init__(self, name: str):
        self.base = ["tmux", "-L", name]

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=10).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-J", "-t", "demo")

    def wait_for(self, pattern: str) -> tuple[re.Match, str]:
        """The first screen that shows ``pattern``: the match, and the whole screen as it was then."""
        def seen():
            text = self.screen()
            found = re.search(pattern, text)
            return (found, text) if found else None

        found = wait_until(seen)
        assert found, f"{pattern!r} not on the screen:\n{self.screen()}"
        return found


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_demo_in_tmux_shows_a_decision_that_is_in_the_log(tmp_path, size):
    tmux = Tmux(f"gate-test-{os.getpid()}-{size[0]}")
    # `exec cat` keeps the pane (and the demo's last line) open after the demo quits, until the server is killed.
    cmd = (f"cd {shlex.quote(str(ROOT))} && env PYTHONPATH={shlex.quote(str(ROOT))} HOME={shlex.quote(str(tmp_path))} "
           f"{shlex.quote(sys.executable)} -m gate.cli demo --seed 2 --language en; exec cat")
    tmux("new-session", "-d", "-s", "demo", "-x", str(size[0]), "-y", str(size[1]), cmd)
    try:
        # A whole frame, the same in two captures in a row (a capture may catch a frame half drawn): the banner, the
        # temperature panel and the counts.
        shown = r"(?s)(ADMIT|DENY|RETEST)  ·.*Temperature: (\d\d\.\d) °C.*Today: screened ([1-9]\d*)"
        last: list = [None]

        def settled():
            found = re.search(shown, tmux.screen())
            now = found.groups() if found else None
            same, last[0] = now is not None and now == last[0], now
            return now if same else None

        settled_frame = wait_until(settled)
        assert settled_frame, tmux.screen()
        decision, temp, _ = settled_frame
        text = tmux.screen()
        assert re.search(r"f2 Manual entry|F2 Manual entry", text, re.IGNORECASE), text
        tmux("send-keys", "-t", "demo", "F6")
        tmux.wait_for(r"(准许进入|禁止进入|复测)\s+·")
        tmux("send-keys", "-t", "demo", "C-q")
        db = tmux.wait_for(r"demo log kept at (\S+)")[0].group(1)
        with ScreeningLog(db) as log:  # what the screen showed was stored before it was shown
            stored = [(s.decision.value.upper(), f"{s.temperature_c:.1f}") for s in log.recent(10_000)]
        assert (decision, temp) in stored, (decision, temp, stored[-5:])
    finally:
        tmux("kill-server")
