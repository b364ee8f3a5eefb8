"""The manual-entry form: a typed reading from a handheld or clinical thermometer, validated before it is stored."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from drivers.manual import ManualEntryError, parse_temperature
from domain import ManualReason, Screening
from gate.i18n import t

REASON_LABELS = {
    ManualReason.SENSOR_FAULT: "传感器故障 / sensor fault",
    ManualReason.COLD: "天冷 / cold",
    ManualReason.RETEST: "复测 / retest",
    ManualReason.OTHER: "其他 / other",
}


NEW_PERSON = "new"


class ManualEntry(ModalScreen[tuple[str, str, str | None] | None]):
    """Returns (typed value, reason, id of the open retest it belongs to, or None for a new person)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel / 取消")]

    def __init__(self, language: str, previous: Screening | None, open_retests: list[tuple[str, str]] | None = None,
                 reason: str | None = None):
        super().__init__()
        self.reason = reason  # why the form was opened (e.g. the sensor went to fault), if the station knows
        self.language = language
        self.previous = previous
        self.open_retests = open_retests or []  # (label, screening id), the default first

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
            yield Static("", id="manual-error")
            yield Label("Enter = 保存 / save · Esc = 取消 / cancel")

    def on_mount(self) -> None:
        self.query_one("#manual-temp", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            parse_temperature(event.value)
        except ManualEntryError as exc:
            self.query_one("#manual-error", Static).update(str(exc))
            return
        reason = self.query_one("#manual-reason", Select).value
        target = self.query_one("#manual-target", Select).value
        self.dismiss((event.value, reason if reason in REASON_LABELS else ManualReason.OTHER,
                      None if target == NEW_PERSON else str(target)))

    def action_cancel(self) -> None:
        self.dismiss(None)
