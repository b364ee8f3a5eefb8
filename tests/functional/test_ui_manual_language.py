"""The manual-entry form's typing errors are said in the language on screen (zh-CN or English), and F6 says the
error shown again in the other language; nothing is stored while the value is wrong."""
import pytest

from gate.config import Config
from gate.ui.app import build_app
from storage.log import ScreeningLog
from tests.functional.duty_pilot import form_ready, manual
from tests.support import Clock, pilot_wait_until


def error_line(app) -> str:
    return str(app.screen.query_one("#manual-error").render())


@pytest.mark.parametrize("typed, zh, en", [
    ("", "未输入体温", "no temperature entered"),
    ("36..6", "“36..6” 不是体温", "'36..6' is not a temperature"),
    ("98.6", "98.6 °C 超出 30–45 °C", "(for Fahrenheit add F"),
    ("29", "29 °C 超出 30–45 °C", "29 °C is outside 30–45 °C"),
    ("120F", "120 °F = 48.9 °C 超出", "120 °F = 48.9 °C is outside"),
])
async def test_each_typing_error_reads_in_chinese_then_in_english_after_f6(db_path, typed, zh, en):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="zh-CN", mask_mode="off"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await manual(pilot, typed)
            assert await pilot_wait_until(pilot, lambda: zh in error_line(app)), error_line(app)
            assert "temperature" not in error_line(app) and "outside" not in error_line(app)
            await pilot.press("f6")  # the form stays, the same error in English
            assert await pilot_wait_until(pilot, lambda: en in error_line(app)), error_line(app)
            assert form_ready(app) and log.count() == 0
            await pilot.press("f6")
            assert await pilot_wait_until(pilot, lambda: zh in error_line(app)), error_line(app)
            app.screen.query_one("#manual-temp").value = ""  # nothing stored yet; a good value is still taken
            await pilot.press(*"36.6", "enter")
            assert await pilot_wait_until(pilot, lambda: app.duty.latest is not None)
            assert log.count() == 1 and app.duty.latest.temperature_c == 36.6
