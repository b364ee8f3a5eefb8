"""A card scanned while another screen than the gate's is open is never lost (a pupil not registered, at a gate): a
screen only looked at (help, today, the command palette) gives the gate screen back with the person waiting for the
reading; a screen with work on it (auditor, follow-up, maintenance, the visitor form) keeps that work, the card's
characters are taken back out of the field they fell into, and a line says the person is kept for the next reading.
Keys typed by a person at a person's pace stay where they were typed."""
import dataclasses
import time

import pytest
from textual.command import CommandPalette

from gate.config import Config, SensorConfig
from gate.ui.app import build_app
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.day import DayView
from gate.ui.screens.followup import FollowupScreen
from gate.ui.screens.help import HelpScreen
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.visitor import VisitorForm
from sim.scenarios import SCENARIOS
from storage.log import ScreeningLog
from tests.functional.duty_pilot import manual, scan, type_slowly
from tests.support import Clock, pilot_wait_until, screen_shown

CARD = "S00042"


def told(app, words: str) -> bool:
    return any(words in n.message for n in app._notifications)


async def measured_as(pilot, app, card: str) -> None:
    """The next reading (by hand, F2) goes with the scanned card."""
    await manual(pilot, "36.6")
    assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
    assert app.duty.latest.entrant_id == card


@pytest.mark.parametrize("key, view", [("f1", HelpScreen), ("f5", DayView), ("ctrl+p", CommandPalette)])
async def test_a_card_scanned_over_a_view_brings_the_gate_screen_back_with_the_person(db_path, key, view):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en", mask_mode="off"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press(key)
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, view))
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
            assert app.duty.pending_entrant == CARD
            # App.notify posts a message: the notice lands after the screen is back, so it is waited for
            assert await pilot_wait_until(pilot, lambda: told(app, f"{CARD}: card scanned — back at the gate screen"))
            await measured_as(pilot, app, CARD)


async def test_the_line_is_said_in_chinese_on_a_chinese_station(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="zh-CN"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f1")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, HelpScreen))
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: told(app, f"{CARD}：已扫卡 — 已回到值班屏"))


async def test_a_card_scanned_into_the_auditors_date_field_is_kept_and_the_date_is_not_spoiled(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en", mask_mode="off"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f8")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, AuditorScreen))
            auditor = app.screen
            field = auditor.query_one("#f-from")
            field.focus()
            await pilot.pause()
            date = field.value
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: told(app, f"{CARD}: card scanned — kept for the next reading"))
            assert app.screen is auditor and field.value == date  # the auditor's search is as it was
            assert app.duty.pending_entrant == CARD
            await pilot.press("escape")
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
            await measured_as(pilot, app, CARD)


async def test_a_card_scanned_over_the_follow_up_form_keeps_the_note_half_typed(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log, clock=Clock())
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f11")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, FollowupScreen))
            screen = app.screen
            note = screen.query_one("#fu-note")
            note.focus()
            await pilot.pause()
            await type_slowly(pilot, "mum", enter=False)  # the teacher is typing the note
            await scan(pilot, CARD)  # and a pupil's card goes through the scanner
            assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
            assert note.value == "mum" and app.screen is screen and told(app, "kept for the next reading")
            # the table, not a field, has the keys: the card's characters go nowhere but the gate
            screen.query_one("#fu-table").focus()
            await pilot.pause()
            await scan(pilot, "P7")
            assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == "P7")


async def test_a_person_typing_a_note_at_a_persons_pace_is_not_a_card(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log, clock=Clock())
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f11")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, FollowupScreen))
            note = app.screen.query_one("#fu-note")
            note.focus()
            await pilot.pause()
            await type_slowly(pilot, "flu")  # the teacher types "flu" and Enter: the form answers, no card
            assert await pilot_wait_until(pilot, lambda: "choose a case first" in str(
                app.screen.query_one("#fu-error").render()))
            assert note.value == "flu" and app.duty.pending_entrant is None


async def test_a_card_scanned_into_the_visitor_form_leaves_the_visitors_name_alone(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            app.duty.ask_visitor("V-77")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, VisitorForm))
            form = app.screen
            await pilot.pause()
            await type_slowly(pilot, "Zhang", enter=False)
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
            assert form.query_one("#v-name").value == "Zhang" and app.screen is form


async def test_a_card_scanned_over_the_maintenance_screen_is_kept(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", dataclasses.replace(SCENARIOS["normal-morning"], gap_s=(600.0, 600.0)), seed=9)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    with ScreeningLog(db_path) as log:
        app = build_app(Config(sensors=(sc,), language="en"), log, sensor_config=sc, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f9")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen))
            screen = app.screen
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
            assert app.screen is screen and told(app, "kept for the next reading")


async def test_a_card_scanned_while_the_gate_screens_table_has_the_keys_still_counts(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en", mask_mode="off"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            app.duty.query_one("#recent").focus()  # a click on the recent table took the keys
            await pilot.pause()
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
            await measured_as(pilot, app, CARD)


async def test_an_overlong_card_over_a_view_is_refused_with_a_line_and_goes_with_nobody(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f5")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, DayView))
            await scan(pilot, "9" * 65)
            assert await pilot_wait_until(pilot, lambda: told(app, "not taken as a card — scan again"))
            assert app.duty.pending_entrant is None and app.duty.take_entrant() is None


async def test_the_decision_for_a_card_kept_behind_the_auditor_is_said_over_it(db_path):
    from domain import MaskResult, MaskState, Reading
    from gate.ui.messages import ScreeningDecided

    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f8")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, AuditorScreen))
            await scan(pilot, CARD)
            assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
            # the thermometer measures the pupil (as the sensor loop would post it): the banner is behind the auditor
            s = app.station.screen([Reading(object_c=38.6, source="manual")], MaskResult(MaskState.YES),
                                   entrant_id=app.duty.take_entrant())
            app.duty.post_message(ScreeningDecided(s))
            assert await pilot_wait_until(pilot, lambda: told(app, f"RETEST {CARD}: 38.6 °C is at or above 37.3 °C"))
            assert isinstance(app.screen, AuditorScreen)
