"""The large decision banner: ADMIT / DENY / RETEST in colour, in both languages and with a symbol (colour is never
the only signal), or LOG FAILURE when the decision could not be stored."""
from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from domain import Decision, Screening
from gate.i18n import t
from gate.ui.widgets import Follows

SYMBOL = {Decision.ADMIT: "✔", Decision.DENY: "✖", Decision.RETEST: "↻"}
STATES = ("admit", "deny", "retest", "waiting", "failure")


class Banner(Follows, Static):
    latest: reactive[Screening | None] = reactive(None)
    log_error: reactive[str] = reactive("")
    language: reactive[str] = reactive("zh-CN")
    FOLLOWS = ("latest", "log_error")  # the colour: the text itself follows every reactive (render)

    def render(self) -> str:
        lang, s = self.language, self.latest
        if self.log_error:
            return "⚠  LOG FAILURE / 记录失败  ⚠"
        if s is None:
            return f"…  {t('decision.waiting', lang)}"
        other = "en" if lang == "zh-CN" else "zh-CN"
        return (f"{SYMBOL[s.decision]}  {t('decision.' + s.decision.value, lang)}  ·  "
                f"{t('decision.' + s.decision.value, other)}  {SYMBOL[s.decision]}")

    def _state(self) -> str:
        if self.log_error:
            return "failure"
        return "waiting" if self.latest is None else self.latest.decision.value

    def follow(self) -> None:
        state = self._state()
        for name in STATES:
            self.set_class(name == state, name)
