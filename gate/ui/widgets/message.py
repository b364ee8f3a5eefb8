"""The line under the banner: what to tell the person at the gate, in the screen's language."""
from __future__ import annotations

from typing import Callable

from textual.reactive import reactive
from textual.widgets import Static

from domain import Screening
from gate.i18n import t


class DecisionMessage(Static):
    latest: reactive[Screening | None] = reactive(None, layout=True)
    log_error: reactive[str] = reactive("", layout=True)
    language: reactive[str] = reactive("zh-CN", layout=True)

    def __init__(self, say: Callable[[Screening, str], str], **kwargs):
        """``say(screening, language)``: the policy's message for that person in that language."""
        super().__init__(**kwargs)
        self.say = say

    def render(self) -> str:
        if self.log_error:
            return t("ui.log_failure", self.language, error=self.log_error)
        if self.latest is None:
            return t("ui.waiting_for_person", self.language)
        return self.say(self.latest, self.language)
