"""Half an hour at the gate as a tired duty teacher, with Textual's pilot: keys pressed twice, Esc half-way through a
form, a sensor that comes and goes every few seconds, a card scanned while a form is open. Each attempt asserts what
the station must do; nothing typed is lost, nothing is stored twice, and a missing reading is never an admit."""
import dataclasses
import re

import pytest

from domain import Decision, Health, MaskState
from drivers.samples import HealthEvent
from gate.config import Config, SensorConfig
from textual.widgets import Input
from gate.ui.messages import SensorHealthChanged
from gate.ui.screens.fault_offer import OFFER_AFTER_S
from gate.ui.screens.help import KEYS, HelpScreen
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.manual import ManualEntry
from sim.scenarios import SCENARIOS
from storage import audit
from tests.functional.duty_pilot import duty_screen, form_ready, manual, measured, open_form
from tests.support import Clock, pilot_wait_until, screen_shown, screen_text, typing_goes_to


def forms(app) -> int:
    return sum(isinstance(s, ManualEntry) for s in app.screen_stack)


def still_gun():
    return dataclasses.replace(SCENARIOS["normal-morning"], gap_s=(600.0, 600.0))


async def test_f2_pressed_twice_opens_one_form_and_one_esc_closes_it(db_path):
    async with duty_screen(db_path, Config(language="en")) as (pilot, app, log):
        await pilot.press("f2", "f2")
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        await pilot.pause()
        assert forms(app) == 1 and len(app.screen_stack) == 2
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        assert typing_goes_to(app, "entrant-input") and log.count() == 0


async def test_enter_pressed_twice_stores_one_reading(db_path):
    async with duty_screen(db_path) as (pilot, app, log):
        form = await open_form(pilot)
        await pilot.press(*"36.6")
        field = form.query_one("#manual-temp")
        for _ in range(2):  # a bouncing Enter key: two submits before the form is gone
            form.post_message(Input.Submitted(field, field.value))
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        await pilot.press("enter")  # and a third on the gate screen's empty id field
        await pilot.pause()
        assert log.count() == 1 and app.duty.counts["screened"] == 1 and app._exception is None
        assert app.screen is app.duty and len(app.screen_stack) == 1


async def test_f3_pressed_twice_confirms_the_mask_once(db_path):
    async with duty_screen(db_path, Config(language="en"), operator="Wang") as (pilot, app, log):
        duty = app.duty
        first = await measured(pilot, "36.5")  # no camera: the mask is not seen, a retest until staff confirm
        assert first.decision is Decision.RETEST
        await pilot.press("f3", "f3")
        assert await pilot_wait_until(pilot, lambda: duty.latest is not first)
        await pilot.press("f3")  # once more, after the confirmation is shown
        await pilot.pause()
        assert await pilot_wait_until(pilot, lambda: any("already" in n.message for n in app._notifications))
        overrides = [e for e in audit.events(log, 20) if e["action"] == "override"]
        assert len(overrides) == 1 and log.count() == 2
        assert duty.latest.mask.state is MaskState.YES and duty.latest.decision is Decision.ADMIT
        assert duty.counts["admit"] == 1 and duty.counts == {**duty.counts, **log.day_counts()}
        await pilot.press("f4")  # a change of mind is not a key pressed twice: it is stored
        assert await pilot_wait_until(pilot, lambda: duty.latest.mask.state is MaskState.NO)
        assert duty.latest.decision is Decision.DENY and log.count() == 3


async def test_esc_half_way_through_the_form_keeps_the_scanned_id_for_the_reading(db_path):
    async with duty_screen(db_path) as (pilot, app, log):
        await pilot.press(*"S00042", "enter")  # the pupil's card, then the handheld thermometer
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == "S00042")
        await open_form(pilot)
        await pilot.press(*"36.", "escape")  # interrupted
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        assert log.count() == 0 and app.duty.latest is None and app.duty.pending_entrant == "S00042"
        latest = await measured(pilot, "36.6")  # starts empty, and the reading is the scanned pupil's
        assert latest.entrant_id == "S00042" and latest.temperature_c == 36.6


async def test_a_card_scanned_into_the_open_form_names_the_person_measured(db_path):
    async with duty_screen(db_path) as (pilot, app, log):
        form = await open_form(pilot)
        await pilot.press(*"S00042", "enter")  # the scanner types into the temperature field
        assert await pilot_wait_until(pilot, lambda: "S00042" in str(form.query_one("#manual-person").render()))
        assert app.screen is form and form.query_one("#manual-temp").value == "" and log.count() == 0
        await pilot.press(*"36.6", "enter")
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        assert app.duty.latest.entrant_id == "S00042" and log.count() == 1


async def test_a_sensor_coming_and_going_every_few_seconds_pushes_no_form(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=31)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    clock = Clock()
    config = Config(sensors=(sc,), language="en")
    async with duty_screen(db_path, config, sensor_config=sc, clock=clock) as (pilot, app, log):
        duty = app.duty
        assert await pilot_wait_until(pilot, lambda: duty.health == "ok")
        await pilot.press(*"S0001")  # a teacher typing an id by hand all through it
        for _ in range(5):  # out for a second, back for a few
            sim.unplug()
            assert await pilot_wait_until(pilot, lambda: duty.health == "offline")
            clock.advance(1.0)
            sim.plug()
            assert await pilot_wait_until(pilot, lambda: duty.health == "ok")
            clock.advance(3.0)
            assert len(app.screen_stack) == 1 and typing_goes_to(app, "entrant-input")
        assert duty.query_one("#entrant-input").value == "S0001"  # every key went where it was typed
        assert any("unplugged" in n.message for n in app._notifications)  # each outage told, in a notice
        assert log.count() == 0 and duty.latest is None  # and nobody admitted on a reading that never came
        sim.unplug()  # now it stays out
        assert await pilot_wait_until(pilot, lambda: duty.health == "offline")
        clock.advance(OFFER_AFTER_S)
        assert await pilot_wait_until(pilot, lambda: form_ready(app)), "the form, once the outage lasts"
        assert forms(app) == 1


async def test_a_form_being_typed_survives_the_sensor_flapping(db_path):
    clock = Clock()
    async with duty_screen(db_path, clock=clock) as (pilot, app, log):
        duty = app.duty

        def health(h: Health) -> None:
            duty.post_message(SensorHealthChanged(HealthEvent("gun-1", h, f"sensor {h.value}")))

        health(Health.FAULT)
        assert await pilot_wait_until(pilot, lambda: duty.down_since is not None)
        clock.advance(OFFER_AFTER_S)
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        form = app.screen
        await pilot.press(*"36.")
        for h in (Health.OK, Health.FAULT, Health.OK, Health.OFFLINE, Health.OK) * 3:
            health(h)
            assert await pilot_wait_until(pilot, lambda: duty.health == h.value)
            clock.advance(OFFER_AFTER_S)
        assert await pilot_wait_until(pilot, lambda: duty.health == "ok")
        await pilot.pause()
        assert app.screen is form and forms(app) == 1 and form.query_one("#manual-temp").value == "36."
        await pilot.press("7", "enter")
        assert await pilot_wait_until(pilot, lambda: duty.latest is not None)
        assert duty.latest.temperature_c == 36.7 and log.count() == 1


async def test_no_reading_is_never_an_admit_even_when_the_form_is_withdrawn(db_path):
    clock = Clock()
    async with duty_screen(db_path, clock=clock) as (pilot, app, log):
        duty = app.duty
        for _ in range(3):
            duty.post_message(SensorHealthChanged(HealthEvent("gun-1", Health.FAULT, "no data for 2.1 s")))
            assert await pilot_wait_until(pilot, lambda: duty.health == "fault")
            clock.advance(OFFER_AFTER_S)
            assert await pilot_wait_until(pilot, lambda: form_ready(app))
            await pilot.press("enter")  # Enter on the empty field: refused, said
            assert await pilot_wait_until(pilot, lambda: "no temperature" in str(
                app.screen.query_one("#manual-error").render()))
            duty.post_message(SensorHealthChanged(HealthEvent("gun-1", Health.OK, "readings normal")))
            assert await pilot_wait_until(pilot, lambda: app.screen is duty)
        assert log.count() == 0 and duty.latest is None and duty.counts["admit"] == 0


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_at_80_by_24_the_offered_form_shows_its_field_the_person_the_error_and_its_keys(db_path, language):
    clock = Clock()
    config = Config(language=language, mask_mode="off")
    async with duty_screen(db_path, config, size=(80, 24), clock=clock, show_clock=False) as (pilot, app, log):
        duty = app.duty
        duty.post_message(SensorHealthChanged(HealthEvent("gun-1", Health.FAULT, "no data for 2.1 s")))
        assert await pilot_wait_until(pilot, lambda: duty.down_since is not None)
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and "F2 = 手测 / manual entry" in lines[-2] and "fault" in lines[-2]
        assert any("扫码或输入人员编号" in line for line in lines)  # the scanner's field is on screen
        clock.advance(OFFER_AFTER_S)
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        await pilot.press(*"S00042", "enter", *"99", "enter")  # a card into the field, then a wrong value
        outside = {"zh-CN": "99 °C 超出 30–45", "en": "99 °C is outside 30–45 °C"}[language]  # said in the
        assert await pilot_wait_until(pilot, lambda: outside in str(  # station's language (zh-CN: in Chinese)
            app.screen.query_one("#manual-error").render()))
        await pilot.pause()
        shown = screen_text(app)
        for words in ("手测体温 / Manual reading", "person: S00042", outside,
                      "Enter = 保存 / save · Esc = 取消 / cancel", "传感器故障 / sensor fault"):
            assert words in shown, f"{words!r} not on the 80x24 screen:\n{shown}"
        assert re.search(r"▊\s+99\s+▎", shown), shown  # what was typed, in its field
        await pilot.press("backspace", "backspace", *"36.6", "enter")
        assert await pilot_wait_until(pilot, lambda: duty.latest is not None)
        assert duty.latest.entrant_id == "S00042" and duty.latest.temperature_c == 36.6


async def test_f2_beside_a_working_sensor_is_not_logged_as_a_sensor_fault(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=32)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    clock = Clock()
    config = Config(sensors=(sc,), language="en", mask_mode="off")
    async with duty_screen(db_path, config, sensor_config=sc, clock=clock) as (pilot, app, log):
        assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok")
        await manual(pilot, "36.6")  # a pupil measured by hand beside a working gun (a cold morning, say)
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        assert app.duty.latest.reading.manual_reason == "other"  # the log does not say the sensor failed
        sim.unplug()
        assert await pilot_wait_until(pilot, lambda: app.duty.health == "offline")
        clock.advance(OFFER_AFTER_S)
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        assert app.screen.query_one("#manual-reason").value == "sensor-fault"  # now it did


async def test_every_screen_key_pressed_twice_leaves_at_most_one_screen_open(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=33)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    async with duty_screen(db_path, Config(sensors=(sc,), language="en"), sensor_config=sc) as (pilot, app, log):
        assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok")
        await pilot.press("f9", "f9")  # maintenance stays open once; the others close on their own key
        assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen))
        await pilot.pause()
        assert [type(s) for s in app.screen_stack] == [type(app.duty), MaintenanceScreen]
        assert len(app.duty.samples._listeners) == 1  # one screen listens to the sensor
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        for key in ("f1", "f5", "f8", "f11", "f2"):
            await pilot.press(key, key)
            await pilot.pause()
            assert len(app.screen_stack) <= 2, (key, app.screen_stack)
            while len(app.screen_stack) > 1:
                await pilot.press("escape")
                await pilot.pause()
        assert app.screen is app.duty and log.count() == 0 and app._exception is None


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_at_80_by_24_the_help_lists_every_key_whole(db_path, language):
    config = Config(language=language)
    async with duty_screen(db_path, config, size=(80, 24), show_clock=False) as (pilot, app, log):
        await pilot.press("f1")
        assert await pilot_wait_until(pilot, lambda: screen_shown(app, HelpScreen))
        await pilot.pause()
        shown = " ".join(screen_text(app).replace("█", " ").split())  # wrapped lines read as one text
        for key, zh, en in KEYS:
            assert f"{key} {zh} — {en}" in shown, f"{key}: {en!r} cut at 80 columns:\n{screen_text(app)}"
        assert "F11" in shown and "Esc = 关闭 / close" in shown
