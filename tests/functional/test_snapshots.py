"""SVG snapshots of the main screens in both languages (pytest-textual-snapshot; update with --snapshot-update
after looking at the new pictures)."""
import time

import msgspec
import pytest
from textual.widgets import Input

from drivers.base import Reading
from gate.config import Config
from domain import Decision, MaskResult, MaskState, Screening
from gate.ui.app import build_app
from gate.ui.screens.manual import ManualEntry
from storage.log import ScreeningLog
from tests.support import Clock, pilot_wait_until, typing_goes_to

# The pictures show the morning check (晨检) under way: a fixed local time, so that they do not depend on when they
# are taken.
MORNING = time.mktime((2027, 1, 15, 7, 10, 0, 0, 0, -1))

ADMIT = Screening("north", (Reading(object_c=36.6, body_c=36.6, ambient_c=21.4, source="gun-1"),),
                  MaskResult(MaskState.YES, 0.98, "camera/svm"), Decision.ADMIT, ("normal",),
                  "", 37.3, entrant_id="20240117", id="00000000-0000-0000-0000-000000000001", created_at=1.8e9)
NO_MASK = Screening("north", (Reading(object_c=36.5, body_c=36.5, ambient_c=21.0, source="gun-1"),),
                    MaskResult(MaskState.NO, 0.03, "camera/svm"), Decision.DENY, ("normal", "no-mask"),
                    "", 37.3, entrant_id="20240118", id="00000000-0000-0000-0000-000000000002", created_at=1.8e9)
FEVER = Screening("north", (Reading(object_c=38.2, body_c=38.2, ambient_c=21.0, source="gun-1"),),
                  MaskResult(MaskState.YES, 0.97, "camera/svm"), Decision.RETEST, ("fever-suspected",),
                  "", 37.3, entrant_id="20240119", id="00000000-0000-0000-0000-000000000003", created_at=1.8e9)


@pytest.fixture
def app_for(tmp_path):
    logs = []

    def make(language: str):
        log = ScreeningLog(tmp_path / f"{language}.db")
        logs.append(log)
        return build_app(Config(language=language, station_id="north", gate_name="North gate"), log,
                         operator="zhang", show_clock=False, clock=Clock(MORNING))

    yield make
    for log in logs:
        log.close()


async def settled(pilot):
    """The duty screen has loaded what its workers fetch at start (counts, users); the cursor stays lit (a blinking
    one would make the picture depend on when it is taken)."""
    app = pilot.app
    assert await pilot_wait_until(
        pilot, lambda: app.duty.is_mounted and not any(w.is_running for w in app.workers)), "start-up"
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def manual_form(pilot):
    await settled(pilot)
    await pilot.press("f2")
    app = pilot.app
    form_open = lambda: isinstance(app.screen, ManualEntry) and typing_goes_to(app, "manual-temp")  # noqa: E731
    assert await pilot_wait_until(pilot, form_open)
    await settled(pilot)


def shows(screening):
    async def run_before(pilot):
        await settled(pilot)
        duty = pilot.app.duty
        # The message is what the policy says in the app's language, as it would be after a real decision.
        duty.latest = msgspec.structs.replace(screening,
                                              message=pilot.app.station.message_in(screening, pilot.app.language))
        assert await pilot_wait_until(
            pilot, lambda: duty.query_one("#banner").has_class(screening.decision.value)), "the banner"

    return run_before


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_duty_screen_admit(snap_compare, app_for, language):
    assert snap_compare(app_for(language), terminal_size=(100, 30), run_before=shows(ADMIT))


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_duty_screen_deny_no_mask(snap_compare, app_for, language):
    assert snap_compare(app_for(language), terminal_size=(100, 30), run_before=shows(NO_MASK))


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_duty_screen_retest_at_80x24(snap_compare, app_for, language):
    assert snap_compare(app_for(language), terminal_size=(80, 24), run_before=shows(FEVER))


def test_help_screen(snap_compare, app_for):
    assert snap_compare(app_for("zh-CN"), terminal_size=(100, 30), press=["f1"], run_before=settled)


def test_manual_entry_form(snap_compare, app_for):
    assert snap_compare(app_for("en"), terminal_size=(100, 30), run_before=manual_form)
