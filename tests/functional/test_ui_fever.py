"""The duty screen keeps a fever with its person: a retest links to the right one, a confirmed fever is refused at once."""
import time
from domain import Decision
from gate.config import Config
from tests.support import Clock, pilot_wait_until
from tests.functional.duty_pilot import banner, duty_screen, manual, measured

SEVEN_42 = time.mktime((2026, 12, 1, 7, 42, 0, 0, 0, -1))


async def test_a_retest_after_the_rest_links_to_its_person_even_after_others(db_path):
    clock = Clock()
    config = Config(language="en", mask_mode="off", retest_wait_minutes=10)
    async with duty_screen(db_path, config, clock=clock) as (pilot, app, log):
        duty = app.duty
        await pilot.press(*"S1", "enter")
        await manual(pilot, "38.0")  # S1: suspected fever, sent inside to rest
        assert await pilot_wait_until(pilot, lambda: duty.latest is not None)
        feverish = duty.latest
        assert str(duty.query_one("#retests").render()) == "↻ retests: S1 38.0 °C 10:00"
        clock.advance(75)
        assert await pilot_wait_until(pilot, lambda: "S1 38.0 °C 08:45" in str(duty.query_one("#retests").render()))
        await manual(pilot, "36.5")  # another person meanwhile: a new screening, not S1's retest
        assert await pilot_wait_until(pilot, lambda: duty.latest is not feverish)
        other = duty.latest
        assert other.follows is None and feverish.id in duty.retests
        clock.advance(600 - 75)  # ten minutes later S1 is ready; the form now offers S1's retest first
        assert await pilot_wait_until(
            pilot, lambda: "ready" in str(duty.query_one("#retests").render())), "S1 ready"
        await manual(pilot, "37.0")
        assert await pilot_wait_until(pilot, lambda: duty.latest is not other)
        final = duty.latest
        assert final.follows == feverish.id and final.entrant_id == "S1" and final.decision is Decision.ADMIT
        assert [r.value_c for r in final.readings] == [38.0, 37.0] and len(duty.retests) == 0
        assert str(duty.query_one("#retests").render()) == ""


async def test_a_fever_follows_its_person_and_the_duty_screen_says_why_at_once(db_path):
    clock = Clock(SEVEN_42)
    async with duty_screen(db_path, operator="Wang", clock=clock) as (pilot, app, log):
        duty = app.duty
        for temp in ("38.5", "38.4"):  # the scanned id links the second reading by itself, no target chosen
            await pilot.press(*"P42", "enter")
            assert (await measured(pilot, temp)).temperature_c == float(temp)
            clock.advance(600)
        assert duty.latest.decision is Decision.DENY and "fever-confirmed" in duty.latest.reasons
        await pilot.press(*"P42", "enter")  # scanned again later: said at once, before any reading
        said = "P42: Fever confirmed at 07:52 — sent home"
        assert await pilot_wait_until(pilot, lambda: any(n.message.startswith(said) for n in app._notifications))
        await manual(pilot, "36.6")
        assert await pilot_wait_until(pilot, lambda: duty.latest.temperature_c == 36.6)
        assert banner(app).split()[1] == "DENY"
        assert str(app.query_one("#message").render()).startswith("Fever confirmed at 07:52 — sent home")
        await pilot.press("f6")
        assert await pilot_wait_until(
            pilot, lambda: str(app.query_one("#message").render()).startswith("07:52 已确认发热——已送回家"))
        await manual(pilot, "36.6")  # no id: anonymous, judged alone as before
        assert await pilot_wait_until(pilot, lambda: duty.latest.entrant_id is None)
        assert duty.latest.decision is Decision.ADMIT


async def test_a_retest_of_someone_screened_again_elsewhere_is_refused_and_said(db_path):
    from domain import MaskResult, Reading
    from gate.station import Station

    clock = Clock(SEVEN_42)
    async with duty_screen(db_path, operator="Wang", clock=clock) as (pilot, app, log):
        await pilot.press(*"P42", "enter")
        await measured(pilot, "38.5")
        clock.advance(300)  # meanwhile `gate screen` at the side gate: P42 again, 38.7
        side_gate = Station(Config(mask_mode="off"), log, clock=clock)
        side_gate.screen([Reading(object_c=38.7, source="manual", operator="Li")], MaskResult(), entrant_id="P42")
        clock.advance(600)
        n = log.count()
        await manual(pilot, "36.5")  # the form's default: P42's first retest, rested, as this screen knows it
        assert await pilot_wait_until(
            pilot, lambda: any("P42 was screened again at 07:47" in m.message for m in app._notifications))
        assert log.count() == n and app.is_running
