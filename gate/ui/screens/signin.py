"""Sign-in form: user name and PIN, checked in a worker thread (scrypt is deliberately slow).

Dismisses with the User on success; on a refusal it says why (wrong PIN, locked, role lacks the right) and closes.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from domain.identifiers import ID_MAX, IdentifierError, check_id, check_text
from gate.auth import Auth, AuthError
from gate.user import User
from gate.ui.messages import PinIsCardNumber, SignedIn, SignInFailed, UserNames
from gate.ui.screens.base import AnswersOnce, OfferedOnFault, ShowsWorkerFailures, failure_text
from storage.log import LogError
from storage.roster import is_known_id


class SignIn(OfferedOnFault, AnswersOnce, ShowsWorkerFailures, ModalScreen[User | None]):
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

    def is_card(self, field: Input, run: str, glued: bool) -> bool:
        """Keys that came at a scanner's speed are a card: in the PIN field always (a card is never a PIN attempt),
        in the name field unless they spell a user of the station."""
        return field.id == "signin-pin" or (field.id == "signin-name" and self.names is not None
                                            and run not in self.names)

    def card_scanned(self, field: Input, run: str) -> None:
        """The card alone (taken back out of the field, what the teacher typed before it stays): it goes to the gate
        for the next reading, never into the audit trail as a failed sign-in, never towards a lockout."""
        error = self.query_one("#signin-error", Static)
        then = "请输入用户名 / type your user name" if field.id == "signin-name" else "请输入PIN / type your PIN"
        try:
            entrant = check_id(run, "entrant id")
        except IdentifierError as exc:
            error.update(f"{exc}: 不是有效的卡号 / not taken as a card — {then}")
            return
        if self.on_scan is not None:
            self.on_scan(entrant)
        kept = "已留给下一次测量 / kept for the next reading" if self.on_scan else "未保存 / not kept: scan it at the gate"
        what = "这是卡号，不是PIN / that was a card, not a PIN" if field.id == "signin-pin" else "人员编号 / a person's id"
        error.update(f"{entrant}: {what} — {kept}; {then}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = self.query_one("#signin-name", Input).value.strip()
        pin = self.query_one("#signin-pin", Input).value.strip()
        if event.input.id == "signin-name" and name.isdigit() and (self.names is None or name not in self.names):
            # digits typed as a name are most likely the PIN, typed before the name: never left on the screen
            event.input.value = ""
            self.query_one("#signin-error", Static).update(
                "这不是用户名 / not a user name of this station — 请先输入用户名 / type your user name first")
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
        # The app's worker, not this form's: a guess followed at once by Esc, F1 or the palette closes the form, and
        # Textual cancels a screen's workers with it — before the thread has run, on a busy PC — so the wrong PIN
        # would not count towards the lockout. Not exclusive either: a second attempt must not cancel the first.
        self.app.run_worker(partial(self.check, name, pin), thread=True, group="auth", exit_on_error=False,
                            name="checking the PIN")

    def check(self, name: str, pin: str) -> None:
        try:
            # A PIN set before its number reached the roster is a person's card too: never checked (the station
            # could not tell it from the card), never echoed, never a person's id; it must be changed.
            if pin.isdigit() and is_known_id(self.auth.log, pin):
                self.post_message(PinIsCardNumber())
                return
            self.post_message(SignedIn(self.auth.check(name, pin, self.why, now=self.app.clock())))
        except (AuthError, LogError) as exc:
            self.post_message(SignInFailed(str(exc)))
        except Exception as exc:  # noqa: BLE001 — the app's worker: this form's failure handler does not see it
            self.post_message(SignInFailed(failure_text("checking the PIN", exc)))

    def on_signed_in(self, msg: SignedIn) -> None:
        self.checking = False
        self.answer(msg.user)

    def on_pin_is_card_number(self, _msg: PinIsCardNumber) -> None:
        self.checking = False
        pin = self.query_one("#signin-pin", Input)
        pin.value = ""
        pin.focus()  # the name stays
        self.query_one("#signin-error", Static).update(
            "这个PIN也是一张卡的卡号，不能使用 / this PIN is also a card number and cannot sign in here — "
            "请管理员更换 / ask an admin for another (gate users reset-pin)")

    def on_sign_in_failed(self, msg: SignInFailed) -> None:
        self.checking = False  # the answer may wait under another screen (AnswersOnce): the check itself is over
        self.notify(msg.error, severity="error", timeout=8)
        self.answer(None)

    def action_cancel(self) -> None:
        self.answer(None)
