"""Sign-in form: user name and PIN, checked in this screen's worker (scrypt is deliberately slow).

Dismisses with the User on success; on a refusal it says why (wrong PIN, locked, role lacks the right) and closes.
"""
from __future__ import annotations

from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from domain import ManualReason
from drivers.manual import scanned_id
from domain.identifiers import ID_MAX, IdentifierError, check_text
from gate.auth import Auth, AuthError
from gate.user import User
from gate.ui.messages import CardNotPin, SignedIn, SignInFailed, UserNames
from gate.ui.screens.base import AnswersOnce, ShowsWorkerFailures
from gate.ui.screens.manual import BACK
from storage.log import LogError
from storage.roster import is_known_id


class SignIn(AnswersOnce, ShowsWorkerFailures, ModalScreen[User | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel / 取消")]

    def __init__(self, why: str, auth: Auth, *, reason: str | None = None,
                 on_scan: Callable[[str], object] | None = None):
        super().__init__()
        self.on_scan = on_scan  # where a card scanned into the form goes (the gate's next reading), if anywhere
        self.names: frozenset[str] | None = None  # the station's user names, once read
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
        if self.on_scan is not None:
            self.load_names()

    @work(thread=True, exclusive=True, group="names", exit_on_error=False, name="reading the user names")
    def load_names(self) -> None:
        self.post_message(UserNames(frozenset(u["name"] for u in self.auth.users())))

    def on_user_names(self, msg: UserNames) -> None:
        self.names = msg.names

    def _card(self, text: str, field: Input) -> bool:
        """A pupil's card scanned into the sign-in (the station opened it at the gate): the id goes to the gate for
        the next reading, never into the audit trail as a failed sign-in, and never counts towards a lockout."""
        entrant = scanned_id(text)
        is_pin = field.id == "signin-pin" and text.isdigit()
        if self.on_scan is None or entrant is None or is_pin or (field.id == "signin-name" and (
                self.names is None or text in self.names)):
            return False
        field.value = ""  # the cursor stays where the card landed: the teacher goes on with that field
        self.on_scan(entrant)
        then = "请输入用户名 / type your user name" if field.id == "signin-name" else "请输入PIN / type your PIN"
        self.query_one("#signin-error", Static).update(
            f"{entrant}: 人员编号，留给下一次测量 / a person's id, kept for the next reading — {then}")
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = self.query_one("#signin-name", Input).value.strip()
        pin = self.query_one("#signin-pin", Input).value.strip()
        if self._card(event.value.strip(), event.input):
            return
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
            # A numeric card scanned into the PIN field looks like a PIN: one the station knows as a person's card is
            # never checked, so it is neither a failed sign-in in the audit trail nor a step towards a lockout.
            if pin.isdigit() and is_known_id(self.auth.log, pin):
                self.post_message(CardNotPin(pin))
                return
            self.post_message(SignedIn(self.auth.check(name, pin, self.why, now=self.app.clock())))
        except (AuthError, LogError) as exc:
            self.post_message(SignInFailed(str(exc)))

    def on_signed_in(self, msg: SignedIn) -> None:
        self.answer(msg.user)

    def on_card_not_pin(self, msg: CardNotPin) -> None:
        self.checking = False
        pin = self.query_one("#signin-pin", Input)
        pin.value = ""
        pin.focus()  # the name stays: the teacher types the PIN now
        if self.on_scan is not None:
            self.on_scan(msg.entrant)
        self.query_one("#signin-error", Static).update(
            f"{msg.entrant}: 这是卡号，不是PIN，已留给下一次测量 / that was a card, not a PIN — kept for the next reading;"
            " 请输入PIN / type your PIN (a PIN that is a card number: ask an admin for another, gate users reset-pin)")

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
