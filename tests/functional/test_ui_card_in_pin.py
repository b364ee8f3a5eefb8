"""A pupil's numeric card scanned into the sign-in's PIN field is a card, not a wrong PIN: the sign-in says so, keeps
the card for the next reading and counts nothing towards the teacher's lockout; real wrong PINs still lock."""
import functools

import pytest

from domain import MaskResult, MaskState, Reading
from gate.auth import Auth, AuthError, User
from gate.ui.screens.manual import ManualEntry
from storage import audit
from storage.log import ScreeningLog
from tests.functional.duty_pilot import (CARD, PIN, STAFFED, duty_screen, form_ready, open_signin, scan, sign_in,
                                         type_slowly, zhang_and_a_pupil)
from tests.support import pilot_wait_until


def failures(log) -> list[dict]:
    return [e for e in audit.events(log, 200) if e["action"] in ("login-failed", "lockout", "login-refused")]


def line(app) -> str:
    return str(app.screen.query_one("#signin-error").render())


@pytest.mark.parametrize("known_by", ["roster", "screened before"])
async def test_a_card_scanned_into_the_pin_field_is_said_and_never_counts_as_a_wrong_pin(db_path, known_by):
    def screened_before(app) -> None:
        app.station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id=CARD)

    staff = functools.partial(zhang_and_a_pupil, roster=known_by == "roster")
    before = screened_before if known_by == "screened before" else None
    async with duty_screen(db_path, STAFFED, staff=staff, before=before) as (pilot, app, log):
        signin = await open_signin(pilot)
        await pilot.press(*"zhang", "enter")
        for n in range(5):  # more scans than the lockout allows wrong PINs
            await scan(pilot, CARD)  # the scanner: its keys 5 ms apart
            assert await pilot_wait_until(pilot, lambda: "that was a card, not a PIN" in line(app)), line(app)
            app.screen.query_one("#signin-error").update("")
        assert app.screen is signin and signin.query_one("#signin-name").value == "zhang"
        assert signin.query_one("#signin-pin").value == "" and app.focused.id == "signin-pin"
        assert failures(log) == [] and app.duty.pending_entrant == CARD
        await type_slowly(pilot, PIN)  # the teacher's own PIN, typed by hand, still signs in at once
        assert await pilot_wait_until(pilot, lambda: form_ready(app)), "the manual form after the sign-in"
        await pilot.press(*"36.5", "enter")
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None and app.duty.latest.follows is None
                                      and app.duty.latest.entrant_id == CARD)


async def test_real_wrong_pins_still_lock_the_teacher_out(db_path):
    async with duty_screen(db_path, STAFFED, staff=zhang_and_a_pupil) as (pilot, app, log):
        for wrong in ("730582", "730583", "730584"):
            await sign_in(pilot, "zhang", wrong)  # typed by hand: a person's wrong PINs count
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        assert [e["action"] for e in failures(log)][0] == "lockout"
        assert not any(isinstance(s, ManualEntry) for s in app.screen_stack)


def test_a_pin_that_is_a_card_number_the_station_knows_is_refused_when_set(db_path):
    with ScreeningLog(db_path) as log:
        zhang_and_a_pupil(log)
        auth = Auth(log, "gate-1")
        for attempt in (lambda: auth.add_user("wu", "duty", CARD, User("admin", "admin")),
                        lambda: auth.reset_pin("zhang", CARD, User("admin", "admin"))):
            with pytest.raises(AuthError, match="card number") as refused:
                attempt()
            assert CARD not in str(refused.value)  # the message never repeats the PIN
        assert auth.check("zhang", PIN, "manual-entry").name == "zhang"  # zhang's PIN unchanged
