"""The duty screen's entry fields check ids and names like the command line: a scanned id, the visitor form, the
sign-in name and the calibration's reference id refuse 70 characters, terminal escapes and 10 KB with one line, and
store nothing (Textual's pilot, a real log)."""
from domain import Decision
from gate.auth import Auth, User
from gate.config import Config, SensorConfig
from gate.ui.app import build_app
from gate.ui.screens.maintenance import MaintenanceScreen
from gate.ui.screens.signin import SignIn
from gate.ui.screens.visitor import VisitorForm
from storage import audit
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import pilot_wait_until, screen_shown
from tests.functional.test_ui import manual

ESC_ID = "P42\x1b[2J\x1b[31m"


def notified(app, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


async def test_a_scanned_id_with_escapes_or_too_long_is_refused_and_not_used(db_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en", mask_mode="off"), log)
        async with app.run_test(size=(100, 30)) as pilot:
            field = app.duty.query_one("#entrant-input")
            for bad, says in ((ESC_ID, "control or invisible"), ("x" * 70, "70 characters long"),
                              ("A" * 10_240, "10240 characters long")):
                field.value = bad  # as a scanner would type it
                field.focus()
                await pilot.press("enter")
                assert await pilot_wait_until(pilot, lambda: notified(app, says)), says
                assert app.duty.pending_entrant is None
            await manual(pilot, "36.4")
            assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
            assert app.duty.latest.entrant_id is None
            assert not any("\x1b" in n.message for n in app._notifications)


async def test_the_visitor_form_refuses_a_bad_field_and_stores_nothing(db_path):
    with ScreeningLog(db_path) as log:
        import_roster(log, "id,name,class,kind\nS1,Li,1,pupil\n".encode(), station_id="north", actor="admin")
        app = build_app(Config(language="en", mask_mode="off", station_id="north"), log, operator="guard-wang")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press(*"V-77", "enter")
            await manual(pilot, "36.5")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, VisitorForm))
            assert app.duty.latest.decision is Decision.DENY
            form = app.screen
            for field, value in (("name", "Zhao"), ("phone", "13800001234"), ("reason", "meeting")):
                form.query_one(f"#v-{field}").value = value
            form.query_one("#v-host").value = f"Teacher{ESC_ID}"
            form.query_one("#v-host").focus()
            await pilot.press("enter")
            error = form.query_one("#v-error")
            assert await pilot_wait_until(pilot, lambda: "host contains control" in str(error.render()))
            form.query_one("#v-name").value = "Z" * 10_240
            await pilot.press("enter")
            assert await pilot_wait_until(pilot, lambda: "name is 10240 characters long" in str(error.render()))
            assert isinstance(app.screen, VisitorForm)
            with log.engine.connect() as conn:
                assert conn.exec_driver_sql("select count(*) from visitors").scalar() == 0


async def test_a_sign_in_name_with_escapes_never_reaches_the_audit_trail(db_path):
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "north")
        auth.add_user("admin", "admin", "902741", None)
        auth.add_user("zhang", "duty", "581302", User("admin", "admin"))
        app = build_app(Config(language="en", station_id="north"), log)
        async with app.run_test(size=(100, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: app.users_exist)
            await pilot.press("f2")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, SignIn))
            form = app.screen
            form.query_one("#signin-name").value = f"zhang{ESC_ID}"
            form.query_one("#signin-pin").value = "581302"
            form.query_one("#signin-pin").focus()
            await pilot.press("enter")
            error = form.query_one("#signin-error")
            assert await pilot_wait_until(pilot, lambda: "user name contains control" in str(error.render()))
            assert app.user is None
            assert not any("\x1b" in e["actor"] for e in audit.events(log, 50))


async def test_the_calibration_reference_id_is_checked(sim_factory, db_path):
    sim = sim_factory(scenario="normal-morning", seed=4)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    with ScreeningLog(db_path) as log:
        app = build_app(Config(sensors=(sc,), language="en"), log, sensor_config=sc)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f9")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, MaintenanceScreen))
            screen = app.screen
            screen.query_one("#cal-reference").value = "BB" + "7" * 68
            await pilot.click("#cal-start")
            said = screen.query_one("#cal-instruction")
            assert await pilot_wait_until(pilot, lambda: "reference id is 70 characters long" in str(said.render()))
            assert screen.procedure is None and not screen.station.paused.is_set()
