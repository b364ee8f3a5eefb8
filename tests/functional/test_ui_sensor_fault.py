"""The thermometer stops while PINs are on, with Textual's pilot against the simulator on a real pty: the sign-in the
station opens for manual entry is withdrawn when the sensor is back (unless someone is signing in), never opens over
another form, and is offered again on coming back to the gate screen (from maintenance too) with the sensor down."""
import dataclasses
from contextlib import asynccontextmanager

import pytest
from textual.widgets import Input

from domain import ManualReason
from gate.auth import Auth, User
from gate.config import Config, SensorConfig
from gate.ui.app import build_app
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.fault_offer import OFFER_AFTER_S
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn
from sim.scenarios import SCENARIOS
from storage import audit
from storage.log import ScreeningLog
from tests.functional.duty_pilot import form_ready, scan, type_slowly
from tests.support import Clock, apply_policy, log_from_template, pilot_wait_until, screen_shown, typing_goes_to

ADMIN = User("admin", "admin")


def staff(db):
    """A duty teacher, a maintenance worker and an auditor with their PINs; the policy stored by the admin."""
    with ScreeningLog(db) as log:
        auth = Auth(log, "north")
        auth.add_user("admin", "admin", "900001", None)
        for name, role, pin in (("zhang", "duty", "318274"), ("li", "maintenance", "536482"),
                                ("wu", "auditor", "427351")):
            auth.add_user(name, role, pin, ADMIN)
        apply_policy(log, config("/dev/null"))  # the sensor's url is not policy: each test's pty will do


@pytest.fixture
def log(db_path):
    with ScreeningLog(log_from_template(db_path, staff)) as log:
        yield log


def gun(sim) -> SensorConfig:
    return config(sim.path).sensors[0]


def still_gun():
    """A gun that nobody walks past: no screening but the ones the test types."""
    return dataclasses.replace(SCENARIOS["normal-morning"], gap_s=(600.0, 600.0))


def config(url: str) -> Config:
    return Config(sensors=(SensorConfig(id="gun-1", protocol="gy-mcu90614", url=url),), language="en",
                  station_id="north")


def station(log, sim):
    """The station with its clock (moved by the test only) as ``app.clock``."""
    return build_app(config(sim.path), log, sensor_config=gun(sim), clock=Clock())


def offered_sign_in(app) -> bool:
    """The station's own sign-in for a reading by hand is on top, built, the cursor in its name field."""
    return (screen_shown(app, SignIn) and app.screen.why == "manual-entry"
            and app.screen.reason == ManualReason.SENSOR_FAULT and typing_goes_to(app, "signin-name"))


def told(app, words: str) -> bool:
    return any(words in n.message for n in app._notifications)


def trail(log, n=30):
    return [(e["actor"], e["action"]) for e in audit.events(log, n)]


async def ready(pilot):
    app = pilot.app
    assert await pilot_wait_until(pilot, lambda: app.users_exist and app.duty.health == "ok"), "users and sensor"


async def unplug(pilot, sim, clock) -> None:
    """The cable comes out and stays out long enough for the station to push the form at the teacher."""
    sim.unplug()
    assert await pilot_wait_until(pilot, lambda: pilot.app.duty.health == "offline"), "the fault"
    clock.advance(OFFER_AFTER_S)


@asynccontextmanager
async def on_duty(sim_factory, log, seed: int):
    """The station (PINs on) on a gun that reads a still scene, running at 110×40 and ready at the gate."""
    sim = sim_factory("gy-mcu90614", still_gun(), seed=seed)
    app = station(log, sim)
    async with app.run_test(size=(110, 40)) as pilot:
        await ready(pilot)
        yield app, pilot, sim


async def sign_in(pilot, name: str, pin: str) -> None:
    await type_slowly(pilot, name)
    await type_slowly(pilot, pin)  # at a person's pace: keys at a scanner's speed in the PIN field are a card


async def test_the_offered_sign_in_is_withdrawn_when_the_sensor_is_back(sim_factory, log):
    async with on_duty(sim_factory, log, seed=21) as (app, pilot, sim):
        await unplug(pilot, sim, app.clock)
        assert await pilot_wait_until(pilot, lambda: offered_sign_in(app)), "the sign-in offered on the fault"
        offered = app.screen
        sim.plug()  # back before anyone came to sign in
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty and not offered.is_attached), "withdrawn"
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "entrant-input"))  # the scanner types here
        # said in a notice, which blocks nothing (App.notify posts a message: it lands after the form has gone)
        assert await pilot_wait_until(pilot, lambda: told(app, "sensor back"))
        assert app.user is None and app.duty.latest is None and log.count() == 0  # nothing stored, nobody admitted
        assert ("zhang", "login") not in trail(log)
        await pilot.press("f5")  # the station's keys are not waiting behind a hidden form
        assert await pilot_wait_until(pilot, lambda: app.screen is not app.duty)
        await pilot.press("ctrl+q")
    assert app.return_code == 0 and app._exception is None


async def test_someone_signing_in_keeps_the_sign_in_and_gets_the_form(sim_factory, log):
    async with on_duty(sim_factory, log, seed=22) as (app, pilot, sim):
        await unplug(pilot, sim, app.clock)
        assert await pilot_wait_until(pilot, lambda: offered_sign_in(app)), "the sign-in offered on the fault"
        offered = app.screen
        await pilot.press(*"zha")  # a teacher has started to take over
        sim.plug()
        assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok")
        await pilot.pause()
        assert app.screen is offered and offered.query_one("#signin-name").value == "zha"  # the typing is kept
        await sign_in(pilot, "ng", "318274")
        assert await pilot_wait_until(pilot, lambda: form_ready(app)), "the form after the sign-in"
        await pilot.press(*"36.6", "enter")
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        s = app.duty.latest
        assert s.operator == "zhang" and s.reading.is_manual and log.get(s.id) is not None
        assert ("zhang", "manual-entry") in trail(log)


async def test_a_fault_never_opens_over_a_form_being_typed_and_is_offered_after(sim_factory, log):
    async with on_duty(sim_factory, log, seed=23) as (app, pilot, sim):
        await pilot.press("f8")  # the auditor starts to sign in for the auditor screen
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        theirs = app.screen
        await pilot.press(*"wu")
        await unplug(pilot, sim, app.clock)
        assert await pilot_wait_until(pilot, lambda: told(app, "unplugged")), "the fault told in a notice"
        await pilot.press("enter")
        await type_slowly(pilot, "427351", enter=False)  # the keys still go where the auditor is typing
        assert app.screen is theirs and theirs.query_one("#signin-name").value == "wu"
        assert theirs.query_one("#signin-pin").value == "427351"
        await pilot.press("enter")
        assert await pilot_wait_until(pilot, lambda: screen_shown(app, AuditorScreen)), (app.screen_stack, [n.message for n in app._notifications])
        await pilot.press("escape")  # back at the gate with the sensor still down: the station offers again
        assert await pilot_wait_until(pilot, lambda: offered_sign_in(app)), "offered on coming back"
        await sign_in(pilot, "zhang", "318274")  # an auditor may not type readings: the duty teacher does
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        assert app.screen.query_one("#manual-reason").value == ManualReason.SENSOR_FAULT


async def test_leaving_maintenance_with_the_sensor_down_offers_the_form_again(sim_factory, log):
    async with on_duty(sim_factory, log, seed=24) as (app, pilot, sim):
        await unplug(pilot, sim, app.clock)
        assert await pilot_wait_until(pilot, lambda: offered_sign_in(app))
        await sign_in(pilot, "zhang", "318274")
        assert await pilot_wait_until(pilot, lambda: form_ready(app)), "the form on the first fault"
        await pilot.press("f9")  # to look at the sensor: maintenance needs its own person
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        await sign_in(pilot, "li", "536482")
        assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen)), (
            app.screen_stack, [n.message for n in app._notifications])
        await pilot.press("escape")  # the cable is still out
        assert await pilot_wait_until(pilot, lambda: offered_sign_in(app)), "offered again, with the same rules"
        await sign_in(pilot, "li", "536482")  # maintenance staff may not type a reading at the gate
        assert await pilot_wait_until(pilot, lambda: not isinstance(app.screen, SignIn))
        assert not isinstance(app.screen, ManualEntry) and log.count() == 0
        assert ("li", "refused") in trail(log)
        await pilot.press("f2")  # the duty teacher takes over
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        await sign_in(pilot, "zhang", "318274")
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        await pilot.press(*"36.9", "enter")
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        assert app.duty.latest.operator == "zhang" and app.duty.latest.reading.manual_reason == "sensor-fault"
        assert ("zhang", "manual-entry") in trail(log)


async def test_leaving_maintenance_with_the_sensor_back_offers_nothing(sim_factory, log):
    async with on_duty(sim_factory, log, seed=25) as (app, pilot, sim):
        await pilot.press("f9")
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        await sign_in(pilot, "li", "536482")
        assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen))
        sim.unplug()  # a loose cable found and pushed back during maintenance
        assert await pilot_wait_until(pilot, lambda: app.duty.health == "offline")
        assert isinstance(app.screen, MaintenanceScreen)  # nothing opened over the wizard
        sim.plug()
        assert await pilot_wait_until(pilot, lambda: app.duty.health == "ok")
        await pilot.press("escape")
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty)
        await pilot.pause()
        assert app.screen is app.duty and len(app.screen_stack) == 1 and typing_goes_to(app, "entrant-input")


async def test_enter_pressed_twice_on_a_pin_is_one_attempt_and_no_crash(log):
    app = build_app(config("/dev/null"), log, clock=Clock())  # the policy's sensor; none read here
    async with app.run_test(size=(100, 30)) as pilot:
        assert await pilot_wait_until(pilot, lambda: app.users_exist)
        await pilot.press("f2")
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        form = app.screen
        await type_slowly(pilot, "zhang")
        await type_slowly(pilot, "000000", enter=False)
        pin = form.query_one("#signin-pin")
        for _ in range(2):  # a bouncing Enter: two submits before the check answers
            form.post_message(Input.Submitted(pin, pin.value))
        assert await pilot_wait_until(pilot, lambda: app.screen is app.duty), "the refusal"
        await pilot.pause()
        assert [a for a in trail(log) if a == ("zhang", "login-failed")] == [("zhang", "login-failed")]
        assert app._exception is None and len(app.screen_stack) == 1 and app.user is None


async def test_a_card_scanned_into_the_offered_sign_in_goes_to_the_gate_not_to_the_audit(sim_factory, log):
    async with on_duty(sim_factory, log, seed=26) as (app, pilot, sim):
        await unplug(pilot, sim, app.clock)
        assert await pilot_wait_until(pilot, lambda: offered_sign_in(app))
        form = app.screen
        assert await pilot_wait_until(pilot, lambda: form.names is not None), "the user names"
        await scan(pilot, "S00042")  # the pupil's card, into the name field
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == "S00042")
        assert form.query_one("#signin-name").value == "" and typing_goes_to(app, "signin-name")
        assert "kept for the next reading" in str(form.query_one("#signin-error").render())
        await type_slowly(pilot, "zhang")
        await scan(pilot, "S00043")  # the next card, into the PIN field
        assert await pilot_wait_until(pilot, lambda: app.duty.pending_entrant == "S00043")
        assert app.screen is form and form.query_one("#signin-pin").value == "" and log.count() == 0
        assert not any(action in ("login-failed", "login-refused") for _, action in trail(log))
        assert {u["name"]: u["failures"] for u in Auth(log, "north").users()}["zhang"] == 0  # no attempt counted
        assert typing_goes_to(app, "signin-pin") and form.query_one("#signin-name").value == "zhang"
        await type_slowly(pilot, "318274")  # the teacher goes on with the PIN
        assert await pilot_wait_until(pilot, lambda: form_ready(app))
        await pilot.press(*"36.6", "enter")
        assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
        assert app.duty.latest.entrant_id == "S00043" and app.duty.latest.operator == "zhang"
