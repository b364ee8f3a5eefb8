"""The table of recent decisions on the duty screen (the newest at the bottom, at most 200 rows)."""
from __future__ import annotations

import time

from textual.widgets import DataTable

from domain import Screening
from domain.temperature import shown_c
from gate.i18n import t
from gate.ui.widgets.banner import SYMBOL

RECENT_ROWS = 200


class RecentTable(DataTable):
    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        self.add_columns("时间 time", "结果 decision", "°C", "口罩 mask", "人员 entrant")

    def add_screening(self, s: Screening, language: str) -> None:
        temp = shown_c(s.temperature_c, s.threshold_c, unit=False)
        self.add_row(time.strftime("%H:%M:%S", time.localtime(s.created_at)),
                     f"{SYMBOL[s.decision]} {t('decision.' + s.decision.value, language)}",
                     temp, s.mask.state.value, s.entrant_id or "—", key=s.id)
        if self.row_count > RECENT_ROWS:
            self.remove_row(next(iter(self.rows)))
        self.move_cursor(row=self.row_count - 1)
