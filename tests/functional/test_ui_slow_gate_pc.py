"""A slow or busy gate PC, with Textual's pilot: the form offered on a sensor fault never traps the station's keys,
a fast sensor never floods the maintenance screen, and a screen that draws late never stops the wizard.

Found by two full test runs at once on a loaded 2-core machine: a starved simulated sensor fell silent for 2 s, the
manual form opened by itself (over the maintenance screen too) and, being modal, swallowed F9 and Ctrl+Q.
"""
import dataclasses

from drivers.base import Health
from drivers.samples import HealthEvent, Sample
from gate.calibration import Point, calibrate
from gate.config import Config, SensorConfig
from gate.ui.app import build_app
from gate.ui.messages import SensorHealthChanged
from gate.ui.screens.day import DayView
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.manual import ManualEntry
from sim.scenarios import SCENARIOS
from storage import calibrations
from storage.log import ScreeningLog
from tests.functional.duty_pilot import form_ready
from tests.support import Clock, pilot_wait_until, screen_shown

KEY = "gy-mcu90614:gun-1"


def still_gun():
    """A gun that nobody walks past."""
    return dataclasses.replace(SCENARIOS["normal-morning"], gap_s=(600.0, 600.0))


def gun(sim) -> SensorConfig:
    return SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)


async def offered_form(pilot, sim):
    """Unplug the sensor: the station offers the manual form by itself."""
    app = pilot.app
    assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok"), "the sensor"
    sim.unplug()
    assert await pilot_wait_until(pilot, lambda: form_ready(app)), "manual entry offered by itself"
    assert app.screen.reason == "sensor-fault"
    return app.screen


async def test_the_offered_form_closes_when_the_sensor_is_back_unless_someone_typed(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=11)
    with ScreeningLog(db_path) as log:
        app = build_app(Config(sensors=(gun(sim),), language="en"), log, sensor_config=gun(sim))
        async with app.run_test(size=(110, 40)) as pilot:
            await offered_form(pilot, sim)
            sim.plug()  # a loose cable, pushed back: nobody typed anything
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty), "the untouched form closed"
            assert app.focused is not None and app.focused.id == "entrant-input"  # the scanner types here again
            form = await offered_form(pilot, sim)
            await pilot.press(*"36.")  # a teacher is typing a handheld reading
            sim.plug()
            assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok")
            assert app.screen is form and form.query_one("#manual-temp").value == "36."  # the typing is kept
            await pilot.press("8", "enter")
            assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
            assert app.duty.latest.temperature_c == 36.8 and log.get(app.duty.latest.id) is not None


async def test_the_station_keys_work_from_the_offered_form(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=12)
    with ScreeningLog(db_path) as log:
        app = build_app(Config(sensors=(gun(sim),), language="en"), log, sensor_config=gun(sim))
        async with app.run_test(size=(110, 40)) as pilot:
            form = await offered_form(pilot, sim)
            await pilot.press("f6")  # the language switches, the form stays
            assert await pilot_wait_until(pilot, lambda: app.language == "zh-CN") and app.screen is form
            await pilot.press("f9")  # to look at the sensor: the form closes unsaved, maintenance opens
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen))
            assert not form.is_attached and app.duty.latest is None and log.count() == 0
            assert [type(s) for s in app.screen_stack] == [type(app.duty), MaintenanceScreen]
            await pilot.press("escape")  # back at the gate, the sensor still down: the form is offered again
            assert await pilot_wait_until(pilot, lambda: form_ready(app) and app.screen is not form)
            assert app.screen.reason == "sensor-fault"
            await pilot.press("escape")  # declined: it is not pushed back at the teacher
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
            await pilot.press("f2")  # the teacher opens the form again
            assert await pilot_wait_until(pilot, lambda: form_ready(app))
            assert len(app.screen_stack) == 2
            await pilot.press("ctrl+q")  # quitting is never swallowed by a form
        assert app.return_code == 0 and app._exception is None


async def test_a_fault_during_maintenance_is_told_but_opens_no_form_over_the_wizard(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=13)
    with ScreeningLog(db_path) as log:
        app = build_app(Config(sensors=(gun(sim),), language="en"), log, sensor_config=gun(sim))
        async with app.run_test(size=(110, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok"), "the sensor"
            await pilot.press("f9")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen))
            screen = app.screen
            sim.unplug()
            assert await pilot_wait_until(pilot, lambda: app.duty.health == Health.OFFLINE.value)
            assert await pilot_wait_until(
                pilot, lambda: any("unplugged" in n.message for n in app._notifications)), "the fault told"
            assert app.screen is screen and not any(isinstance(s, ManualEntry) for s in app.screen_stack)
            await pilot.press("escape")  # back at the gate with the sensor still down: now the form is offered
            assert await pilot_wait_until(pilot, lambda: form_ready(app)), "offered on leaving maintenance"
            assert app.screen.reason == "sensor-fault" and len(app.screen_stack) == 2
            status = str(app.duty.query_one("#status").render())
            assert "offline" in status and "manual entry" in status


async def test_a_burst_of_samples_is_one_message_and_every_frame_counts(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", still_gun(), seed=14)
    clock = Clock(1000.0)  # the wizard's stopwatch, moved by the test only
    with ScreeningLog(db_path) as log:
        last_month = calibrate(KEY, [Point(35.0, (35.0,)), Point(40.0, (40.0,))], reference_id="BB",
                               reference_uncertainty_c=0.05, operator="li")
        calibrations.save(log, last_month, "gate-1")
        app = build_app(Config(sensors=(gun(sim),), language="en"), log, sensor_config=gun(sim), operator="li")
        async with app.run_test(size=(110, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok"), "the sensor"
            sim.unplug()  # from here on only the test feeds samples
            assert await pilot_wait_until(pilot, lambda: form_ready(app))
            await pilot.press("escape")
            screen = MaintenanceScreen(app.station, gun(sim), app.duty.samples, "li", monotonic=clock)
            await app.push_screen(screen)
            assert await pilot_wait_until(pilot, lambda: app.screen is screen)
            feed = app.duty.samples
            queued = screen._message_queue.qsize()
            for i in range(2000):  # a 100 Hz sensor's 20 s, arriving while the screen is busy
                feed(Sample(30.0 + i / 1000, 21.0, 0.0))
            assert screen._message_queue.qsize() <= queued + 1  # one "samples waiting", not 2000 messages
            assert await pilot_wait_until(pilot, lambda: screen.recent and abs(screen.recent[-1] - 31.999) < 1e-9)
            assert len(screen.recent) == 120  # the last 120, in order
            assert all(abs(v - (31.88 + i / 1000)) < 1e-9 for i, v in enumerate(screen.recent))
            assert "raw 32.00 °C" in str(screen.query_one("#maint-status").render())

            screen.query_one("#cal-points").value = "37"
            screen.query_one("#cal-reference").value = "BB"
            screen.query_one("#cal-check").press()
            ready = screen.query_one("#cal-ready")
            assert await pilot_wait_until(pilot, lambda: not ready.disabled)
            ready.press()
            assert await pilot_wait_until(pilot, lambda: screen.measuring)
            # The screen draws late on a busy PC: the sensor's frames arrived, the screen has not taken them yet.
            clock.advance(30)
            frames = screen.procedure.frames_per_point
            for _ in range(frames - 1):
                feed(Sample(37.0, 21.0, 0.0))
            clock.advance(1.5)
            screen._check_frames()  # what its timer does: the sensor spoke 1.5 s ago, not 31.5 s ago
            assert screen.procedure is not None and screen.measuring
            assert await pilot_wait_until(pilot, lambda: screen.procedure.progress()[0] == frames - 1)
            clock.advance(2.5)  # now the sensor has really been silent for longer than the wizard allows
            screen._check_frames()
            said = str(screen.query_one("#cal-instruction").render())
            assert screen.procedure is None and "no readings from the sensor at 37.0" in said, said
            assert len(calibrations.records(log, KEY)) == 1 and not app.station.paused.is_set()  # last month's only

            screen.query_one("#cal-check").press()  # again: this time every frame comes in one burst
            assert await pilot_wait_until(pilot, lambda: not ready.disabled)
            ready.press()
            assert await pilot_wait_until(pilot, lambda: screen.measuring)
            for _ in range(frames):
                feed(Sample(37.0, 21.0, 0.0))
            assert await pilot_wait_until(pilot, lambda: "saved" in str(screen.query_one("#cal-instruction").render()))
            record = calibrations.records(log, KEY)[0]
            assert len(calibrations.records(log, KEY)) == 2 and record.kind == "daily-check" and record.points[0].readings == (37.0,) * 5


async def test_a_sensor_silent_for_a_moment_leaves_no_form_and_no_crash(db_path):
    # Found under load: the sensor came back before the offered form was built; closing it crashed the app.
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log)
        async with app.run_test(size=(110, 40)) as pilot:
            for _ in range(3):  # a starved USB hub: silent, back, silent, back …
                app.duty.post_message(SensorHealthChanged(HealthEvent("gun-1", Health.FAULT, "no data for 2.1 s")))
                app.duty.post_message(SensorHealthChanged(HealthEvent("gun-1", Health.OK, "readings normal")))
            assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok")
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty), "every offered form closed"
            assert len(app.screen_stack) == 1
            await pilot.press("f5")  # nothing swallows the station's keys afterwards
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, DayView))
            await pilot.press("ctrl+q")
        assert app.return_code == 0 and app._exception is None


async def test_a_key_before_the_form_is_built_closes_it_cleanly(db_path):
    # Found under load: F9 reached the form the station had just opened, before the form was built; closing it then
    # took its fields away from its own on_mount, and the app crashed.
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log)
        async with app.run_test(size=(110, 40)) as pilot:
            app.action_manual(reason="sensor-fault")
            form = app.screen
            form.action_leave_for("day_view")  # no await in between: the form is not built yet
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, DayView))
            assert not form.is_attached and [type(s) for s in app.screen_stack] == [type(app.duty), DayView]
            await pilot.press("escape")
            assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
            app.action_manual(reason="sensor-fault")
            app.screen.action_cancel()  # Esc as early
            assert await pilot_wait_until(pilot, lambda: len(app.screen_stack) == 1)
            await pilot.press("ctrl+q")
        assert app.return_code == 0 and app._exception is None
