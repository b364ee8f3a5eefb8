"""Sign-in form: user name and PIN. The app checks them in a worker (scrypt is deliberately slow)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class SignIn(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel / 取消")]

    def __init__(self, why: str, error: str = ""):
        super().__init__()
        self.why = why
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="signin-box"):
            yield Label(f"登录 / Sign in — {self.why}")
            yield Input(placeholder="用户名 / user name", id="signin-name")
            yield Input(placeholder="PIN", password=True, id="signin-pin")
            yield Static(self.error, id="signin-error")
            yield Label("Enter = 确认 / confirm · Esc = 取消 / cancel")

    def on_mount(self) -> None:
        self.query_one("#signin-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = self.query_one("#signin-name", Input).value.strip()
        pin = self.query_one("#signin-pin", Input).value.strip()
        if event.input.id == "signin-name" and name:
            self.query_one("#signin-pin", Input).focus()
            return
        if not name or not pin:
            self.query_one("#signin-error", Static).update("请输入用户名和PIN / enter your name and PIN")
            return
        self.dismiss((name, pin))

    def action_cancel(self) -> None:
        self.dismiss(None)
