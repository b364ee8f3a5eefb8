"""`gate bureau serve` in a real headless Chromium: the page opens, the app starts behind it (one per tab, through
the read-only role) and the schools' names reach the screen; the screenshot is the README's (written to
docs/screenshots/ when GATE_README_SCREENSHOTS=1). A subprocess: the server process is the point."""
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.functional.browser import Browser, chromium
from tests.pg import unavailable_reason
from tests.support import ROOT, wait_until
from tests.functional.test_bureau import as_bureau, district  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
              pytest.mark.skipif(chromium() is None, reason="no chromium: .ci/run installs Debian's chromium")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def served(district, as_bureau):  # noqa: F811
    _, url, today, _ = district
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gate.cli", "bureau", "serve", "--upstream", url, "--port",
                             str(port), "--date", today.isoformat(), "--cutoff", "00:00"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        assert wait_until(lambda: answers(f"http://127.0.0.1:{port}/") or proc.poll() is not None, 60)
        assert proc.poll() is None, proc.stderr.read().decode()
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_browser_shows_the_schools_of_the_district(served, tmp_path):
    browser = Browser()
    try:
        text, png = browser.open(served, ("红旗小学", "实验小学", "城南中学", "迟报 LATE"))
    finally:
        browser.close()
    assert "红旗小学" in text and "实验小学" in text and "城南中学" in text, text[-2000:]
    assert "迟报 LATE" in text  # 城南中学 never synced: late, after a 00:00 cutoff
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    shot = tmp_path / "bureau-browser.png"
    shot.write_bytes(png)
    if os.environ.get("GATE_README_SCREENSHOTS") == "1":
        (ROOT / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "bureau-browser.png")
