"""Today's counts on one line: screened, admitted, denied, retests."""
from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from gate.i18n import t

EMPTY = {"screened": 0, "admit": 0, "deny": 0, "retest": 0}


class DayCounts(Static):
    counts: reactive[dict] = reactive(lambda: dict(EMPTY))
    language: reactive[str] = reactive("zh-CN")

    def render(self) -> str:
        lang, c = self.language, {**EMPTY, **self.counts}
        return (f"{t('ui.today', lang)}: {t('ui.screened', lang)} {c['screened']} · ✔ {t('ui.admitted', lang)} "
                f"{c['admit']} · ✖ {t('ui.denied', lang)} {c['deny']} · ↻ {t('ui.retests', lang)} {c['retest']}")
