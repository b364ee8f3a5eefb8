"""The help screen: the keys of the duty screen, in both languages, from the one table of the station's keys (which the
app binds too)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

class StationKey:
    """One line of the help: the key(s) as shown, what they do (中文, English), and the app's bindings behind it."""

    def __init__(self, shown: str, zh: str, en: str, *binds: Binding):
        self.shown, self.zh, self.en, self.binds = shown, zh, en, binds


# The station's keys, in the keyboard's order. The app binds each one from here (gate.ui.app), so what the help says
# and what the keys do cannot drift apart; Enter and Ctrl+P are the duty screen's field and Textual's command palette.
# Ctrl+Q is a priority key: a modal form (Textual stops other keys at a modal) must never keep the station from
# quitting. F11 stays off the footer (it is in the command palette).
STATION_KEYS = (
    StationKey("Enter", "扫码或输入人员编号后回车", "scan a barcode or type the entrant id, then Enter"),
    StationKey("F1", "帮助", "this help", Binding("f1", "help", "Help / 帮助")),
    StationKey("F2", "手测体温（复测）", "manual reading (a retest of a waiting person, or a new person)",
               Binding("f2", "manual", "Manual entry / 手测")),
    StationKey("F3 / F4", "确认已戴口罩 / 未戴口罩", "confirm mask on / no mask (recorded with your name)",
               Binding("f3", "mask_yes", "Mask OK / 已戴口罩"), Binding("f4", "mask_no", "No mask / 未戴")),
    StationKey("F5", "今日统计与零报告", "day view: counts by hour, temperatures, zero report",
               Binding("f5", "day_view", "Today / 今日")),
    StationKey("F6", "切换中文 / English", "switch language", Binding("f6", "language", "中文 / English")),
    StationKey("F7", "登录 / 切换角色", "sign in / switch role", Binding("f7", "sign_in", "Sign in / 登录")),
    StationKey("F8", "审计：查询、导出、校验", "auditor: search, export, verify the log",
               Binding("f8", "auditor", "Auditor / 审计")),
    StationKey("F9", "维护：校准", "maintenance: live readings and calibration",
               Binding("f9", "maintenance", "Maintenance / 维护")),
    StationKey("F10", "访客登记", "register a refused visitor (or Esc: refuse)",
               Binding("f10", "visitor", "Visitor / 访客登记")),
    StationKey("F11", "追踪：病例与结案", "follow-up: open cases of your classes, close one",
               Binding("f11", "followup", "Follow-up / 追踪", show=False)),
    StationKey("Ctrl+P", "命令面板", "command palette"),
    StationKey("Ctrl+Q", "退出", "quit", Binding("ctrl+q", "quit", "Quit / 退出", priority=True)),
)
KEYS = [(k.shown, k.zh, k.en) for k in STATION_KEYS]  # the help's lines
STATION_BINDINGS = [b for k in STATION_KEYS for b in k.binds]


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
