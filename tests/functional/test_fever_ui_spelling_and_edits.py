"""The duty screen, for a pupil scanned as p42 after P42's fever, and on a log edited outside the station: said at
the scan, refused at the reading (Textual's pilot, a real log)."""
import sqlite3
import time

from domain import Decision, MaskResult, MaskState, Reading
from gate.config import Config
from gate.station import Station
from gate.ui.app import build_app
from storage.log import ScreeningLog
from tests.support import Clock, pilot_wait_until
from tests.functional.duty_pilot import banner, manual

T0 = time.mktime((2026, 12, 1, 7, 42, 0, 0, 0, -1))


def fever(log, clock):
    st = Station(Config(mask_mode="off"), log, clock=clock)
    for v in (38.5, 38.4):
        st.screen([Reading(object_c=v, source="manual", operator="li")], MaskResult(MaskState.YES), entrant_id="P42")
        clock.advance(600)


def notified(app, text):
    return any(text in n.message for n in app._notifications)


async def test_a_pupil_scanned_in_lowercase_is_refused_at_once_and_stored_as_p42(db_path):
    clock = Clock(T0)
    with ScreeningLog(db_path) as log:
        fever(log, clock)
        app = build_app(Config(language="en", mask_mode="off"), log, operator="Wang", clock=clock)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press(*"p42", "enter")
            assert await pilot_wait_until(pilot, lambda: notified(app, "p42: Fever confirmed at 07:52 — sent home"))
            await manual(pilot, "36.6")
            duty = app.duty
            assert await pilot_wait_until(pilot, lambda: duty.latest is not None)
            assert duty.latest.decision is Decision.DENY and duty.latest.entrant_id == "P42"
            assert banner(app).split()[1] == "DENY"


async def test_on_an_edited_log_the_scan_says_so_and_the_reading_is_a_log_failure(db_path):
    clock = Clock(T0)
    with ScreeningLog(db_path) as log:
        fever(log, clock)
        con = sqlite3.connect(db_path)
        con.execute("update screenings set decision = 'admit' where entrant_id = 'P42'")
        con.commit()
        con.close()
        n = log.count()
        app = build_app(Config(language="en", mask_mode="off"), log, operator="Wang", clock=clock)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press(*"P42", "enter")
            assert await pilot_wait_until(pilot, lambda: notified(app, "the log was edited outside the station"))
            await manual(pilot, "36.6")
            message = app.query_one("#message")
            assert await pilot_wait_until(pilot, lambda: "an auditor must check before P42 is admitted"
                                          in str(message.render()))
            assert "LOG FAILURE" in banner(app) and app.duty.latest is None
        assert log.count() == n
