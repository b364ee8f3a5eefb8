"""The idle sign-out closes an open form without losing what was typed: the reading typed by hand or the follow-up
case's note comes back when the same user signs in again, never for anyone else; a warning comes first, a key keeps
the user signed in, and the sign-out itself is not weakened (it still happens, the form closes, nothing is stored)."""
import time

from domain import MaskResult, MaskState, Reading
from domain.case import Outcome
from gate.auth import Auth, User
from gate.config import Config, SecurityConfig
from gate.ui.app import build_app
from gate.ui.screens.followup import FollowupScreen
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.functional.duty_pilot import duty_screen, form_ready, sign_in as sign_in_with, type_slowly
from tests.support import Clock, apply_policy, pilot_wait_until, screen_shown

CONFIG = Config(language="en", mask_mode="off", security=SecurityConfig(idle_logout_minutes=5.0))
IDLE_S = 300
PINS = {"wang": "581302", "li": "730486", "chen": "604913"}
ROLES = {"wang": "duty", "li": "duty", "chen": "health"}  # two at the gate, the school doctor


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


def people(log) -> None:
    auth = Auth(log, "gate-1")
    auth.add_user("admin", "admin", "900417", None)
    for name, pin in PINS.items():
        auth.add_user(name, ROLES[name], pin, User("admin", "admin"))
    apply_policy(log, CONFIG)


def told(app, words: str) -> bool:
    return any(words in n.message for n in app._notifications)


async def sign_in(pilot, app, key: str, name: str) -> None:
    await sign_in_with(pilot, name, PINS[name], key)


async def open_manual(pilot, app, name: str) -> ManualEntry:
    await sign_in(pilot, app, "f2", name)
    assert await pilot_wait_until(pilot, lambda: form_ready(app))
    return app.screen


async def test_a_reading_half_typed_is_kept_for_the_same_user_through_the_idle_sign_out(db_path):
    clock = Clock(at(7, 30))
    async with duty_screen(db_path, CONFIG, staff=people, clock=clock) as (pilot, app, log):
        await open_manual(pilot, app, "wang")
        await pilot.press(*"37.")  # the teacher is called away half-way through the value
        clock.advance(IDLE_S - 30)
        app._idle_check()  # the station's 5-second timer, run now
        assert await pilot_wait_until(pilot, lambda: told(app, "signing out in 30 s: press any key"))
        assert app.user is not None and isinstance(app.screen, ManualEntry)
        clock.advance(31)
        app._idle_check()
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        assert await pilot_wait_until(pilot, lambda: told(app, "what you typed is kept for you"))
        assert app.user is None and log.count() == 0
        form = await open_manual(pilot, app, "li")  # someone else signs in: an empty form, not wang's draft
        assert form.query_one("#manual-temp").value == ""
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        await pilot.press("f7")  # li signs out (F7: sign in as someone else); wang comes back
        assert await pilot_wait_until(pilot, lambda: screen_shown(app, SignIn))
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty and app.user is None)
        form = await open_manual(pilot, app, "wang")
        assert await pilot_wait_until(pilot, lambda: form.query_one("#manual-temp").value == "37.")
        await pilot.press(*"2", "enter")
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        assert app.duty.latest.temperature_c == 37.2 and log.count() == 1


async def test_a_key_before_the_sign_out_keeps_the_user_and_the_form(db_path):
    clock = Clock(at(7, 30))
    async with duty_screen(db_path, CONFIG, staff=people, clock=clock) as (pilot, app, log):
        await open_manual(pilot, app, "wang")
        await pilot.press(*"36")
        clock.advance(IDLE_S - 20)
        app._idle_check()
        assert await pilot_wait_until(pilot, lambda: told(app, "signing out in 20 s"))
        await pilot.press(".")  # a key: still there
        clock.advance(60)
        app._idle_check()
        await pilot.pause()
        assert app.user is not None and isinstance(app.screen, ManualEntry)
        assert app.screen.query_one("#manual-temp").value == "36."


async def test_a_follow_up_note_is_kept_through_the_idle_sign_out_with_its_case(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, "id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\nS3,王五,三年级二班,pupil\n".encode(),
                      station_id="gate-1", actor="admin")
        people(log)
        app = build_app(CONFIG, log, clock=clock)
        app.station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S3",
                           operator="admin")
        clock.now = at(9, 0)  # the morning check is over: S1 and S2 absent, two cases open
        async with app.run_test(size=(120, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: app.users_exist)
            await sign_in(pilot, app, "f11", "chen")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, FollowupScreen) and app.screen.shown)
            screen = app.screen
            screen.query_one("#fu-table").move_cursor(row=1)
            chosen = screen.shown[1].case_id
            screen.query_one("#fu-outcome").value = Outcome.SICK_LEAVE.value
            screen.query_one("#fu-note").value = "妈妈电话：发烧，明天去医院"
            clock.advance(IDLE_S + 1)
            app._idle_check()
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty and app.user is None)
            await sign_in(pilot, app, "f11", "chen")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, FollowupScreen) and app.screen.shown)
            back = app.screen
            assert await pilot_wait_until(pilot, lambda: back.query_one("#fu-note").value == "妈妈电话：发烧，明天去医院")
            assert back.query_one("#fu-outcome").value == Outcome.SICK_LEAVE.value
            assert back.shown[back.query_one("#fu-table").cursor_row].case_id == chosen
            back.query_one("#fu-note").focus()  # the teacher goes on typing: the note is added to, not replaced
            await type_slowly(pilot, "ok", enter=False)
            assert await pilot_wait_until(pilot, lambda: back.query_one("#fu-note").value.endswith("明天去医院ok"))
            assert back.query_one("#fu-note").value == "妈妈电话：发烧，明天去医院ok"
