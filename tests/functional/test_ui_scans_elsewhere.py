"""A card scanned while another screen than the gate's is open is never lost (a pupil not registered, at a gate): a
screen only looked at (help, today, the command palette) gives the gate screen back with the person waiting for the
reading; a screen with work on it (auditor, follow-up, maintenance, the visitor form) keeps that work, the card's
characters are taken back out of the field they fell into, and a line says the person is kept for the next reading.
Keys typed by a person at a person's pace stay where they were typed."""
import dataclasses

import pytest
from textual.command import CommandPalette

from gate.config import Config, SensorConfig
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.day import DayView
from gate.ui.screens.followup import FollowupScreen
from gate.ui.screens.help import HelpScreen
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.visitor import VisitorForm
from sim.scenarios import SCENARIOS
from tests.functional.duty_pilot import duty_screen, focus, measured, notices, open_screen, scan, type_slowly, wait_told
from tests.support import pilot_wait_until, screen_shown

CARD = "S00042"
KEPT = f"{CARD}: card scanned — kept for the next reading"


async def measured_as(pilot, card: str) -> None:
    """The next reading (by hand, F2) goes with the scanned card."""
    assert (await measured(pilot, "36.6")).entrant_id == card


async def kept_over(pilot, screen) -> None:
    """The card waits for the next reading, said in a line, and the screen with work on it stays on top."""
    assert await pilot_wait_until(pilot, lambda: pilot.app.duty.pending_entrant == CARD)
    await wait_told(pilot, KEPT)
    assert pilot.app.screen is screen


@pytest.mark.parametrize("key, view", [("f1", HelpScreen), ("f5", DayView), ("ctrl+p", CommandPalette)])
async def test_a_card_scanned_over_a_view_brings_the_gate_screen_back_with_the_person(db_path, key, view):
    async with duty_screen(db_path) as (pilot, app, log):
        await open_screen(pilot, key, view)
        await scan(pilot, CARD)
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        assert app.duty.pending_entrant == CARD
        await wait_told(pilot, f"{CARD}: card scanned — back at the gate screen")
        await measured_as(pilot, CARD)


async def test_the_line_is_said_in_chinese_on_a_chinese_station(db_path):
    async with duty_screen(db_path, Config(language="zh-CN")) as (pilot, app, log):
        await open_screen(pilot, "f1", HelpScreen)
        await scan(pilot, CARD)
        await wait_told(pilot, f"{CARD}：已扫卡 — 已回到值班屏")


async def test_a_card_scanned_into_the_auditors_date_field_is_kept_and_the_date_is_not_spoiled(db_path):
    async with duty_screen(db_path) as (pilot, app, log):
        auditor = await open_screen(pilot, "f8", AuditorScreen)
        field = await focus(pilot, auditor.query_one("#f-from"))
        date = field.value
        await scan(pilot, CARD)
        await kept_over(pilot, auditor)
        assert field.value == date  # the auditor's search is as it was
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        await measured_as(pilot, CARD)


async def test_a_card_scanned_over_the_follow_up_form_keeps_the_note_half_typed(db_path):
    async with duty_screen(db_path, Config(language="en"), size=(120, 30)) as (pilot, app, log):
        screen = await open_screen(pilot, "f11", FollowupScreen)
        note = await focus(pilot, screen.query_one("#fu-note"))
        await type_slowly(pilot, "mum", enter=False)  # the teacher is typing the note
        await scan(pilot, CARD)  # and a pupil's card goes through the scanner
        await kept_over(pilot, screen)
        assert note.value == "mum"
        # the table, not a field, has the keys: the card's characters go nowhere but the gate
        await focus(pilot, screen.query_one("#fu-table"))
        await scan(pilot, "P7")
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == "P7")


async def test_a_person_typing_a_note_at_a_persons_pace_is_not_a_card(db_path):
    async with duty_screen(db_path, Config(language="en"), size=(120, 30)) as (pilot, app, log):
        screen = await open_screen(pilot, "f11", FollowupScreen)
        note = await focus(pilot, screen.query_one("#fu-note"))
        await type_slowly(pilot, "flu")  # the teacher types "flu" and Enter: the form answers, no card
        assert await pilot_wait_until(pilot, lambda: "choose a case first" in str(
            app.screen.query_one("#fu-error").render()))
        assert note.value == "flu" and app.duty.pending_entrant is None


async def test_a_card_scanned_into_the_visitor_form_leaves_the_visitors_name_alone(db_path):
    async with duty_screen(db_path, Config(language="en")) as (pilot, app, log):
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
    async with duty_screen(db_path, Config(sensors=(sc,), language="en"), sensor_config=sc) as (pilot, app, log):
        screen = await open_screen(pilot, "f9", MaintenanceScreen)
        await scan(pilot, CARD)
        await kept_over(pilot, screen)


async def test_a_card_scanned_while_the_gate_screens_table_has_the_keys_still_counts(db_path):
    async with duty_screen(db_path) as (pilot, app, log):
        await focus(pilot, app.duty.query_one("#recent"))  # a click on the recent table took the keys
        await scan(pilot, CARD)
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
        await measured_as(pilot, CARD)


async def test_an_overlong_card_over_a_view_is_refused_with_a_line_and_goes_with_nobody(db_path):
    async with duty_screen(db_path, Config(language="en")) as (pilot, app, log):
        await open_screen(pilot, "f5", DayView)
        await scan(pilot, "9" * 65)
        await wait_told(pilot, "not taken as a card — scan again")
        assert app.duty.pending_entrant is None and app.duty.take_entrant() is None


async def test_the_decision_for_a_card_kept_behind_the_auditor_is_said_over_it(db_path):
    from domain import MaskResult, MaskState, Reading
    from gate.ui.messages import ScreeningDecided

    async with duty_screen(db_path, Config(language="en")) as (pilot, app, log):
        await open_screen(pilot, "f8", AuditorScreen)
        await scan(pilot, CARD)
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == CARD)
        # the thermometer measures the pupil (as the sensor loop would post it): the banner is behind the auditor
        s = app.station.screen([Reading(object_c=38.6, source="manual")], MaskResult(MaskState.YES),
                               entrant_id=app.duty.take_entrant())
        app.duty.post_message(ScreeningDecided(s))
        await wait_told(pilot, f"RETEST {CARD}: 38.6 °C is at or above 37.3 °C")
        assert isinstance(app.screen, AuditorScreen), notices(app)
