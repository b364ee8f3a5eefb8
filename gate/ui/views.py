"""Help, day view and auditor screen."""
from __future__ import annotations

import math
import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, ProgressBar, Select, Static

from gate.i18n import t

KEYS = [
    ("Enter", "扫码或输入人员编号后回车", "scan a barcode or type the entrant id, then Enter"),
    ("F1", "帮助", "this help"),
    ("F2", "手测体温（复测）", "manual reading (a retest of a waiting person, or a new person)"),
    ("F3 / F4", "确认已戴口罩 / 未戴口罩", "confirm mask on / no mask (recorded with your name)"),
    ("F5", "今日统计与零报告", "day view: counts by hour, temperatures, zero report"),
    ("F6", "切换中文 / English", "switch language"),
    ("F7", "登录 / 切换角色", "sign in / switch role"),
    ("F8", "审计：查询、导出、校验", "auditor: search, export, verify the log"),
    ("F9", "维护：校准", "maintenance: live readings and calibration"),
    ("F10", "访客登记", "register a refused visitor (or Esc: refuse)"),
    ("Ctrl+P", "命令面板", "command palette"),
    ("Ctrl+Q", "退出", "quit"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close / 关闭")]

    def compose(self) -> ComposeResult:
        lines = "\n".join(f"[b]{k:<8}[/b] {zh} — {en}" for k, zh, en in KEYS)
        with Vertical(id="help-box"):
            yield Label("按键 / Keys")
            yield Static(lines, id="help-keys")
            yield Label("Esc = 关闭 / close")

    def action_dismiss(self) -> None:
        self.dismiss(None)


def histogram(temps: list[float], lo: float = 35.0, hi: float = 39.0, step: float = 0.2, width: int = 40,
              threshold: float = 37.3) -> str:
    """Text histogram of temperatures; bins at or above the threshold are marked."""
    if not temps:
        return "—"
    # Put a bin edge exactly on the threshold, so every bin is wholly below or wholly at/above it.
    lo = round(threshold - math.ceil(round((threshold - lo) / step, 6)) * step, 2)
    bins = int(round((hi - lo) / step))
    counts = [0] * (bins + 2)  # below lo, bins..., at or above hi
    for v in temps:
        k = 0 if v < lo else bins + 1 if v >= hi else 1 + int((v - lo) / step + 1e-9)
        counts[k] += 1
    top = max(counts) or 1
    lines = []
    for k, n in enumerate(counts):
        if k == 0:
            label = f"   <{lo:.1f}"
        elif k == bins + 1:
            label = f"  ≥{hi:.1f}"
        else:
            label = f"{lo + (k - 1) * step:6.1f}"
        edge = lo + (k - 1) * step
        mark = "!" if k == bins + 1 or (k > 0 and edge + 1e-9 >= threshold) else " "
        lines.append(f"{label} {mark}{'█' * round(n / top * width):<{width}} {n}")
    return "\n".join(lines)


class DayView(Screen):
    BINDINGS = [Binding("escape,f5", "app.pop_screen", "Back / 返回")]

    def compose(self) -> ComposeResult:
        with Vertical(id="day"):
            yield Label("", id="day-title")
            yield Static("", id="day-zero")
            yield Static("", id="day-hours")
            yield Static("", id="day-hist")
        yield Footer()

    def on_mount(self) -> None:
        self.app.load_day()

    def show(self, report: dict, profile: dict, lang: str, threshold: float) -> None:
        self.query_one("#day-title", Label).update(f"{t('ui.today', lang)} {report['day']} — "
                                                   f"{report['station_id']}")
        zero = report["zero_report"]
        self.query_one("#day-zero", Static).update(
            ("✔ 零报告 / zero report: nothing abnormal" if zero else
             f"✖ 异常 / abnormal: {report['confirmed_fevers']} confirmed fever(s), "
             f"{report['retests']['open']} open retest(s)")
            + f"\n{t('ui.screened', lang)} {report['screened']} · {t('ui.admitted', lang)} {report['admitted']} · "
              f"{t('ui.denied', lang)} {report['denied']} · {t('ui.retests', lang)} {report['retests']['total']} · "
              f"manual {report['manual_readings']} · unscreened {report['unscreened']}")
        hours = profile["by_hour"]
        top = max((sum(v.values()) for v in hours.values()), default=1) or 1
        rows = [f"{h:02d}:00 {'█' * round(sum(v.values()) / top * 40):<40} {sum(v.values()):>4} "
                f"(✔{v['admit']} ✖{v['deny']} ↻{v['retest']})" for h, v in hours.items()]
        self.query_one("#day-hours", Static).update("按小时 / by hour\n" + ("\n".join(rows) or "—"))
        self.query_one("#day-hist", Static).update(
            "体温分布 / temperatures (°C)\n" + histogram(profile["temperatures"], threshold=threshold))


PAGE = 100


class AuditorScreen(Screen):
    BINDINGS = [
        Binding("escape,f8", "app.pop_screen", "Back / 返回"),
        Binding("pagedown", "page(1)", "Next page"),
        Binding("pageup", "page(-1)", "Previous page"),
    ]

    def __init__(self, operator: str):
        super().__init__()
        self.operator = operator
        self.page_start = 0
        self.matching = 0

    def compose(self) -> ComposeResult:
        today = time.strftime("%Y-%m-%d")
        with Vertical(id="audit"):
            yield Label(f"审计 / Auditor — {self.operator}")
            with Horizontal(id="audit-filters"):
                yield Input(today, placeholder="from YYYY-MM-DD", id="f-from")
                yield Input(today, placeholder="to YYYY-MM-DD", id="f-to")
                yield Select([("any / 全部", ""), ("admit", "admit"), ("deny", "deny"), ("retest", "retest")],
                             value="", allow_blank=False, id="f-decision")
                yield Input(placeholder="entrant id", id="f-entrant")
                yield Button("Search / 查询", id="f-search", variant="primary")
            yield Static("", id="audit-count")
            yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="audit-actions"):
                yield Select([("CSV", "csv"), ("XLSX", "xlsx"), ("JSONL", "jsonl")], value="csv",
                             allow_blank=False, id="x-format")
                yield Checkbox("identified / 实名", id="x-identified")
                yield Input(str(Path.home() / "gate-exports" / time.strftime("%Y%m%d-%H%M%S")), id="x-out")
                yield Button("Export / 导出", id="x-export")
                yield Button("Verify log / 校验", id="x-verify")
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
        self.app.load_page(self.filters(), self.page_start, PAGE)

    def show_page(self, total: int, rows: list[dict]) -> None:
        self.matching = total
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for r in rows:
            table.add_row(time.strftime("%m-%d %H:%M:%S", time.localtime(r["created_at"])), r["entrant_id"] or "—",
                          r["decision"], "—" if r["temperature_c"] is None else f"{r['temperature_c']:.1f}",
                          r["source"] or "", r["mask_state"] or "", r["operator"] or "",
                          r["reasons"].strip("[]").replace('"', ""))
        pages = max(1, -(-total // PAGE))
        self.query_one("#audit-count", Static).update(
            f"{total} screenings · page {self.page_start // PAGE + 1} of {pages} (PgUp / PgDn)")

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
            self.app.run_export(f["date_from"], f["date_to"], self.query_one("#x-format", Select).value,
                                self.query_one("#x-out", Input).value.strip(),
                                self.query_one("#x-identified", Checkbox).value)
        elif event.button.id == "x-verify":
            self.app.run_verify()

    def progress(self, done: int, total: int) -> None:
        self.query_one("#x-progress", ProgressBar).update(total=max(total, 1), progress=done)

    def result(self, text: str) -> None:
        self.query_one("#audit-result", Static).update(text)
