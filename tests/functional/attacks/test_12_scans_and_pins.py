"""Attacker a12c at the duty screen (Textual pilot; keys stamped with a person's or a scanner's timing, as the
station reads them): walking around the PIN lockout, a scan into a half-typed field of the auditor or follow-up
screen, the idle sign-out with a form half typed, fevers typed by hand in odd spellings, and the typing errors of the
manual-entry form. Each of these HOLDS today; the holes found are kept out of the suite (/tmp/a12c/holes_*.py)."""
import sqlite3

import pytest
from textual.command import CommandPalette

from domain.case import Outcome
from gate.config import Config
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.manual import ManualEntry
from storage import audit
from tests.functional.duty_pilot import (CARD, PIN, STAFFED, at_the_pin_field, duty_screen, focus, form_ready, manual,
                                         measured, notices, open_form, open_screen, pin_check_running, scan, sign_in,
                                         type_slowly, zhang_and_a_pupil)
from tests.functional.test_ui_followup_form import followup_open
from tests.support import Clock, pilot_settled, pilot_wait_until, screen_text


def actions(log) -> list[str]:
    return [e["action"] for e in audit.events(log, 200)]


async def wrong_pins(pilot, pins, then=()) -> None:
    """Each PIN typed at a person's pace after zhang's name, and ``then`` (keys pressed at once after the Enter)."""
    for pin in pins:
        await at_the_pin_field(pilot)
        await type_slowly(pilot, pin, enter=not then)
        if then:
            await pilot.press("enter", *then)
        assert await pilot_settled(pilot)


async def the_right_pin_is_refused(pilot, app, log) -> None:
    await at_the_pin_field(pilot)
    await type_slowly(pilot, PIN)
    # the lockout itself said "locked" already: the refusal of this PIN is its own audit row, then its own line
    assert await pilot_wait_until(pilot, lambda: actions(log)[0] == "login-refused"), actions(log)
    assert await pilot_settled(pilot)
    assert "locked" in notices(app).rsplit("|", 1)[-1], notices(app)
    assert app.user is None and not any(isinstance(s, ManualEntry) for s in app.screen_stack)


async def test_known_cards_typed_between_wrong_pins_do_not_reset_the_count(db_path):
    """Guesses that look like cards (a card the roster knows, typed between real guesses) neither count nor reset the
    count of wrong PINs: three wrong ones still lock, and then the right PIN is refused."""
    async with duty_screen(db_path, STAFFED, staff=zhang_and_a_pupil) as (pilot, app, log):
        await wrong_pins(pilot, ("730582", CARD, "730583", CARD, CARD, "730584"))
        assert actions(log).count("login-failed") == 2 and "lockout" in actions(log), actions(log)
        await the_right_pin_is_refused(pilot, app, log)


@pytest.mark.parametrize("then", ["escape", "f1", "f5", "f6", "ctrl+p"])
async def test_a_guess_followed_at_once_by_esc_or_a_screen_key_still_counts(db_path, then):
    """Enter on a guess and, at once, Esc or a key that leaves the sign-in: the check is still counted."""
    async with duty_screen(db_path, STAFFED, staff=zhang_and_a_pupil) as (pilot, app, log):
        await wrong_pins(pilot, [f"73058{n}" for n in range(3)], then=(then,))
        assert await pilot_wait_until(pilot, lambda: "lockout" in actions(log)), actions(log)
        await the_right_pin_is_refused(pilot, app, log)


async def test_a_guess_answered_under_the_command_palette_on_a_busy_log_leaves_no_sign_in_stuck(db_path):
    """Enter on a guess, then Ctrl+P while another program holds the log (the check waits for it): the refusal comes
    with the palette on top. It is counted, and once the palette closes the sign-in closes too (it used to close the
    palette in its place and stay open for good, deaf to Esc: the gate was stuck on a sign-in)."""
    async with duty_screen(db_path, STAFFED, staff=zhang_and_a_pupil) as (pilot, app, log):
        await at_the_pin_field(pilot)
        busy = sqlite3.connect(db_path, isolation_level=None)
        busy.execute("BEGIN IMMEDIATE")  # the log held by another program: the check waits for it
        await type_slowly(pilot, "730580")
        assert await pilot_wait_until(pilot, lambda: pin_check_running(app))
        palette = await open_screen(pilot, "ctrl+p", CommandPalette)
        busy.rollback()
        busy.close()
        assert await pilot_wait_until(pilot, lambda: "login-failed" in actions(log)), actions(log)
        assert await pilot_wait_until(pilot, lambda: not pin_check_running(app))
        assert app.screen is palette  # what the teacher opened stays until closed
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty), app.screen_stack
        assert len(app.screen_stack) == 1 and "wrong PIN" in notices(app), notices(app)
        await at_the_pin_field(pilot)  # and F2 opens a sign-in again


async def test_the_lock_outlives_the_app_and_other_spellings_of_the_name_sign_nobody_in(db_path):
    async with duty_screen(db_path, STAFFED, staff=zhang_and_a_pupil) as (pilot, app, log):
        await wrong_pins(pilot, [f"73058{n}" for n in range(3)])  # hammered in by hand (not at a scanner's speed)
        assert await pilot_wait_until(pilot, lambda: "lockout" in actions(log))
    async with duty_screen(db_path, STAFFED, staffed=True) as (pilot, app, log):  # the station restarted
        for name in ("ZHANG", "ｚｈａｎｇ", "zhang "):
            await sign_in(pilot, name, PIN)
            assert await pilot_settled(pilot)
            assert app.user is None
            await pilot.press("escape")
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        await the_right_pin_is_refused(pilot, app, log)


async def test_the_idle_sign_out_closes_a_half_typed_form_and_stores_nothing(db_path):
    clock = Clock()
    async with duty_screen(db_path, STAFFED, staff=zhang_and_a_pupil, clock=clock) as (pilot, app, log):
        await at_the_pin_field(pilot)
        await type_slowly(pilot, PIN)
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        await type_slowly(pilot, "36.6", enter=False)  # and the teacher walks away
        clock.advance(6 * 60)
        assert await pilot_wait_until(pilot, lambda: app.user is None), "the idle sign-out"
        await pilot.press("enter")  # a key pressed later stores nothing under the teacher signed out
        assert await pilot_settled(pilot)
        assert log.count() == 0 and app.duty.latest is None
        assert not any(isinstance(s, ManualEntry) for s in app.screen_stack)
        assert "not signed in" in str(app.duty.query_one("#status").render())


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("typed", ["37.5 C", "37.5c", "99.5f", "99.5 F", "+37.5", "37,5", "37.30", "37.55555", "38"])
async def test_a_fever_typed_in_any_accepted_spelling_is_never_admitted(db_path, language, typed):
    async with duty_screen(db_path, Config(language=language, mask_mode="off"), size=(80, 24)) as (pilot, app, log):
        await manual(pilot, typed)
        assert await pilot_settled(pilot)
        if isinstance(app.screen, ManualEntry):  # refused on the form: nothing stored
            assert log.count() == 0 and str(app.screen.query_one("#manual-error").render()).strip()
        else:
            assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
            assert app.duty.latest.decision.value != "admit", (typed, app.duty.latest.temperature_c)


@pytest.mark.parametrize("typed", ["37..5", "３７．５", "37°", "-37", "37.", ".5", "3 7", "37_5", "37,5,1",
                                   "37.5\u200b", "٣٧٫٥", "29", "46"])
@pytest.mark.parametrize("language, what_to_do", [("en", ("type", "check")), ("zh-CN", ("请",))])
async def test_each_typing_error_says_what_to_do_and_stores_nothing(db_path, typed, language, what_to_do):
    async with duty_screen(db_path, Config(language=language, mask_mode="off"), size=(80, 24)) as (pilot, app, log):
        form = await open_form(pilot)
        form.query_one("#manual-temp").value = typed
        await pilot.press("enter")
        line = lambda: str(form.query_one("#manual-error").render())  # noqa: E731
        assert await pilot_wait_until(pilot, lambda: any(w in line() for w in what_to_do)), line()
        assert app.screen is form and log.count() == 0
        shown = screen_text(app)  # on screen whole at 80x24, wrapped at its spaces
        assert all(part in shown for part in line().split()), (line(), shown)


async def test_a_card_scanned_into_a_half_typed_auditor_filter_keeps_the_filter_and_the_card(db_path):
    async with duty_screen(db_path, size=(80, 24)) as (pilot, app, log):
        auditor = await open_screen(pilot, "f8", AuditorScreen)
        field = await focus(pilot, auditor.query_one("#f-entrant"))
        await type_slowly(pilot, "2023", enter=False)  # the auditor looking a pupil up, digits like a card's
        await scan(pilot, CARD)
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
        assert await pilot_wait_until(pilot, lambda: "kept for the next" in notices(app)), notices(app)
        assert field.value == "2023" and app.screen is auditor


async def test_a_card_scanned_into_a_half_typed_onset_at_80x24_keeps_the_date_and_the_card(db_path):
    async with followup_open(db_path, (80, 24)) as (pilot, app, log, screen):
        onset = await focus(pilot, screen.query_one("#fu-onset"))
        await type_slowly(pilot, "2026-12-0", enter=False)
        await scan(pilot, CARD)  # numeric, like the date's digits
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
        assert onset.value == "2026-12-0" and app.screen is screen
        screen.query_one("#fu-outcome").value = Outcome.SICK_LEAVE.value
        onset.value = "2026-13-01"
        await pilot.click("#fu-close")
        assert await pilot_wait_until(pilot, lambda: "use YYYY-MM-DD" in str(screen.query_one("#fu-error").render()))


@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_the_auditor_at_80x24_shows_a_fevers_reasons_and_its_buttons(db_path, language):
    async with duty_screen(db_path, Config(language=language, mask_mode="off"), size=(80, 24)) as (pilot, app, log):
        await measured(pilot, "37.5")
        await open_screen(pilot, "f8", AuditorScreen)
        assert await pilot_wait_until(pilot, lambda: "fever-suspected" in screen_text(app)), screen_text(app)
        text = screen_text(app)
        assert "Verify log" in text and "Export" in text and "37.5" in text


def test_a_pin_that_is_a_rostered_card_is_refused_when_it_is_set(gate, tmp_path):
    """A staff PIN equal to a pupil's card could never sign in at the gate (the sign-in takes it for the card): it is
    refused at `gate users add` and `reset-pin`, in one line saying why, and nothing is changed."""
    db = str(tmp_path / "g.db")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,name,class,kind\n{CARD},张三,三年级二班,pupil\n", encoding="utf-8")
    assert gate("users", "add", "admin", "--role", "admin", "--db", db, "--pin-stdin", stdin=b"900417\n").returncode == 0
    assert gate("roster", "import", str(roster), "--db", db, "--user", "admin", "--pin-stdin",
                stdin=b"900417\n").returncode == 0
    r = gate("users", "add", "zhang", "--role", "duty", "--db", db, "--user", "admin", "--pin-stdin",
             stdin=f"900417\n{CARD}\n".encode())
    assert r.returncode == 1 and b"card number" in r.stderr and CARD.encode() not in r.stderr, r.stderr
    assert b"Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert gate("users", "add", "zhang", "--role", "duty", "--db", db, "--user", "admin", "--pin-stdin",
                stdin=f"900417\n{PIN}\n".encode()).returncode == 0
    r = gate("users", "reset-pin", "zhang", "--db", db, "--user", "admin", "--pin-stdin",
             stdin=f"900417\n{CARD}\n".encode())
    assert r.returncode == 1 and b"card number" in r.stderr, r.stderr
    config = tmp_path / "gate.toml"
    config.write_bytes(gate("config", "example").stdout)
    assert gate("config", "apply", str(config), "--db", db, "--user", "admin", "--pin-stdin",
                stdin=b"900417\n").returncode == 0
    signed = gate("screen", "--temp", "36.6", "--config", str(config), "--db", db, "--user", "zhang", "--pin-stdin",
                  stdin=f"{PIN}\n".encode())
    assert signed.returncode == 0, signed.stderr  # the old PIN still signs in: nothing was changed
