"""The duty screen's other screens, driven with the pilot: help, the day view, the auditor's table and its histogram."""
from gate.config import Config
from gate.ui.app import build_app
from gate.ui.screens.auditor import AuditorScreen
from gate.ui.screens.day import DayView
from gate.ui.screens.help import HelpScreen
from gate.ui.widgets.histogram import histogram
from storage.log import ScreeningLog
from tests.support import pilot_wait_until, screen_shown
from tests.functional.duty_pilot import manual


async def test_help_day_view_and_auditor_screens(db_path, tmp_path):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en", mask_mode="off"), log)
        async with app.run_test(size=(120, 40)) as pilot:
            for n, v in enumerate(("36.5", "36.7", "38.2"), 1):
                await manual(pilot, v)
                assert await pilot_wait_until(pilot, lambda: app.duty.decisions_shown == n)
            await pilot.press("f1")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, HelpScreen))
            assert "manual reading" in str(app.screen.query_one("#help-keys").render())
            await pilot.press("escape")
            await pilot.press("f5")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, DayView))
            day = app.screen
            assert await pilot_wait_until(
                pilot, lambda: "by hour" in str(day.query_one("#day-hours").render())), "the day's figures"
            assert "open retest" in str(day.query_one("#day-zero").render())  # 38.2 waits for its retest
            assert "unscreened — (no roster)" in str(day.query_one("#day-zero").render())  # no roster: never 0
            hist = str(day.query_one("#day-hist").render())
            assert "  37.3 !" in hist and "  37.1  " in hist  # the threshold is a bin edge, marked from there up
            await pilot.press("escape")
            await pilot.press("f8")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, AuditorScreen))
            screen = app.screen
            assert await pilot_wait_until(pilot, lambda: screen.query_one("#audit-table").row_count == 3)
            screen.query_one("#f-decision").value = "retest"
            screen.query_one("#f-search").press()
            assert await pilot_wait_until(pilot, lambda: screen.query_one("#audit-table").row_count == 1)
            screen.query_one("#x-out").value = str(tmp_path / "exp")
            screen.query_one("#x-export").press()
            assert await pilot_wait_until(
                pilot, lambda: "exported 3 rows" in str(screen.query_one("#audit-result").render()))
            from storage.export import manifest_key, verify_export
            assert verify_export(tmp_path / "exp", manifest_key(log)) == []
            assert screen.query_one("#x-progress").percentage == 1.0
            screen.query_one("#x-verify").press()
            assert await pilot_wait_until(
                pilot, lambda: "log verifies" in str(screen.query_one("#audit-result").render()))


async def test_the_auditor_table_pages_through_100000_screenings(tmp_path):
    from tests.support import filled_log

    db = filled_log(tmp_path / "big.db", 100_000)
    with ScreeningLog(db) as log:
        app = build_app(Config(language="en"), log)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f8")
            assert await pilot_wait_until(pilot, lambda: screen_shown(app, AuditorScreen))
            screen = app.screen
            table = screen.query_one("#audit-table")
            screen.query_one("#f-from").value = "1970-01-01"
            screen.query_one("#f-search").press()
            assert await pilot_wait_until(
                pilot, lambda: "100000 screenings" in str(screen.query_one("#audit-count").render()))
            first_page = table.get_row_at(0)
            await pilot.press("pagedown")
            assert await pilot_wait_until(
                pilot, lambda: "page 2 of 1000" in str(screen.query_one("#audit-count").render()))
            assert await pilot_wait_until(pilot, lambda: table.row_count == 100 and table.get_row_at(0) != first_page)
            await pilot.press("pageup")
            assert await pilot_wait_until(
                pilot, lambda: "page 1 of 1000" in str(screen.query_one("#audit-count").render()))
            # a page is a page, not the whole log
            assert await pilot_wait_until(pilot, lambda: table.get_row_at(0) == first_page)


def test_histogram_puts_the_threshold_on_a_bin_edge():
    rows = {line[:6].strip(): line for line in histogram([37.29, 37.3, 37.31], threshold=37.3).splitlines()}
    assert rows["37.1"].endswith(" 1") and "!" not in rows["37.1"][:8]
    assert rows["37.3"].endswith(" 2") and "!" in rows["37.3"][:8]
