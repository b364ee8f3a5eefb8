"""HOLES (issue 16 G5, a16d): H3 the bureau app says a day never read was refreshed; H5 a school opened while the
upstream is down is a blank page; H6 a school left open is never marked stale (see the tests).

H3 — a day picked while the upstream is down (or before its first answer): `gate bureau --upstream URL`, the
district's database stops, the clerk presses `]` (next day). At once, and until the read answers, the status line
says `2026-12-02 · 0 所学校 schools · 0 迟报 late … · refreshed 08:00:00, every 3600 s`: a day never read, shown as
refreshed, with nobody late. Once the read fails it says `⚠ 数据已过时,自 08:00:00 起 stale since 08:00:00` over an
empty table and "0 late": the 08:00 figures were of the day before; nothing of this day was ever read.
Should: the new day shows no "refreshed" before its first answer (e.g. 读取中 loading), and on failure
`⚠ 尚无数据 no data yet` (the app's own words for a day never read), never "0 late" as a figure.

Run:
     ./.venv/bin/pytest -q tests/functional/attacks/test_16_bureau_stale_days.py
"""
import contextlib
import datetime as dt

import pytest
from textual.widgets import DataTable, Static

from gate.ui.bureau import build_bureau_app
from storage import bureau
from tests.functional.test_bureau_app import school_ids
from tests.pg import unavailable_reason
from tests.support import Clock, pilot_wait_until, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = dt.date(2026, 12, 1)


@contextlib.asynccontextmanager
async def read_at_eight(pg, name):
    """One school's district, the bureau's app read once at 08:00 (its clock a test clock); the server started
    again after the test whatever happened."""
    url = pg.create_db(name)
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    engine = bureau.reader(url, connect_timeout=2)
    clock = Clock(dt.datetime.combine(DAY, dt.time(8, 0)).timestamp())
    try:
        app = build_bureau_app(engine, DAY, refresh_s=3600, clock=clock)
        async with app.run_test(size=(220, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: school_ids(app) == ["S-A"] and "refreshed 08:00:00" in
                                          status(app))
            yield app, pilot, clock
    finally:
        engine.dispose()
        if not pg.running:
            pg.start()


def status(app) -> str:
    return str(app.status.render())


def title(app) -> str:
    return str(app.screen.query_one("#school-title", Static).render())


async def test_h3_a_day_picked_while_the_upstream_is_down_is_never_said_refreshed(pg):
    async with read_at_eight(pg, "a16d_day") as (app, pilot, clock):
        pg.stop("immediate")
        clock.advance(60)
        app.action_day(1)  # `]`
        line = status(app)
        assert line.startswith("2026-12-02"), line
        # today: "2026-12-02 · 0 所学校 schools · 0 迟报 late ... · refreshed 08:00:00, every 3600 s"
        assert "refreshed 08:00:00" not in line, line
        assert "0 迟报 late" not in line and "0 所学校 schools" not in line, line  # no figure for a day not read
        assert await pilot_wait_until(pilot, lambda: "失败" in status(app)), status(app)
        line = status(app)
        # today: "⚠ 数据已过时,自 08:00:00 起 stale since 08:00:00 · 刷新失败 refresh failed at 08:01:00: ..."
        assert "尚无数据 no data yet" in line and "stale since 08:00:00" not in line, line
        assert "0 迟报 late" not in line and "refresh failed at 08:01:00" in line, line


async def test_h5_a_school_opened_while_the_upstream_is_down_says_it_could_not_be_read(pg):
    """H5 — the drill-down (Enter on a school) while the upstream is down: the school's screen stays blank, its
    gates, sessions and cases tables empty (which reads as "no gates, no cases"), the title empty; only a toast
    (15 s) says the read failed, and then nothing does. Should: the screen itself says the school could not be
    read, when and why (like the table's status line), not empty tables."""
    async with read_at_eight(pg, "a16d_drill") as (app, pilot, clock):
        pg.stop("immediate")
        app.table.focus()
        await pilot.press("enter")
        assert await pilot_wait_until(pilot, lambda: type(app.screen).__name__ == "SchoolScreen")
        assert await pilot_wait_until(pilot, lambda: "失败" in title(app), 5), title(app)
        text, gates = title(app), app.screen.query_one("#gates", DataTable)
        # today: title '' and 0 gate rows: a blank school page, the failure only in a passing toast
        assert "S-A" in text and ("失败" in text or "failed" in text), (text, gates.row_count)
        assert "尚无数据 no data yet" in text and "refresh failed at 08:00:00" in text, text
        assert not app.screen.query_one("#figures").display  # no empty table that reads as "no gates"


async def test_h6_a_school_left_open_says_its_figures_are_stale_once_a_refresh_fails(pg):
    """H6 — a school's drill-down opened at 08:00 and left open: it is read once and never again, says nowhere when
    it was read, and the table's "stale since" status line is behind it. The upstream stops, a refresh fails (the
    clerk presses r): the school's page still shows its 08:00 figures, unmarked. Should: the page says when it was
    read, and that it is stale once a refresh fails (or refreshes with the table)."""
    async with read_at_eight(pg, "a16d_left_open") as (app, pilot, clock):
        app.table.focus()
        await pilot.press("enter")
        assert await pilot_wait_until(pilot, lambda: type(app.screen).__name__ == "SchoolScreen" and "S-A" in
                                      title(app))
        assert "read 08:00:00" in title(app), title(app)  # when the page was read
        pg.stop("immediate")
        clock.advance(3600)
        await pilot.press("r")
        assert await pilot_wait_until(pilot, lambda: "stale since" in status(app), 5), status(app)  # behind the page
        screen_text = title(app) + " ".join(str(w.render()) for w in app.screen.query(Static))
        # today: "红旗小学 (S-A) · 2026-12-01 · 闸机 gates 0/1 reported · …", no time, no stale mark
        assert "stale" in screen_text or "过时" in screen_text, screen_text
        assert "stale since 08:00:00" in title(app) and "refresh failed at 09:00:00" in title(app), title(app)


async def test_f3_a_day_whose_first_read_failed_hides_its_empty_table_and_says_why_until_a_read_succeeds(pg):
    """Issue 16 F3 (g17): the schools table of a day never read, empty after its first read failed, would read as
    "no school, nobody late": it is hidden and in its place the app says there is no data yet for that day, and why
    (zh-CN and English), like a school's page; a day read before keeps its table, marked stale; the day read at last,
    the table is back."""
    no_data = lambda: str(app.no_data.render())  # noqa: E731
    async with read_at_eight(pg, "g17_no_data") as (app, pilot, clock):
        pg.stop("immediate")
        clock.advance(60)
        await pilot.press("r")  # a day read before: its figures stay on screen, stale
        assert await pilot_wait_until(pilot, lambda: "stale since 08:00:00" in status(app)), status(app)
        assert app.table.display and not app.no_data.display and school_ids(app) == ["S-A"]
        app.action_day(1)  # `]`: a day never read, and its first read fails
        assert await pilot_wait_until(pilot, lambda: "尚无数据 no data yet" in status(app)), status(app)
        assert not app.table.display and app.no_data.display
        said = no_data()
        assert "2026-12-02 尚无数据" in said and "no data yet for 2026-12-02" in said, said
        assert "could not be read at 08:01:00" in said and "读取上游数据库失败" in said, said
        assert app.failed.why and app.failed.why in said  # why: the database's own words
        pg.start()
        clock.advance(60)
        await pilot.press("r")
        assert await pilot_wait_until(pilot, lambda: "refreshed 08:02:00" in status(app)), status(app)
        assert app.table.display and not app.no_data.display and school_ids(app) == ["S-A"]
