"""Issue 16 G5 (a16d): an upstream that stops answering without refusing (the server frozen, a VM paused, a network
cut: SIGSTOP to the test's own server for a few seconds) is said stale once the refresh gives up, the last figures
kept; the server back, the next refresh clears it."""
import datetime as dt
import os
import signal
import subprocess

import pytest

from gate.ui.bureau import build_bureau_app
from storage import bureau
from tests.functional.test_bureau_app import school_ids
from tests.pg import unavailable_reason
from tests.support import Clock, pilot_wait_until, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = dt.date(2026, 12, 1)


async def test_a_frozen_upstream_is_said_stale_and_the_figures_kept(pg):
    url = pg.create_db("a16d_frozen")
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    engine = bureau.reader(url, connect_timeout=2)
    clock = Clock(dt.datetime.combine(DAY, dt.time(8, 0)).timestamp())
    status = lambda: str(app.status.render())  # noqa: E731
    master = int((pg.data / "postmaster.pid").read_text().split()[0])
    frozen = [master, *map(int, subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                               text=True).stdout.split())]
    thawed = False
    try:
        app = build_bureau_app(engine, DAY, refresh_s=5, clock=clock)
        async with app.run_test(size=(220, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: school_ids(app) == ["S-A"] and "refreshed 08:00:00" in status())
            for pid in frozen:  # the test's own server only
                os.kill(pid, signal.SIGSTOP)
            try:
                clock.advance(600)
                await pilot.press("r")
                assert await pilot_wait_until(pilot, lambda: "stale since 08:00:00" in status(), 8), status()
                assert "refreshed 08:" not in status() and school_ids(app) == ["S-A"]
            finally:
                for pid in frozen:
                    os.kill(pid, signal.SIGCONT)
                thawed = True
            clock.advance(60)
            await pilot.press("r")
            assert await pilot_wait_until(pilot, lambda: "stale" not in status(), 8), status()
    finally:
        if not thawed:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        engine.dispose()
