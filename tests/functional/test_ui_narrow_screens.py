"""The auditor (F8) and follow-up (F11) screens stay readable at 80x24 in both languages: every field, button and
placeholder whole, and the highlighted row in full under the table (a long reason, operator, name or gate wraps
there instead of being cut at the 80th column)."""
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.ui.app import build_app
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.followup import FollowupScreen
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.functional.duty_pilot import open_screen
from tests.support import Clock, pilot_wait_until, screen_text

ROSTER = ("id,name,class,kind\nS1,张三,三年级二班,pupil\nS2000000042,欧阳娜娜,三年级二班,pupil\n"
          "S3,李四,三年级三班,pupil\n")
OPERATOR = "Ouyang-Xiaoming-duty-teacher"


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


async def open_on(pilot, key: str, screen_type, detail_id: str):
    """Open the screen by its key and wait until its detail shows the pupil S2000000042 (the first row); returns the
    detail widget."""
    detail = (await open_screen(pilot, key, screen_type)).query_one(detail_id)
    assert await pilot_wait_until(pilot, lambda: "S2000000042" in str(detail.render())), str(detail.render())
    await pilot.pause()
    return detail


def whole(app, *words) -> str:
    shown = screen_text(app)
    lines = shown.splitlines()
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    for w in words:
        assert w in shown, f"{w!r} not whole on the 80x24 screen:\n{shown}"
    return shown


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_auditor_at_80_by_24_shows_every_field_and_the_row_in_full(db_path, language):
    clock = Clock(at(7, 30))
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language=language), log, clock=clock, show_clock=False)
        app.station.screen([Reading(object_c=38.2, source="manual", operator=OPERATOR, manual_reason="other")],
                           MaskResult(MaskState.UNKNOWN), entrant_id="S2000000042", operator=OPERATOR)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_on(pilot, "f8", AuditorScreen, "#audit-detail")
            shown = whole(app, "Search / 查询", "Export / 导出", "Verify log / 校验", "identified / 实名",
                          "entrant id / 人员编号", "1 screenings", "mask-unconfirmed", "fever-suspected", OPERATOR)
            assert shown.count("2026-12-01") >= 2  # both dates of the search whole (the station's day)
            assert str(app.screen.query_one("#x-out").value) in shown  # the export folder, whole


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_follow_up_screen_at_80_by_24_shows_the_form_and_the_case_in_full(db_path, language):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        app = build_app(Config(language=language), log, clock=clock, show_clock=False)
        app.station.screen([Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S1")
        clock.now = at(9, 0)  # the morning check is over: S2000000042 and S3 were not seen, two cases open
        async with app.run_test(size=(80, 24)) as pilot:
            detail = await open_on(pilot, "f11", FollowupScreen, "#fu-detail")
            whole(app, "结果 / outcome", "症状 / symptoms: fever,cough", "发病 / onset YYYY-MM-DD", "备注 / note",
                  "结案 / Close case", "S2000000042 欧阳娜娜", "校门 gate gate-1")
            app.screen.query_one("#fu-table").focus()
            await pilot.press("down")  # the next case: its detail follows the cursor
            assert await pilot_wait_until(pilot, lambda: "S3 李四" in str(detail.render()))
