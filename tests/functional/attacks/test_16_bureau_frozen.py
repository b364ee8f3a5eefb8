"""Issue 16 G5 (a16d), F1 (g17): an upstream that stops answering without refusing (the server frozen, a VM paused, a
network cut: SIGSTOP to the test's own server) is said stale once the refresh gives up, the last figures kept; the
server back, the next refresh clears it.

What gives up is the refresh itself: every use of the reader's connections waits at most its bound for an answer
(storage.upstream_answer), over TCP and over the Unix socket alike. Before, nothing bounded it: the refresh hung in
SQLAlchemy's pre-ping of its pooled connection until the server came back, and this test passed only when the
interval's NEXT refresh, opening a new connection, hit connect_timeout (≤ 5 + 2 s) before its 8 s were up. Here the
interval is an hour: only the refresh pressed can end it, and its worker must have ended while the server is frozen."""
import datetime as dt
import os
import signal
import subprocess

import pytest

from gate.ui.bureau import build_bureau_app
from storage import bureau
from storage.upstream_answer import NoAnswer
from tests.functional.test_bureau_app import school_ids
from tests.pg import unavailable_reason
from tests.support import Clock, pilot_settled, pilot_wait_until, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = dt.date(2026, 12, 1)
BOUND_S = 2.0
CEILING_S = 60.0  # the test's own patience on a loaded machine, far above the bound: no timing luck either way


def frozen_server(pg) -> list[int]:
    """The test's own server and every backend it runs now (the reader's pooled connection among them)."""
    master = int((pg.data / "postmaster.pid").read_text().split()[0])
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master, *map(int, kids)]


def over(pg, url: str, how: str) -> str:
    if how == "tcp":
        return url
    return f"postgresql://postgres@/{url.rsplit('/', 1)[1]}?host={pg.root}&port={pg.port}"  # the server's socket


@pytest.mark.parametrize("how", ["tcp", "unix socket"])
async def test_a_frozen_upstream_is_said_stale_and_the_figures_kept(pg, how):
    url = pg.create_db("a16d_frozen")
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    engine = bureau.reader(over(pg, url, how), connect_timeout=2, answer_within_s=BOUND_S)
    clock = Clock(dt.datetime.combine(DAY, dt.time(8, 0)).timestamp())
    status = lambda: str(app.status.render())  # noqa: E731
    frozen: list[int] = []
    try:
        app = build_bureau_app(engine, DAY, refresh_s=3600, clock=clock)
        async with app.run_test(size=(220, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: school_ids(app) == ["S-A"] and "refreshed 08:00:00" in status())
            frozen = frozen_server(pg)
            for pid in frozen:  # the test's own server only
                os.kill(pid, signal.SIGSTOP)
            clock.advance(600)
            await pilot.press("r")
            assert await pilot_wait_until(pilot, lambda: "stale since 08:00:00" in status(), CEILING_S), status()
            assert f"did not answer within {BOUND_S:g} s" in status() and "refresh failed at 08:10:00" in status()
            assert "refreshed 08:" not in status() and school_ids(app) == ["S-A"]
            assert await pilot_settled(pilot, CEILING_S), "a refresh still waits on the frozen server"
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
            frozen = []
            clock.advance(60)
            await pilot.press("r")
            assert await pilot_wait_until(pilot, lambda: "refreshed 08:11:00" in status(), CEILING_S), status()
            assert "stale" not in status() and school_ids(app) == ["S-A"]
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        engine.dispose()


def test_a_read_of_a_frozen_upstream_ends_in_its_bound_and_a_restarted_one_is_read_at_once(pg):
    """The bound holds for the CLI's reads too, with no app around; the ping that replaced SQLAlchemy's still finds
    a connection the server dropped (a restart) and connects again, so the first read after it succeeds."""
    url = pg.create_db("g17_frozen_cli")
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    engine = bureau.reader(url, connect_timeout=2, answer_within_s=BOUND_S)
    try:
        assert [r.school_id for r in bureau.schools_on(engine, DAY, 0)] == ["S-A"]
        frozen = frozen_server(pg)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(NoAnswer, match=f"did not answer within {BOUND_S:g} s"):
                bureau.schools_on(engine, DAY, 0)
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        assert [r.school_id for r in bureau.schools_on(engine, DAY, 0)] == ["S-A"]  # after a cut: connects again
        pg.stop()
        pg.start()
        assert [r.school_id for r in bureau.schools_on(engine, DAY, 0)] == ["S-A"]  # the pooled one was dropped
    finally:
        engine.dispose()
