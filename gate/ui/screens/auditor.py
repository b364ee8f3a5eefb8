"""The auditor screen (F8): search the log, page through it, export with a manifest, verify the log (every chain and
sealed table, as `gate verify`)."""
from __future__ import annotations

import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, ProgressBar, Select, Static

from domain.temperature import shown_c
from gate.station import Station
from gate.ui.messages import AuditorResult, ExportProgress, PageLoaded
from gate.ui.screens.base import ShowsWorkerFailures
from storage import integrity, reports
from storage.log import LogError

PAGE = 100


class AuditorScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [
        Binding("escape,f8", "app.pop_screen", "Back / 返回"),
        Binding("pagedown", "page(1)", "Next page"),
        Binding("pageup", "page(-1)", "Previous page"),
    ]

    def __init__(self, station: Station, operator: str):
        super().__init__()
        self.station = station
        self.operator = operator
        self.page_start = 0
        self.matching = 0
        self.rows: list[dict] = []  # the page shown, for the detail of the highlighted row

    def compose(self) -> ComposeResult:
        now = time.localtime(self.app.clock())  # the station's clock: "today" is the day the station is on
        today = time.strftime("%Y-%m-%d", now)
        # Fields in rows of two or three, compact, and the highlighted row in full under the table: at 80x24 every
        # field, button and column stays readable (a long reason or operator wraps in the detail).
        with Vertical(id="audit"):
            yield Label(f"审计 / Auditor — {self.operator}")
            with Horizontal(classes="audit-row"):
                yield Input(today, placeholder="from YYYY-MM-DD", id="f-from", compact=True)
                yield Input(today, placeholder="to YYYY-MM-DD", id="f-to", compact=True)
                yield Select([("any / 全部", ""), ("admit", "admit"), ("deny", "deny"), ("retest", "retest")],
                             value="", allow_blank=False, id="f-decision", compact=True)
            with Horizontal(classes="audit-row"):
                yield Input(placeholder="entrant id / 人员编号", id="f-entrant", compact=True)
                yield Button("Search / 查询", id="f-search", variant="primary", compact=True)
            yield Static("", id="audit-count")
            yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="audit-detail")
            with Horizontal(classes="audit-row"):
                yield Select([("CSV", "csv"), ("XLSX", "xlsx"), ("JSONL", "jsonl")], value="csv",
                             allow_blank=False, id="x-format", compact=True)
                yield Checkbox("identified / 实名", id="x-identified", compact=True)
                yield Button("Export / 导出", id="x-export", compact=True)
                yield Button("Verify log / 校验", id="x-verify", compact=True)
            yield Input(str(Path.home() / "gate-exports" / time.strftime("%Y%m%d-%H%M%S", now)), id="x-out",
                        compact=True)
            yield ProgressBar(total=100, show_eta=False, id="x-progress")
            yield Static("", id="audit-result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit-table", DataTable).add_columns("time", "entrant", "decision", "°C", "source", "mask",
                                                             "operator", "reasons")
        self.search()

    def filters(self) -> dict:
        return {"date_from": self.query_one("#f-from", Input).value.strip(),
                "date_to": self.query_one("#f-to", Input).value.strip(),
                "decision": self.query_one("#f-decision", Select).value or None,
                "entrant": self.query_one("#f-entrant", Input).value.strip() or None}

    def search(self) -> None:
        self.load_page(self.filters(), self.page_start, PAGE)

    # -- workers ----------------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="auditor-page", exit_on_error=False, name="searching the log")
    def load_page(self, filters: dict, offset: int, limit: int) -> None:
        total, rows = reports.query(self.station.log, offset=offset, limit=limit, **filters)
        self.post_message(PageLoaded(total, rows))

    @work(thread=True, exclusive=True, group="export", exit_on_error=False, name="exporting")
    def run_export(self, date_from: str, date_to: str, fmt: str, out: str, identified: bool, language: str) -> None:
        from storage.export import ExportError, export  # openpyxl: 0.7 s, paid only by an export

        try:
            m = export(self.station.log, date_from=date_from, date_to=date_to, fmt=fmt, out_dir=out,
                       identified=identified, actor=self.operator, station_id=self.station.config.station_id,
                       language=language, progress=lambda d, n: self.post_message(ExportProgress(d, n)),
                       now=self.app.clock())
        except (ExportError, LogError, OSError) as exc:
            self.post_message(AuditorResult(f"export refused: {exc}", False))
            return
        self.post_message(AuditorResult(f"exported {m['rows']} rows to {out} (manifest.json beside them)", True))

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, name="verifying the log")
    def run_verify(self) -> None:
        # Everything `gate verify` checks: every chain with its sealed end, users, roster, calibrations, policy.
        report = integrity.check(self.station.log)
        if report.ok:
            c = report.chains
            self.post_message(AuditorResult(f"log verifies: {c['screenings'].rows} screenings, {c['audit'].rows} "
                                            f"audit events, station key {report.fingerprint}", True))
        else:
            lines = report.lines()
            more = f" (+{len(lines) - 1} more: gate verify)" if len(lines) > 1 else ""
            self.post_message(AuditorResult(lines[0] + more, False))

    # -- results ----------------------------------------------------------------------------------------------------
    def on_page_loaded(self, msg: PageLoaded) -> None:
        total, rows = msg.total, msg.rows
        self.matching = total
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        self.rows = list(rows)
        self.query_one("#audit-detail", Static).update("")
        for r in rows:
            table.add_row(time.strftime("%m-%d %H:%M:%S", time.localtime(r["created_at"])), r["entrant_id"] or "—",
                          r["decision"], shown_c(r["temperature_c"], r["threshold_c"], unit=False),
                          r["source"] or "", r["mask_state"] or "", r["operator"] or "",
                          r["reasons"].strip("[]").replace('"', ""))
        pages = max(1, -(-total // PAGE))
        self.query_one("#audit-count", Static).update(
            f"{total} screenings · page {self.page_start // PAGE + 1} of {pages} (PgUp / PgDn)")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted screening in full, wrapped: nothing of it is cut at 80 columns."""
        if not 0 <= event.cursor_row < len(self.rows):
            return
        r = self.rows[event.cursor_row]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["created_at"]))
        self.query_one("#audit-detail", Static).update(
            f"{when} · {r['entrant_id'] or '—'} · {r['decision']} · "
            f"{shown_c(r['temperature_c'], r['threshold_c'])} · {r['source'] or '—'} · mask {r['mask_state'] or '—'}"
            f" · operator {r['operator'] or '—'}\nreasons: {r['reasons'].strip('[]').replace(chr(34), '') or '—'}")

    def action_page(self, step: int) -> None:
        new = self.page_start + step * PAGE
        if 0 <= new < max(self.matching, 1):
            self.page_start = new
            self.search()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "f-search":
            self.page_start = 0
            self.search()
        elif event.button.id == "x-export":
            f = self.filters()
            identified = self.query_one("#x-identified", Checkbox).value
            if identified and not self.app.may("export-identified"):
                self.post_message(AuditorResult("an identified export needs an auditor's sign-in (F7)", False))
                return
            self.run_export(f["date_from"], f["date_to"], self.query_one("#x-format", Select).value,
                            self.query_one("#x-out", Input).value.strip(), identified, self.app.language)
        elif event.button.id == "x-verify":
            self.run_verify()

    def on_export_progress(self, msg: ExportProgress) -> None:
        self.query_one("#x-progress", ProgressBar).update(total=max(msg.total, 1), progress=msg.done)

    def on_auditor_result(self, msg: AuditorResult) -> None:
        self.query_one("#audit-result", Static).update(("✔ " if msg.ok else "✖ ") + msg.text)
        self.notify(msg.text, severity="information" if msg.ok else "error")
