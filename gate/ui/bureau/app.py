"""The bureau's table of schools for a day: sort (click a header, or `s`), filter (type; `l` late only), a day
picker (the date field, `[` and `]`), a school's drill-down (Enter), a 7-day trend per school; it refreshes by itself
in a thread worker, and says when it last did; when a refresh fails (the database gone, a table held), the table
keeps the last figures and the status line says they are stale since that refresh, and why, until one succeeds."""
from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Callable

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Static

from gate.ui.bureau.format import COLUMNS, cell, clock_time, failure_cause, read_failed, sort_key, sparkline
from gate.ui.bureau.messages import SchoolFailed, SchoolsFailed, SchoolsLoaded
from gate.ui.bureau.school import SchoolScreen
from gate.ui.screens.base import ShowsWorkerFailures
from storage import bureau
from storage.bureau_access import held_for_refresh


class BureauApp(ShowsWorkerFailures, App):
    CSS = """
    #bar { height: 3; }
    #day { width: 18; }
    #filter { width: 1fr; }
    #status { height: 1; color: $text-muted; }
    DataTable { height: 1fr; }
    #no-data { height: 1fr; padding: 1 2; color: $warning; }
    """
    TITLE = "教育局 · Education bureau"
    BINDINGS = [
        Binding("[", "day(-1)", "前一天 Prev day"),
        Binding("]", "day(1)", "后一天 Next day"),
        Binding("s", "next_sort", "排序 Sort"),
        Binding("l", "late_only", "只看迟报 Late only"),
        Binding("r", "refresh", "刷新 Refresh"),
        Binding("ctrl+q", "quit", "退出 Quit"),
    ]

    def __init__(self, engine, day: dt.date, *, cutoff: dt.time = dt.time(9, 0), refresh_s: float = 30.0,
                 clock: Callable[[], float] = time.time):
        super().__init__()
        self.engine = engine
        self.day = day
        self.cutoff = cutoff
        self.refresh_s = refresh_s
        self.clock = clock
        self.rows: list = []
        self.trend: dict = {}
        self.sort_column = "school_id"
        self.sort_reverse = False
        self.late_only = False
        self.loaded_at: float | None = None
        self.failed: SchoolsFailed | None = None  # the last refresh's failure, until one succeeds

    def compose(self) -> ComposeResult:
        # Kept as attributes: a refresh may land while a school's screen is on top, where the app's queries look.
        self.day_input = Input(self.day.isoformat(), placeholder="YYYY-MM-DD", id="day")
        self.filter_input = Input(placeholder="筛选 filter: school id or name", id="filter")
        self.status = Static("", id="status")
        self.table = DataTable(id="schools", cursor_type="row", zebra_stripes=True)
        self.no_data = Static("", id="no-data", markup=False)  # in the table's place while a day has nothing read
        self.no_data.display = False
        for key, label in COLUMNS:
            self.table.add_column(label, key=key)
        yield Header()
        with Horizontal(id="bar"):
            yield self.day_input
            yield self.filter_input
        yield self.status
        yield self.table
        yield self.no_data
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.day.isoformat()
        self.table.focus()
        self.action_refresh()
        self.set_interval(self.refresh_s, self.action_refresh)

    # -- loading --------------------------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load(self.day)
        if isinstance(self.screen, SchoolScreen):  # a school's page left open refreshes with the table
            self.screen.load()

    @work(thread=True, exclusive=True, group="schools", exit_on_error=False, name="reading the district's schools")
    def load(self, day: dt.date) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        now = self.clock()
        try:
            rows = bureau.schools_on(self.engine, day, now, self.cutoff)
            trend = bureau.trend(self.engine, day)
        except bureau.NoSchoolSeen as exc:  # never "0 late": the owner lists the role; the next refresh looks again
            self.post_message(SchoolsFailed(day.isoformat(), exc.bilingual(), now, unseen=True))
            return
        except (SQLAlchemyError, OSError) as exc:  # the next refresh tries again; the last figures stay, marked stale
            why = held_for_refresh(exc, self.engine) or failure_cause(exc)  # a table held: which one, and by whom
            self.post_message(SchoolsFailed(day.isoformat(), why, now))
            return
        self.post_message(SchoolsLoaded(day.isoformat(), rows, trend, now))

    def on_schools_loaded(self, msg: SchoolsLoaded) -> None:
        if msg.day != self.day.isoformat() or not self.is_running:
            return  # an answer for a day no longer shown, or for an app closing
        self.rows, self.trend, self.loaded_at, self.failed = msg.rows, msg.trend, msg.at, None
        self.show()

    def on_schools_failed(self, msg: SchoolsFailed) -> None:
        if msg.day != self.day.isoformat() or not self.is_running:
            return
        self.failed = msg
        self.show()
        if isinstance(self.screen, SchoolScreen) and msg.day == self.screen.day.isoformat():
            self.screen.on_school_failed(SchoolFailed(msg.why, msg.at))  # the page behind the failure: stale too

    # -- showing --------------------------------------------------------------------------------------------------
    def shown_rows(self) -> list:
        text = self.filter_input.value.strip().casefold()
        rows = [r for r in self.rows if (not text or text in r.school_id.casefold() or text in r.name.casefold())
                and (not self.late_only or r.late)]
        if self.sort_column == "trend":
            return rows
        key = sort_key(self.sort_column)
        known = sorted((r for r in rows if key(r)[0] == 0), key=key, reverse=self.sort_reverse)
        return known + [r for r in rows if key(r)[0] == 1]  # not reported: always last

    def show(self) -> None:
        table = self.table
        selected = self._selected()
        table.clear()
        rows = self.shown_rows()
        for r in rows:
            table.add_row(*[cell(k, r) if k != "trend" else sparkline(self.trend.get(r.school_id, []))
                            for k, _ in COLUMNS], key=r.school_id)
        if selected in {r.school_id for r in rows}:
            table.move_cursor(row=table.get_row_index(selected))
        if self.failed is not None and self.failed.unseen:  # this role sees no school: no figure means anything
            self.rows, self.trend, self.loaded_at = [], {}, None
            table.clear()
            self.show_table(False)
            self.status.update(f"{self.day} · 尚无数据 no data: {self.failed.why} · 检查于 checked "
                               f"{clock_time(self.failed.at)}, 每 {self.refresh_s:g} 秒再查 refresh every {self.refresh_s:g} s")
            return
        read = self.loaded_at is not None  # nothing read of this day yet: no figure, not "0 late"
        self.show_table(read or self.failed is None)
        schools, late = (len(self.rows), sum(r.late for r in self.rows)) if read else ("—", "—")
        arrow = "↓" if self.sort_reverse else "↑"
        self.status.update(
            f"{self.day} · {schools} 所学校 schools · {late} 迟报 late (after {self.cutoff:%H:%M}) · "
            f"showing {len(rows)} · sorted by {self.sort_column} {arrow} · {self.freshness()}")

    def show_table(self, shown: bool) -> None:
        """The table, or in its place why the day has no figures: an empty table would read as "no school late"
        (a school's page hides its tables so too)."""
        self.table.display, self.no_data.display = shown, not shown
        if not shown and self.failed.unseen:
            self.no_data.update(self.failed.why)
        elif not shown:
            self.no_data.update(
                f"⚠ {self.day} 尚无数据:读取上游数据库失败({clock_time(self.failed.at)}),每 {self.refresh_s:g} 秒重试 "
                f"— no data yet for {self.day}: the upstream could not be read at {clock_time(self.failed.at)} "
                f"({self.failed.why}); retrying every {self.refresh_s:g} s")

    def freshness(self) -> str:
        """When the figures shown were read; after a failed refresh, that they are stale since then, and why."""
        if self.failed is None:
            if self.loaded_at is None:  # a day picked, its first read under way: nothing of it was refreshed
                return f"读取中 loading… · every {self.refresh_s:g} s"
            return f"refreshed {clock_time(self.loaded_at)}, every {self.refresh_s:g} s"
        return (f"{read_failed(self.loaded_at, self.failed.at, self.failed.why)} · "
                f"每 {self.refresh_s:g} 秒重试 retrying every {self.refresh_s:g} s")

    def _selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    # -- sorting and filtering ------------------------------------------------------------------------------------
    @on(DataTable.HeaderSelected)
    def sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    def sort_by(self, column: str) -> None:
        self.sort_reverse = not self.sort_reverse if column == self.sort_column else column not in (
            "school_id", "name")  # figures sort biggest first
        self.sort_column = column
        self.show()

    def action_next_sort(self) -> None:
        keys = [k for k, _ in COLUMNS if k != "trend"]
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_reverse = self.sort_column not in ("school_id", "name")
        self.show()

    def action_late_only(self) -> None:
        self.late_only = not self.late_only
        self.show()

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.show()

    # -- the day picker -------------------------------------------------------------------------------------------
    def action_day(self, step: int) -> None:
        try:
            self.set_day(self.day + dt.timedelta(days=step))
        except OverflowError:
            self.notify(f"{self.day}: the calendar ends here", severity="warning")

    @on(Input.Submitted, "#day")
    def day_typed(self, event: Input.Submitted) -> None:
        self.set_day(event.value.strip())

    def set_day(self, day: dt.date | str) -> None:
        from gate.cli.days import day as checked  # the CLI's one date rule: the format and the calendar's range

        try:
            day = dt.date.fromisoformat(checked(str(day)))
        except argparse.ArgumentTypeError as exc:
            self.notify(f"{exc}; e.g. {self.day}", severity="warning", markup=False)  # typed text is no markup
            return
        self.day = day
        self.sub_title = day.isoformat()
        self.day_input.value = day.isoformat()
        self.rows, self.trend, self.loaded_at, self.failed = [], {}, None, None  # the day before's figures are not its
        self.show()
        self.action_refresh()

    # -- drill-down -----------------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#schools")
    def open_school(self, event: DataTable.RowSelected) -> None:
        self.push_screen(SchoolScreen(self.engine, str(event.row_key.value), self.day, self.cutoff, self.clock,
                                      self.trend.get(str(event.row_key.value), [])))


def build_bureau_app(engine, day: dt.date, *, cutoff: dt.time = dt.time(9, 0), refresh_s: float = 30.0,
                     clock: Callable[[], float] = time.time) -> BureauApp:
    """The one factory for the CLI, the browser server and the tests (``engine``: storage.bureau.reader)."""
    return BureauApp(engine, day, cutoff=cutoff, refresh_s=refresh_s, clock=clock)


def run_bureau(url: str, day: dt.date, cutoff: dt.time, refresh_s: float, lock_wait_s: float | None = None) -> None:
    from storage.upstream_answer import for_reads

    # a refresh behind a held table, or a server that stopped answering, gives up; the next one tries
    engine = bureau.reader(url, lock_wait_s=lock_wait_s, answer_within_s=for_reads(lock_wait_s))
    try:
        build_bureau_app(engine, day, cutoff=cutoff, refresh_s=refresh_s).run()
    finally:
        engine.dispose()
