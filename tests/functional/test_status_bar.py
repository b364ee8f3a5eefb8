"""The duty screen's status bar fits 80 columns in both languages: with a cluster, open cases, a sensor offline, a
sync in trouble and a failed log, the most important parts stay whole (the log failure, the sensor's health, the
cluster and the F2 hint) and nothing is cut at the edge. Driven with Textual's pilot at 80×24."""
import time

import pytest
from rich.cells import cell_len

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.ui.app import build_app
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.functional.duty_pilot import banner, manual
from tests.support import Clock, pilot_wait_until

ROSTER = "".join(["id,name,class,kind\n"] + [f"S{i},学生{i},三年级二班,pupil\n" for i in range(1, 5)])
UNREACHABLE = "postgresql://gate@127.0.0.1:1/none"


def at(h, m):
    return time.mktime((2026, 12, 1, h, m, 0, 0, 0, -1))


def status(app) -> str:
    return str(app.query_one("#status").render())


def width(app) -> int:
    return app.query_one("#status").size.width


@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_a_busy_status_bar_fits_80_columns(db_path, language):
    from storage.sync import Sync

    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        Sync(log, UNREACHABLE).note_error("upstream unreachable: connection refused")  # the last sync failed
        app = build_app(Config(language=language, upstream_url=UNREACHABLE), log, operator="wang",
                        clock=Clock(at(7, 0)))
        for pupil in ("S1", "S2", "S4"):  # three confirmed fevers in one class: a cluster, three open cases
            for value in (38.6, 38.8):
                app.station.screen([Reading(object_c=value, source="manual")], MaskResult(MaskState.YES),
                                   entrant_id=pupil)
        async with app.run_test(size=(80, 24)) as pilot:
            assert await pilot_wait_until(pilot, lambda: "三年级二班" in status(app) and "unreachable" in
                                          app.duty.sync_text and app.duty.cases_text), status(app)
            text = status(app)
            assert cell_len(text) <= width(app) == 78, text  # the whole line is on the screen
            assert "offline" in text and "三年级二班" in text and "F2" in text  # health, the cluster, the hint
            assert "fever" in text  # the cluster's symptom: 3 pupils of one class with a fever
            with_cases = app.duty.cases_text
            assert with_cases == "追踪 open 3"
            await pilot.resize_terminal(120, 24)  # wider: the parts left out come back
            assert await pilot_wait_until(pilot, lambda: "追踪 open 3" in status(app)), status(app)
            sync = "sync" if language == "en" else "同步"
            assert f"{sync} " in status(app) and status(app).count("⚠") == 2, status(app)  # its trouble too
            assert cell_len(status(app)) <= width(app) == 118


@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_a_log_failure_stays_on_the_status_bar_at_80_columns(db_path, language):
    with ScreeningLog(db_path):
        pass  # create the log, then open it read-only as a stand-in for a failed disk
    with ScreeningLog(db_path, read_only=True) as log:
        app = build_app(Config(language=language, mask_mode="off", upstream_url=UNREACHABLE), log,
                        operator="a-very-long-operator-name-at-the-gate")
        async with app.run_test(size=(80, 24)) as pilot:
            await manual(pilot, "36.6")
            assert await pilot_wait_until(pilot, lambda: "LOG FAILURE" in banner(app)), "LOG FAILURE"
            assert await pilot_wait_until(pilot, lambda: "LOG FAILURE" in status(app)), status(app)
            text = status(app)
            assert cell_len(text) <= width(app) and "offline" in text, text
