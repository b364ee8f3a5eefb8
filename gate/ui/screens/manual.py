"""The manual-entry form: a typed reading from a handheld or clinical thermometer, validated before it is stored."""
from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from drivers.manual import ManualEntryError, parse_temperature, scanned_id
from domain import ManualReason, Screening
from domain.identifiers import IdentifierError, check_id
from gate.i18n import t
from gate.ui.screens.base import AnswersOnce, OfferedOnFault

REASON_LABELS = {
    ManualReason.SENSOR_FAULT: "传感器故障 / sensor fault",
    ManualReason.COLD: "天冷 / cold",
    ManualReason.RETEST: "复测 / retest",
    ManualReason.OTHER: "其他 / other",
}


NEW_PERSON = "new"
LEAVING_KEYS = {"f1": "help", "f5": "day_view", "f8": "auditor", "f9": "maintenance", "f11": "followup"}


class ManualEntry(OfferedOnFault, AnswersOnce, ModalScreen[tuple[str, str, str | None, str | None] | None]):
    """Returns (typed value, reason, id of the open retest it belongs to or None for a new person, the entrant id
    scanned while the form was open or None)."""

    DRAFT = "manual"  # what the idle sign-out keeps for the same user (gate/ui/drafts.py)
    TYPED = "#manual-temp"  # a temperature typed keeps the form when the sensor comes back (OfferedOnFault)

    # The station's keys that open another screen work here too (Textual stops the app's keys at a modal): the form
    # closes unsaved first, as with Esc. F6 switches the language and keeps the form.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel / 取消"),
        *(Binding(key, f"leave_for('{action}')", show=False) for key, action in LEAVING_KEYS.items()),
        Binding("f6", "app.language", show=False),
    ]

    def __init__(self, language: str, previous: Screening | None, open_retests: list[tuple[str, str]] | None = None,
                 reason: str | None = None, on_scan: Callable[[str], object] | None = None,
                 waiting: str | None = None):
        super().__init__()
        self.waiting = waiting  # a card scanned at the gate before the form opened: the person measured by default
        self.scanned: str | None = None  # a card scanned while the form is open: the person measured
        self.on_scan = on_scan  # e.g. the duty screen says at once if that person is to be sent home
        self.reason = reason  # why the form was opened (e.g. the sensor went to fault), if the station knows
        self.language = language
        self.previous = previous
        self.open_retests = open_retests or []  # (label, screening id), the default first
        self.error: ManualEntryError | None = None  # the typing error shown, said again in the language F6 picks

    def compose(self) -> ComposeResult:
        title = "手测体温 / Manual reading"
        if self.previous is not None:
            title += f" — {t('decision.retest', self.language)} {self.previous.entrant_id or ''}"
        with Vertical(id="manual-box"):
            yield Label(title)
            yield Select([*self.open_retests, ("新人员 / new person", NEW_PERSON)],
                         value=self.previous.id if self.previous else NEW_PERSON, allow_blank=False,
                         id="manual-target")
            yield Input(placeholder="36.6  (36,6 / 36.6C / 97.9F)", id="manual-temp")
            yield Select([(label, key) for key, label in REASON_LABELS.items()],
                         value=self.reason or (ManualReason.RETEST if self.previous else ManualReason.SENSOR_FAULT), allow_blank=False,
                         id="manual-reason")
            yield Static("", id="manual-person")
            yield Static("", id="manual-error")
            yield Label("Enter = 保存 / save · Esc = 取消 / cancel")

    def on_mount(self) -> None:
        self.query_one("#manual-temp", Input).focus()
        if self.waiting and self.previous is None:
            self.query_one("#manual-person", Static).update(
                f"人员 / person: {self.waiting} — 已扫卡，请输入体温 / scanned at the gate, type the temperature")
        self.watch(self.app, "language", self._show_error, init=False)
        user, drafts = getattr(self.app, "user", None), getattr(self.app, "drafts", None)
        if drafts is not None and (draft := drafts.take(user.name if user else None, self.DRAFT)) is not None:
            self.restore(draft)

    def draft(self) -> dict | None:
        """What was typed or scanned into the form, if anything (the idle sign-out keeps it for the same user)."""
        temp = self.query_one("#manual-temp", Input).value
        if not temp.strip() and self.scanned is None:
            return None
        return {"temp": temp, "reason": self.query_one("#manual-reason", Select).value,
                "target": self.query_one("#manual-target", Select).value, "scanned": self.scanned}

    def restore(self, draft: dict) -> None:
        field = self.query_one("#manual-temp", Input)
        # typing goes on where it stopped: the focus given on mounting, handled after this, would select the draft
        # and the teacher's next key would replace it (a race the cursor set after a refresh lost on a busy PC)
        field.select_on_focus = False
        field.value = draft["temp"]
        field.cursor_position = len(draft["temp"])
        self.query_one("#manual-reason", Select).value = draft["reason"]
        if draft["target"] in {key for _, key in self.open_retests}:  # still waiting for a retest
            self.query_one("#manual-target", Select).value = draft["target"]
        if draft["scanned"]:
            self._scanned(draft["scanned"], self.query_one("#manual-temp", Input), keep_value=True)
        self.notify("已恢复您未完成的手测 / your unfinished manual reading is back", timeout=6)

    def _show_error(self, _language=None) -> None:
        """The typing error in the language on screen (the catalogues hold it in zh-CN and English)."""
        e = self.error
        self.query_one("#manual-error", Static).update(
            "" if e is None else t(f"manual_error.{e.code}", self.app.language, **e.args_for_text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            parse_temperature(event.value)
        except ManualEntryError as exc:
            if (entrant := scanned_id(event.value)) is not None:
                self._scanned(entrant, event.input)
            else:
                self.error = exc
                self._show_error()
            return
        reason = self.query_one("#manual-reason", Select).value
        target = self.query_one("#manual-target", Select).value
        self.answer((event.value, reason if reason in REASON_LABELS else ManualReason.OTHER,
                     None if target == NEW_PERSON else str(target), self.scanned))

    def is_card(self, field: Input, run: str, glued: bool) -> bool:
        """Keys that came at a scanner's speed into the temperature field after the teacher's own digits are a card,
        never the temperature's decimals ("37." then card 10000001 is not 37.10000001); a run alone in the field is
        a card unless it reads as a temperature."""
        return field.id == "manual-temp" and (glued or scanned_id(run) is not None)

    def card_scanned(self, field: Input, run: str) -> None:
        """The card, already taken back out of the field (what the teacher typed stays): it names the person
        measured, or is refused in one line; nothing is stored by the scanner's Enter."""
        try:
            entrant = check_id(run, "entrant id")
        except IdentifierError as exc:
            self.notify(t("ui.scan_refused", self.app.language, detail=str(exc)), severity="error", timeout=10)
            return
        self._scanned(entrant, field, keep_value=True)

    def _scanned(self, entrant: str, field: Input, keep_value: bool = False) -> None:
        """A card went through the scanner into the temperature field: it names the person measured (never a
        temperature, never lost); the reading is a new person's unless it is the retest of that same person."""
        self.scanned = entrant
        if not keep_value:
            field.value = ""
        target = self.query_one("#manual-target", Select)
        if not (self.previous is not None and target.value == self.previous.id
                and self.previous.entrant_id == entrant):
            target.value = NEW_PERSON  # the station links a retest by the person's id itself
        self.error = None
        self._show_error()
        person = self.query_one("#manual-person", Static)
        still = "" if self.waiting in (None, entrant) else f" ({self.waiting}: 仍在等待 / still waiting for a reading)"
        person.update(f"人员 / person: {entrant} — 请输入体温 / now type the temperature{still}")
        person.add_class("scanned")
        if self.on_scan is not None:
            self.on_scan(entrant)

    # A key can come before the form is built (a busy PC, or a form the station has just opened on a fault): the
    # form closes from its own queue, after it is built, so that it never loses its fields under its own feet.
    def action_cancel(self) -> None:
        self.call_later(self._close)

    def action_leave_for(self, action: str) -> None:
        self.call_later(self._close, getattr(self.app, f"action_{action}"))

    def _close(self, then=None) -> None:
        if self.is_current:
            self.answer(None)
            if then is not None:
                self.app.call_next(then)
