"""The follow-up screen's close form (F11), driven with Textual's pilot and an injected clock: an onset after today or
long before the case is refused on the form and nothing is recorded; today's date moves with the clock; after a
close the Close button is still the button under the mouse (no notification over it), so the next case closes with
one click, at 80×24 and wider."""
import contextlib
import time

import pytest

from domain import MaskResult, MaskState, Reading
from domain.case import Outcome
from gate.config import Config
from gate.ui.app import build_app
from gate.ui.screens.followup import FollowupScreen
from storage import cases
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, pilot_wait_until

ROSTER = "".join(["id,name,class,kind\n"] + [f"S{i},学生{i},三年级二班,pupil\n" for i in range(1, 6)])


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


def error(screen) -> str:
    return str(screen.query_one("#fu-error").render())


async def open_followup(pilot, app):
    await pilot.press("f11")
    assert await pilot_wait_until(pilot, lambda: isinstance(app.screen, FollowupScreen) and
                                  len(app.screen.shown) == 4), "the four pupils not seen this morning"
    return app.screen


def school(log, clock):
    """S1 seen at 07:00; at 09:00 the morning check has closed: S2..S5 each have an absence case of 12-01."""
    import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
    app = build_app(Config(language="en"), log, operator="doctor", clock=clock)
    app.station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S1")
    clock.now = at(9, 0)
    return app


@contextlib.asynccontextmanager
async def followup_open(db_path, size, clock=None, **run_kw):
    """The school of ``school`` at 09:00 with its follow-up screen (F11) open at ``size``; yields
    ``(pilot, app, log, screen)``. ``clock`` (from 07:00) is the station's, to move it from the test."""
    with ScreeningLog(db_path) as log:
        app = school(log, Clock(at(7, 0)) if clock is None else clock)
        async with app.run_test(size=size, **run_kw) as pilot:
            yield pilot, app, log, await open_followup(pilot, app)


async def click_close(pilot, screen):
    """A click on Close once the last press's animation is over (Textual ignores a press while the button is lit)."""
    button = screen.query_one("#fu-close")
    assert await pilot_wait_until(pilot, lambda: not button.has_class("-active"))
    await pilot.click("#fu-close")


def closed(log) -> list:
    return [c for c in cases.listed(log) if not c.is_open]


@pytest.mark.parametrize("onset, said", [
    ("2026-12-02", "after today (2026-12-01)"),  # tomorrow, by the injected clock
    ("2026-11-01", "30 days before the case (2026-12-01)"),  # a month typed wrong
    ("2026-13-01", "is not a date"),
])
async def test_an_onset_after_today_or_long_before_the_case_is_refused_on_the_form(db_path, onset, said):
    async with followup_open(db_path, (120, 30)) as (pilot, app, log, screen):
        screen.query_one("#fu-outcome").value = Outcome.SICK_LEAVE.value
        screen.query_one("#fu-symptoms").value = "cough"
        screen.query_one("#fu-onset").value = onset
        await click_close(pilot, screen)
        assert await pilot_wait_until(pilot, lambda: said in error(screen)), error(screen)
        assert closed(log) == [] and len(screen.shown) == 4  # nothing recorded, the case still listed


async def test_an_onset_of_today_or_days_before_is_taken_and_today_follows_the_clock(db_path):
    clock = Clock(at(7, 0))
    async with followup_open(db_path, (120, 30), clock) as (pilot, app, log, screen):
        form = {k: screen.query_one(f"#fu-{k}") for k in ("outcome", "symptoms", "onset")}
        form["outcome"].value, form["symptoms"].value = Outcome.SICK_LEAVE.value, "cough"
        form["onset"].value = "2026-11-28"  # the cough began at the weekend
        await click_close(pilot, screen)
        assert await pilot_wait_until(pilot, lambda: len(closed(log)) == 1 and len(screen.shown) == 3)
        assert closed(log)[0].onset == "2026-11-28"
        form["onset"].value = "2026-12-02"
        await click_close(pilot, screen)
        assert await pilot_wait_until(pilot, lambda: "after today (2026-12-01)" in error(screen)), error(screen)
        clock.now = at(0, 0, day=2)  # midnight: the 2nd is today now
        await click_close(pilot, screen)
        assert await pilot_wait_until(pilot, lambda: len(closed(log)) == 2), error(screen)
        assert {c.onset for c in closed(log)} == {"2026-11-28", "2026-12-02"} and error(screen) == ""


def widget_under(app, widget):
    """The widget a mouse click at the middle of ``widget`` reaches (a notification over it would take the click)."""
    region = widget.region
    found, _ = app.screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
    return found


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
async def test_after_a_close_the_next_click_on_close_closes_the_next_case(db_path, size):
    # notifications=True: toasts shown, as in the real app
    async with followup_open(db_path, size, notifications=True) as (pilot, app, log, screen):
        button = screen.query_one("#fu-close")
        screen.query_one("#fu-outcome").value = Outcome.LATE_ARRIVAL.value
        await click_close(pilot, screen)
        assert await pilot_wait_until(pilot, lambda: len(screen.shown) == 3), "the first close"
        app.notify("a notification from elsewhere (a cluster at the duty screen)", timeout=30)
        assert await pilot_wait_until(pilot, lambda: app.screen.query("Toast")), "the notification is up"
        await pilot.pause()
        assert widget_under(app, button) is button  # nothing lies over the button
        assert "closed: late-arrival" in str(screen.query_one("#fu-done").render())  # said on the screen
        await click_close(pilot, screen)  # one click, not two
        assert await pilot_wait_until(pilot, lambda: len(screen.shown) == 2), "the second close"
        assert len(closed(log)) == 2
