"""The follow-up screen (F11) and the duty screen's status bar, driven with Textual's pilot: a teacher signs in, sees
only its classes' open cases, closes one with the form; the status bar counts the open cases and names a cluster."""
import time

from domain import MaskResult, MaskState, Reading
from domain.case import Outcome
from gate.auth import Auth, User
from gate.config import Config
from gate.ui.app import build_app
from gate.ui.screens.followup import FollowupScreen
from storage import cases
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, apply_policy, pilot_wait_until
from tests.functional.duty_pilot import type_slowly

ROSTER = ("id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\nS3,王五,三年级三班,pupil\n"
          "S4,赵六,三年级二班,pupil\n")


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


def status(app) -> str:
    return str(app.query_one("#status").render())


async def sign_in(pilot, name, pin):
    await type_slowly(pilot, name)
    await type_slowly(pilot, pin)  # at a person's pace: keys at a scanner's speed in the PIN field are a card


async def test_a_teacher_closes_a_case_of_its_class_on_the_follow_up_screen(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", "900001", None)
        auth.add_user("chen", "teacher", "754026", User("admin", "admin"), classes=("三年级二班",))
        apply_policy(log)  # with PINs on, only an admin stores the first screening policy
        app = build_app(Config(language="en"), log, clock=clock)
        app.station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S1")
        clock.now = at(9, 0)  # the morning check has closed: S2, S3 and S4 were not seen
        async with app.run_test(size=(120, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: "追踪 open 3" in status(app)), status(app)
            await pilot.press("f11")
            assert await pilot_wait_until(pilot, lambda: app.screen.id != "_default" and
                                          app.screen.query("#signin-name")), "sign-in asked"
            await sign_in(pilot, "chen", "754026")
            assert await pilot_wait_until(pilot, lambda: isinstance(app.screen, FollowupScreen) and
                                          len(app.screen.shown) == 2), "the teacher's two open cases"
            screen = app.screen
            assert {c.entrant_id for c in screen.shown} == {"S2", "S4"}  # S3 is another class
            target = screen.shown[0]
            screen.query_one("#fu-outcome").value = Outcome.SICK_LEAVE.value
            screen.query_one("#fu-symptoms").value = "fever,cough"
            screen.query_one("#fu-onset").value = "2026-12-01"
            screen.query_one("#fu-note").value = "妈妈电话：发烧"
            await pilot.click("#fu-close")
            assert await pilot_wait_until(pilot, lambda: len(screen.shown) == 1), "the case left the list"
            closed = next(c for c in cases.listed(log) if c.case_id == target.case_id)
            assert (closed.outcome, closed.symptoms, closed.closed_by) == (Outcome.SICK_LEAVE, ("cough", "fever"),
                                                                          "chen")
            screen.query_one("#fu-outcome").value = Outcome.LATE_ARRIVAL.value
            screen.query_one("#fu-symptoms").value = "itchy"
            # By the keyboard this time (Enter in a field closes too)
            screen.query_one("#fu-symptoms").focus()
            await pilot.press("enter")
            assert await pilot_wait_until(pilot, lambda: "unknown symptom" in str(
                screen.query_one("#fu-error").render())), "a bad symptom is said, nothing closed"
            assert len(cases.listed(log, open_only=True)) == 2


async def test_the_status_bar_names_a_cluster(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        app = build_app(Config(language="en"), log, operator="wang", clock=clock)
        for pupil in ("S1", "S2", "S4"):
            for v in (38.6, 38.8):
                app.station.screen([Reading(object_c=v, source="manual")], MaskResult(MaskState.YES),
                                   entrant_id=pupil)
        async with app.run_test(size=(160, 30)) as pilot:
            assert await pilot_wait_until(pilot, lambda: "⚠ 聚集 cluster 三年级二班 fever" in status(app)), status(app)
            assert "追踪 open 3" in status(app)
