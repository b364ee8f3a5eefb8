"""The school's follow-up case list on the duty screen of its second gate, against a real PostgreSQL (the two-gate
school of tests/functional/test_school_cases.py): the status bar counts the school's open cases, and F11 lets a class
teacher close one opened at the other gate, which learns the close at its next sync."""
import sqlite3

import pytest

from domain.case import Outcome
from gate.config import load_config
from gate.ui.app import build_app
from gate.ui.screens.followup import FollowupScreen
from storage.log import ScreeningLog
from tests.functional.duty_pilot import type_slowly
from tests.functional.test_school_cases import PIN, morning_at_north, school  # noqa: F401  (the fixture)
from tests.pg import unavailable_reason
from tests.support import pilot_wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


async def test_the_duty_screen_counts_the_schools_open_cases_and_f11_closes_one_of_the_other_gate(school):  # noqa: F811
    north, south, clock = school
    morning_at_north(north, south, clock)  # three cases, all opened at north
    north.sync()
    south.sync()
    with ScreeningLog(south.db) as log:
        app = build_app(load_config(south.cfg), log, clock=clock)
        async with app.run_test(size=(120, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: "追踪 open 3" in str(app.query_one("#status").render()))
            with sqlite3.connect(south.db) as conn:
                assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 0  # none of them is south's own
            await pilot.press("f11")
            assert await pilot_wait_until(pilot, lambda: app.screen.query("#signin-name")), "sign-in asked"
            await type_slowly(pilot, "wang")
            await type_slowly(pilot, PIN["wang"])
            assert await pilot_wait_until(pilot, lambda: isinstance(app.screen, FollowupScreen) and
                                          len(app.screen.shown) == 2), "wang's two open cases, opened at north"
            screen = app.screen
            assert "the school's cases" in str(screen.query_one("#fu-scope").render())
            table = screen.query_one("#fu-table")
            assert [table.get_row_at(i)[-1] for i in range(table.row_count)] == ["north", "north"]
            target = screen.shown[0]
            screen.query_one("#fu-outcome").value = Outcome.SICK_LEAVE.value
            screen.query_one("#fu-symptoms").value = "cough"
            await pilot.click("#fu-close")
            assert await pilot_wait_until(pilot, lambda: len(screen.shown) == 1), "the case left the list"
    closed = south.case(target.entrant_id)
    assert closed.outcome is Outcome.SICK_LEAVE and closed.closed_by == "wang" and closed.closed_at_gate == "south"
    south.sync()
    north.sync()
    assert north.case(target.entrant_id).closed_at_gate == "south"
