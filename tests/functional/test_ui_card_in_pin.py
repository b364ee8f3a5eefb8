"""A pupil's numeric card scanned into the sign-in's PIN field is a card, not a wrong PIN: the sign-in says so, keeps
the card for the next reading and counts nothing towards the teacher's lockout; real wrong PINs still lock."""
import pytest

from domain import MaskResult, MaskState, Reading
from gate.auth import Auth, AuthError, User
from gate.config import Config, SecurityConfig
from gate.ui.app import build_app
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn
from storage import audit
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.functional.duty_pilot import form_ready, scan, type_slowly
from tests.support import Clock, apply_policy, pilot_wait_until, screen_shown

PIN = "581302"
CARD = "20230417"  # a school's card number: eight digits, a valid PIN by its format
CONFIG = Config(language="en", mask_mode="off", security=SecurityConfig(lockout_failures=3))


def people(log, roster: bool = True) -> None:
    if roster:
        import_roster(log, f"id,name,class,kind\n{CARD},张三,三年级二班,pupil\n".encode(), station_id="gate-1",
                      actor="admin")
    auth = Auth(log, "gate-1")
    auth.add_user("admin", "admin", "900417", None)
    auth.add_user("zhang", "duty", PIN, User("admin", "admin"))
    apply_policy(log, CONFIG)


def failures(log) -> list[dict]:
    return [e for e in audit.events(log, 200) if e["action"] in ("login-failed", "lockout", "login-refused")]


def line(app) -> str:
    return str(app.screen.query_one("#signin-error").render())


@pytest.mark.parametrize("known_by", ["roster", "screened before"])
async def test_a_card_scanned_into_the_pin_field_is_said_and_never_counts_as_a_wrong_pin(db_path, known_by):
    with ScreeningLog(db_path) as log:
        people(log, roster=known_by == "roster")
        app = build_app(CONFIG, log, clock=Clock())
        if known_by == "screened before":
            app.station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id=CARD)
        async with app.run_test(size=(100, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: app.users_exist)
            await pilot.press("f2")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, SignIn))
            await pilot.press(*"zhang", "enter")
            for n in range(5):  # more scans than the lockout allows wrong PINs
                await scan(pilot, CARD)  # the scanner: its keys 5 ms apart
                assert await pilot_wait_until(pilot, lambda: "that was a card, not a PIN" in line(app)), line(app)
                app.screen.query_one("#signin-error").update("")
            assert isinstance(app.screen, SignIn) and app.screen.query_one("#signin-name").value == "zhang"
            assert app.screen.query_one("#signin-pin").value == "" and app.focused.id == "signin-pin"
            assert failures(log) == [] and app.duty.pending_entrant == CARD
            await type_slowly(pilot, PIN)  # the teacher's own PIN, typed by hand, still signs in at once
            assert await pilot_wait_until(pilot, lambda: form_ready(app)), "the manual form after the sign-in"
            await pilot.press(*"36.5", "enter")
            assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None and app.duty.latest.follows is None
                                          and app.duty.latest.entrant_id == CARD)


async def test_real_wrong_pins_still_lock_the_teacher_out(db_path):
    with ScreeningLog(db_path) as log:
        people(log)
        app = build_app(CONFIG, log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: app.users_exist)
            for wrong in ("730582", "730583", "730584"):
                await pilot.press("f2")
                assert await pilot_wait_until(pilot, lambda: screen_shown(app, SignIn))
                await type_slowly(pilot, "zhang")
                await type_slowly(pilot, wrong)  # typed by hand: a person's wrong PINs count
                assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
            assert [e["action"] for e in failures(log)][0] == "lockout"
            assert not any(isinstance(s, ManualEntry) for s in app.screen_stack)


def test_a_pin_that_is_a_card_number_the_station_knows_is_refused_when_set(db_path):
    with ScreeningLog(db_path) as log:
        people(log)
        auth = Auth(log, "gate-1")
        for attempt in (lambda: auth.add_user("wu", "duty", CARD, User("admin", "admin")),
                        lambda: auth.reset_pin("zhang", CARD, User("admin", "admin"))):
            with pytest.raises(AuthError, match="card number") as refused:
                attempt()
            assert CARD not in str(refused.value)  # the message never repeats the PIN
        assert auth.check("zhang", PIN, "manual-entry").name == "zhang"  # zhang's PIN unchanged
