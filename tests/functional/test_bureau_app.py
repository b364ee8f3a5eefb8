"""The bureau's Textual app through the pilot, over the three-school district of tests/functional/test_bureau.py (a real
PostgreSQL, read through the read-only role): the table, sorting, filtering, late only, the day picker, a school's
drill-down with pseudonymised cases and its trend, and the refresh that happens by itself."""
import contextlib
import datetime as dt
import itertools

import pytest
from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Static

from gate.ui.bureau import build_bureau_app
from storage import bureau
from storage.upstream import normalise_url
from tests.pg import unavailable_reason
from tests.support import pilot_wait_until
from tests.functional.test_bureau import as_bureau, district  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def column(app, key: str) -> list[str]:
    table = app.table
    return [str(table.get_cell(row, key)) for row in [r.key for r in table.ordered_rows]]


def school_ids(app) -> list[str]:
    return [r.key.value for r in app.table.ordered_rows]


@pytest.fixture
def engine(district, as_bureau):  # noqa: F811
    _, url, _, _ = district
    engine = bureau.reader(url)
    yield engine
    engine.dispose()


@contextlib.asynccontextmanager
async def bureau_pilot(url: str, day: dt.date, size=(160, 40)):
    """The bureau's app over ``url`` on ``day`` in the pilot, its clock past the cutoff (``late_clock``), refreshed
    by hand only; the engine is disposed after."""
    engine = bureau.reader(url)
    try:
        app = build_bureau_app(engine, day, refresh_s=3600, clock=late_clock(day))
        async with app.run_test(size=size) as pilot:
            yield app, pilot
    finally:
        engine.dispose()


def late_clock(day: dt.date):
    """20:00 on ``day`` (past the cutoff, and after the gates' last sync at 19:45: a last sync stamped after the
    bureau's now is not believed), a second later at each reading: each load is told apart."""
    ticks = itertools.count()
    return lambda: dt.datetime.combine(day, dt.time(20, 0)).timestamp() + next(ticks)


async def test_the_table_sorts_filters_and_shows_late_and_not_reported(district, engine):  # noqa: F811
    _, _, today, _ = district
    app = build_bureau_app(engine, today, refresh_s=3600, clock=late_clock(today))
    async with app.run_test(size=(160, 40)) as pilot:
        assert await pilot_wait_until(pilot, lambda: len(school_ids(app)) == 3)
        assert school_ids(app) == ["S-A", "S-B", "S-C"]
        assert column(app, "name") == ["红旗小学", "实验小学", "城南中学"]
        assert column(app, "late")[2] == "⚠ 迟报 LATE" and column(app, "screened")[2] == "未报 —"
        assert column(app, "zero_report")[:2] == ["是 yes", "否 no"] and column(app, "stations")[2] == "0/1"
        app.sort_by("confirmed_fevers")  # biggest first; not reported stays last
        await pilot.pause()
        assert school_ids(app) == ["S-B", "S-A", "S-C"]
        await pilot.press("l")  # late only
        assert school_ids(app) == ["S-C"]
        await pilot.press("l")
        app.filter_input.value = "红旗"
        await pilot.pause()
        assert school_ids(app) == ["S-A"]
        status = str(app.status.render())
        assert "3 所学校 schools · 1 迟报 late" in status and "showing 1" in status


async def test_the_day_picker_and_a_bad_date(district, engine):  # noqa: F811
    _, _, today, _ = district
    app = build_bureau_app(engine, today, refresh_s=3600, clock=late_clock(today))
    async with app.run_test(size=(160, 40)) as pilot:
        assert await pilot_wait_until(pilot, lambda: len(school_ids(app)) == 3)
        await pilot.press("[")  # the day before: nobody reported, everyone late
        assert await pilot_wait_until(pilot, lambda: column(app, "late") == ["⚠ 迟报 LATE"] * 3)
        assert app.day_input.value == (today - dt.timedelta(days=1)).isoformat()
        day = app.day_input
        day.value = "2026-13-45"
        day.focus()
        await pilot.press("enter")
        assert app.day == today - dt.timedelta(days=1)  # refused, kept
        day.value = today.isoformat()
        await pilot.press("enter")
        assert await pilot_wait_until(pilot, lambda: column(app, "late")[:2] == ["—", "—"])


async def test_a_school_opens_with_its_gates_sessions_cases_and_trend(district, engine):  # noqa: F811
    _, _, today, _ = district
    app = build_bureau_app(engine, today, refresh_s=3600, clock=late_clock(today))
    async with app.run_test(size=(160, 50)) as pilot:
        assert await pilot_wait_until(pilot, lambda: len(school_ids(app)) == 3)
        table = app.table
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("enter")
        assert await pilot_wait_until(pilot, lambda: app.screen.query("#cases") and
                                      app.screen.query_one("#cases", DataTable).row_count == 4)
        screen = app.screen
        assert "实验小学 (S-B)" in str(screen.query_one("#school-title", Static).render())
        gates = screen.query_one("#gates", DataTable)
        assert [str(gates.get_row_at(i)[0]) for i in range(gates.row_count)] == ["b-gate1", "b-gate2"]
        cases = screen.query_one("#cases", DataTable)
        pupils = [str(cases.get_row_at(i)[1]) for i in range(cases.row_count)]
        assert all(p.startswith("p-") for p in pupils) and "B-P42" not in "".join(pupils)
        assert "已报 reported" in str(screen.query_one("#trend", Static).render())
        before = app.loaded_at
        app.action_refresh()  # a refresh while the school is shown lands on the table below, not on this screen
        assert await pilot_wait_until(pilot, lambda: app.loaded_at != before)
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0] and len(school_ids(app)) == 3


async def test_it_refreshes_by_itself(district, engine, pg):  # noqa: F811
    owner_url, _, today, _ = district
    app = build_bureau_app(engine, today, refresh_s=0.2, clock=late_clock(today))
    async with app.run_test(size=(160, 40)) as pilot:
        assert await pilot_wait_until(pilot, lambda: len(school_ids(app)) == 3)
        owner = create_engine(normalise_url(owner_url))
        with owner.begin() as conn:  # a new school is declared meanwhile
            conn.execute(text("INSERT INTO schools (school_id, name, expected_stations, created_at) "
                              "VALUES ('S-D', '新区小学', 1, 0)"))
        try:
            assert await pilot_wait_until(pilot, lambda: "S-D" in school_ids(app))
        finally:
            with owner.begin() as conn:
                conn.execute(text("DELETE FROM schools WHERE school_id = 'S-D'"))
            owner.dispose()


async def test_a_failed_refresh_keeps_the_figures_and_says_they_are_stale_since_the_last_good_one_and_why(pg, tmp_path):
    """The database stops between two refreshes: the table keeps the last figures, and the status line says, in
    Chinese and English, since when they are stale and why, instead of the last "refreshed" time; the server back,
    the next refresh clears it (issue 16, G5)."""
    from tests.support import Clock, run_gate

    url = pg.create_db("bureau_stale")
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    engine = bureau.reader(url, connect_timeout=2)
    day = dt.date(2026, 12, 1)
    clock = Clock(dt.datetime.combine(day, dt.time(8, 0)).timestamp())
    status = lambda: str(app.status.render())  # noqa: E731
    try:
        app = build_bureau_app(engine, day, refresh_s=3600, clock=clock)
        async with app.run_test(size=(220, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: school_ids(app) == ["S-A"] and "refreshed 08:00:00" in status())
            pg.stop("immediate")
            clock.advance(60)
            await pilot.press("r")
            assert await pilot_wait_until(pilot, lambda: "stale since" in status()), status()
            line = status()
            assert "⚠ 数据已过时,自 08:00:00 起 stale since 08:00:00" in line, line
            assert "刷新失败 refresh failed at 08:01:00: " in line and "connect" in line.split("08:01:00: ")[1], line
            assert "refreshed 08:" not in line and school_ids(app) == ["S-A"]  # the last figures stay, marked
            pg.start()
            clock.advance(60)
            await pilot.press("r")
            assert await pilot_wait_until(pilot, lambda: "refreshed 08:02:00" in status()), status()
            assert "stale" not in status() and "失败" not in status()
    finally:
        engine.dispose()
        if not pg.running:
            pg.start()
