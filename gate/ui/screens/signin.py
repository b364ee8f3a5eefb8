"""Sign-in form: user name and PIN, checked in this screen's worker (scrypt is deliberately slow).

Dismisses with the User on success; on a refusal it says why (wrong PIN, locked, role lacks the right) and closes.
"""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from domain import ManualReason
from domain.identifiers import ID_MAX, IdentifierError, check_text
from gate.auth import Auth, AuthError, User
from gate.ui.messages import SignedIn, SignInFailed
from gate.ui.screens.base import AnswersOnce, ShowsWorkerFailures
from gate.ui.screens.manual import BACK
from storage.log import LogError


class SignIn(AnswersOnce, ShowsWorkerFailures, ModalScreen[User | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel / 取消")]

    def __init__(self, why: str, auth: Auth, *, reason: str | None = None):
        super().__init__()
        self.why = why
        self.auth = auth
        self.checking = False  # a PIN check is on its way
        self.reason = reason  # why the station opened it by itself (the sensor went to fault), None if staff did

    def compose(self) -> ComposeResult:
        with Vertical(id="signin-box"):
            yield Label(f"登录 / Sign in — {self.why}")
            yield Input(placeholder="用户名 / user name", id="signin-name")
            yield Input(placeholder="PIN", password=True, id="signin-pin")
            yield Static("", id="signin-error")
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
        try:  # a name is recorded in the audit trail even when the PIN is wrong: printable and bounded only
            name = check_text(name, "user name", max_len=ID_MAX)
        except IdentifierError as exc:
            self.query_one("#signin-error", Static).update(str(exc))
            return
        if self.checking:
            return  # Enter pressed twice: one check, one attempt counted towards the lockout
        self.checking = True
        self.query_one("#signin-error", Static).update("…")
        self.check(name, pin)

    @work(thread=True, exclusive=True, group="auth", exit_on_error=False, name="checking the PIN")
    def check(self, name: str, pin: str) -> None:
        try:
            self.post_message(SignedIn(self.auth.check(name, pin, self.why)))
        except (AuthError, LogError) as exc:
            self.post_message(SignInFailed(str(exc)))

    def on_signed_in(self, msg: SignedIn) -> None:
        self.answer(msg.user)

    def on_sign_in_failed(self, msg: SignInFailed) -> None:
        self.notify(msg.error, severity="error", timeout=8)
        self.answer(None)

    def action_cancel(self) -> None:
        self.answer(None)

    def withdraw(self) -> None:
        """The sensor is back: close the sign-in if the station opened it on the fault and nobody typed into it yet
        (someone half-way through signing in keeps it: they meant to take over)."""
        if self.reason == ManualReason.SENSOR_FAULT:
            self.call_after_refresh(self._withdraw_if_untouched)  # the form may still be being built

    def _withdraw_if_untouched(self) -> None:
        if self.is_current and not any(field.value for field in self.query("Input").results(Input)):
            self.answer(None)
            self.notify(BACK, timeout=6)
