"""Register a visitor at the gate: name, phone, reason and host; approved for today by the signed-in operator."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from domain.identifiers import IdentifierError, check_name, check_text
from gate.ui.screens.base import AnswersOnce
from storage.roster import REASON_MAX


class VisitorForm(AnswersOnce, ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "cancel", "Refuse / 拒绝")]

    def __init__(self, visitor_id: str):
        super().__init__()
        self.visitor_id = visitor_id

    def compose(self) -> ComposeResult:
        with Vertical(id="visitor-box"):
            yield Label(f"访客登记 / Register visitor — {self.visitor_id}")
            yield Input(placeholder="姓名 / name", id="v-name")
            yield Input(placeholder="电话 / phone", id="v-phone")
            yield Input(placeholder="事由 / reason", id="v-reason")
            yield Input(placeholder="被访人 / host", id="v-host")
            yield Static("", id="v-error")
            yield Label("Enter = 登记 / register · Esc = 拒绝进入 / refuse")

    def on_mount(self) -> None:
        self.query_one("#v-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        fields = {k: self.query_one(f"#v-{k}", Input).value.strip() for k in ("name", "phone", "reason", "host")}
        missing = [k for k, v in fields.items() if not v]
        if missing:
            nxt = self.query_one(f"#v-{missing[0]}", Input)
            if event.input is not nxt:
                nxt.focus()
                return
            self.query_one("#v-error", Static).update(f"请填写 / please fill in: {', '.join(missing)}")
            return
        try:  # the same checks as `gate roster visitor add`: printable, bounded
            fields = {"name": check_name(fields["name"], "name"), "phone": check_text(fields["phone"], "phone",
                                                                                      max_len=32),
                      "reason": check_text(fields["reason"], "reason", max_len=REASON_MAX),
                      "host": check_name(fields["host"], "host")}
        except IdentifierError as exc:
            self.query_one("#v-error", Static).update(str(exc))
            return
        self.answer(fields)

    def action_cancel(self) -> None:
        self.answer(None)
