"""One school's drill-down: its gates (last sync, screenings, reported), its sessions (晨检, 午检 ...), its cases
(pseudonymised pupils, classes, no names) and its 7-day trend. Its title says when it was read; it reads again with
the table's refresh, and when a read fails it says so (when, why) over the last figures, marked stale, or, if none
was ever read, instead of empty tables (which would read as "no gates, no cases")."""
from __future__ import annotations

import datetime as dt
import time
from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from gate.ui.bureau.format import cell, clock_time, failure_cause, plain, read_failed, sparkline
from storage.bureau_access import held_for_refresh
from gate.ui.bureau.messages import SchoolFailed, SchoolLoaded
from gate.ui.screens.base import ShowsWorkerFailures
from storage import bureau


class SchoolScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "返回 Back")]
    DEFAULT_CSS = """
    SchoolScreen DataTable { height: auto; max-height: 14; margin-bottom: 1; }
    SchoolScreen Label { text-style: bold; }
    """

    def __init__(self, engine, school_id: str, day: dt.date, cutoff: dt.time, clock: Callable[[], float],
                 trend: list[dict]):
        super().__init__()
        self.engine, self.school_id, self.day, self.cutoff, self.clock = engine, school_id, day, cutoff, clock
        self.trend = trend
        self.read_at: float | None = None  # when the figures shown were read (None: not yet)
        self.heading = plain(f"{school_id} · {day}")  # the figures' line, once read

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(plain(f"{self.school_id} · {self.day} · 读取中 loading…"), id="school-title")
            with Vertical(id="figures"):  # hidden until read: empty tables would read as "no gates, no cases"
                yield Label("闸机 Gates")
                yield DataTable(id="gates", cursor_type="row")
                yield Label("检次 Sessions")
                yield DataTable(id="sessions", cursor_type="row")
                yield Label("追踪 Cases (pseudonymised: no names)")
                yield DataTable(id="cases", cursor_type="row")
                yield Label("7天 7-day trend")
                yield Static("", id="trend")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#gates", DataTable).add_columns("闸机 Gate", "最后同步 Last sync", "记录 Screenings",
                                                         "发热 Fevers", "已报 Reported")
        self.query_one("#sessions", DataTable).add_columns("检次 Session", "检 Screened", "发热 Fevers")
        self.query_one("#cases", DataTable).add_columns("案 Case", "学生 Pupil", "班级 Class", "开 Opened",
                                                         "原因 Reason", "结案 Outcome")
        self.load()

        self.query_one("#figures").display = False

    @work(thread=True, exclusive=True, group="school", exit_on_error=False, name="reading the school")
    def load(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        now = self.clock()
        try:
            found = bureau.detail(self.engine, self.school_id, self.day, now, self.cutoff)
        except (SQLAlchemyError, OSError) as exc:  # the page says so; the next refresh tries again
            self.post_message(SchoolFailed(held_for_refresh(exc, self.engine) or failure_cause(exc), now))
            return
        self.post_message(SchoolLoaded(found, now))

    def on_school_failed(self, msg: SchoolFailed) -> None:
        self.query_one("#school-title", Static).update(
            self.heading + f" · {read_failed(self.read_at, msg.at, msg.why)}")

    def on_school_loaded(self, msg: SchoolLoaded) -> None:
        found = msg.detail
        self.read_at = msg.at
        if found is None:
            self.query_one("#school-title", Static).update(
                plain(f"{self.school_id}: 不在 not in the district database · read {clock_time(msg.at)}"))
            return
        s = found.school
        self.heading = plain(
            f"{s.name} ({s.school_id}) · {s.day} · "
            f"闸机 gates {s.stations_reported}/{s.expected_stations} reported · "
            f"检 screened {cell('screened', s)} · 发热 fevers {cell('confirmed_fevers', s)} · "
            f"零报告 zero {cell('zero_report', s)} · {cell('late', s)}")
        self.query_one("#school-title", Static).update(self.heading + f" · 读于 read {clock_time(msg.at)}")
        self.query_one("#figures").display = True
        for table in self.query(DataTable):
            table.clear()  # read again with the table's refresh: the rows anew, not added twice
        gates = self.query_one("#gates", DataTable)
        for g in found.gates:
            at = time.strftime("%m-%d %H:%M", time.localtime(g["last_sync"])) if g["last_sync"] else "从未 never"
            gates.add_row(plain(g["station_id"]), at, str(g["screenings"]), str(g["confirmed_fevers"]),
                          "是 yes" if g["reported"] else "否 no")
        sessions = self.query_one("#sessions", DataTable)
        for x in found.sessions:
            sessions.add_row(plain(x["session"]), str(x["screened"]), str(x["confirmed_fevers"]))
        cases = self.query_one("#cases", DataTable)
        for c in found.cases:
            cases.add_row(plain(c["case"]), plain(c["pupil"]), plain(c["class"] or "—"), plain(c["opened"]),
                          plain(c["reason"]), plain(c["outcome"] or "未结 open"))
        days = self.trend
        self.query_one("#trend", Static).update(
            (sparkline(days) + "\n" + "\n".join(
                f"{d['day']}  检 {d['screened']:>5}  发热 {d['confirmed_fevers']:>3}  "
                f"{'已报 reported' if d['reported'] else '未报 not reported'}" for d in days)) if days else "—")
