"""The day view (F5): today's counts by hour, the temperature histogram and whether today is a zero report."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from gate.i18n import t
from gate.station import Station
from gate.ui.messages import DayLoaded
from gate.ui.screens.base import ShowsWorkerFailures
from gate.ui.widgets.histogram import TemperatureHistogram
from storage import reports
from storage.log import local_day


class DayView(ShowsWorkerFailures, Screen):
    """Today at the app's station, by the app's clock and in the app's language (the app holds what screens share)."""

    BINDINGS = [Binding("escape,f5", "app.pop_screen", "Back / 返回")]

    def compose(self) -> ComposeResult:
        with Vertical(id="day"):
            yield Label("", id="day-title")
            yield Static("", id="day-zero")
            yield Static("", id="day-hours")
            yield TemperatureHistogram(threshold=self.app.station.config.threshold_c, id="day-hist")
        yield Footer()

    def on_mount(self) -> None:
        self.load_day(self.app.station, self.app.clock())

    @work(thread=True, exclusive=True, group="day", exit_on_error=False, name="loading today's figures")
    def load_day(self, station: Station, now: float) -> None:
        day = local_day(now)
        self.post_message(DayLoaded(reports.daily(station.log, day, station.config.station_id),
                                    reports.day_profile(station.log, day)))

    def on_day_loaded(self, msg: DayLoaded) -> None:
        report, lang = msg.report, self.app.language
        self.query_one("#day-title", Label).update(f"{t('ui.today', lang)} {report['day']} — "
                                                   f"{report['station_id']}")
        zero = report["zero_report"]
        self.query_one("#day-zero", Static).update(
            ("✔ 零报告 / zero report: nothing abnormal" if zero else
             f"✖ 异常 / abnormal: {report['confirmed_fevers']} confirmed fever(s), "
             f"{report['retests']['open']} open retest(s)")
            + f"\n{t('ui.screened', lang)} {report['screened']} · {t('ui.admitted', lang)} {report['admitted']} · "
              f"{t('ui.denied', lang)} {report['denied']} · {t('ui.retests', lang)} {report['retests']['total']} · "
              f"manual {report['manual_readings']} · unscreened "
              f"{'— (no roster)' if report['unscreened'] is None else report['unscreened']}")
        hours = msg.profile["by_hour"]
        top = max((sum(v.values()) for v in hours.values()), default=1) or 1
        rows = [f"{h:02d}:00 {'█' * round(sum(v.values()) / top * 40):<40} {sum(v.values()):>4} "
                f"(✔{v['admit']} ✖{v['deny']} ↻{v['retest']})" for h, v in hours.items()]
        self.query_one("#day-hours", Static).update("按小时 / by hour\n" + ("\n".join(rows) or "—"))
        self.query_one(TemperatureHistogram).temperatures = list(msg.profile["temperatures"])
