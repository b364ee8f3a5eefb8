"""The help screen: the keys of the duty screen, in both languages."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

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
    ("F11", "追踪：病例与结案", "follow-up: open cases of your classes, close one"),
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
