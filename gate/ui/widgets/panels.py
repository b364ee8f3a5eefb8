"""The three reading panels: temperature (with source and ambient), mask (with F3/F4), and who is being screened."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from domain import MaskState, Screening
from domain.temperature import shown_c
from gate.i18n import t
from gate.ui.widgets import Follows


class ReadingPanels(Follows, Horizontal):
    FOLLOWS = ("latest", "language", "pending_entrant")
    latest: reactive[Screening | None] = reactive(None)
    language: reactive[str] = reactive("zh-CN")
    pending_entrant: reactive[str | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static(id="temperature", classes="panel")
        yield Static(id="mask", classes="panel")
        yield Static(id="entrant", classes="panel")

    def follow(self) -> None:
        lang, s = self.language, self.latest
        if s is None or s.reading is None:
            temperature = f"{t('ui.temperature', lang)}\n—"
        else:
            r = s.reading
            source = t("ui.manual", lang) if r.is_manual else r.source
            amb = "" if r.ambient_c is None else f" · {t('ui.ambient', lang)} {shown_c(r.ambient_c)}"
            temperature = (f"{t('ui.temperature', lang)}: [b]{shown_c(r.value_c, s.threshold_c)}[/b]\n"
                           f"{t('ui.source', lang)}: {source}{amb}")
        self.query_one("#temperature", Static).update(temperature)
        state = s.mask.state if s else MaskState.UNKNOWN
        who = f" ({s.mask.source})" if s and s.mask.source != "none" else ""
        self.query_one("#mask", Static).update(f"{t('ui.mask', lang)}\n{t('ui.mask_' + state.value, lang)}{who}\n"
                                               "F3 ✔ / F4 ✖")
        shown = s.entrant_id if s and s.entrant_id else t("ui.anonymous", lang)
        nxt = f"\n→ {self.pending_entrant}" if self.pending_entrant else ""
        self.query_one("#entrant", Static).update(f"{t('ui.entrant', lang)}\n{shown}{nxt}")
