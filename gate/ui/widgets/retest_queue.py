"""The people waiting for a retest, with the rest countdown; renders a ``gate.retests.RetestQueue``."""
from __future__ import annotations

import time
from typing import Callable

from textual.reactive import reactive
from textual.widgets import Static

from domain.temperature import shown_c
from gate.i18n import t
from gate.retests import RetestQueue, Waiting

SHOWN = 6  # the line holds six people at 80 columns; the form lists them all


def label(queue: RetestQueue, w: Waiting, now: float) -> str:
    """``S1 38.0 °C 09:12`` (time left to rest) or ``S1 38.0 °C ready / 可复测``."""
    left = queue.left_s(w, now)
    when = "ready / 可复测" if left <= 0 else f"{int(left // 60):02d}:{int(left % 60):02d}"
    s = w.screening
    temp = shown_c(s.temperature_c, s.threshold_c)
    return f"{s.entrant_id or time.strftime('%H:%M', time.localtime(w.began))} {temp} {when}"


class RetestQueueView(Static):
    language: reactive[str] = reactive("zh-CN", layout=True)
    now: reactive[float] = reactive(0.0, layout=True)
    changes: reactive[int] = reactive(0, layout=True)  # bumped by the owner after the queue changed

    def __init__(self, queue: RetestQueue, clock: Callable[[], float], **kwargs):
        super().__init__(**kwargs)
        self.queue = queue
        self.clock = clock

    def on_mount(self) -> None:
        self.now = self.clock()
        self.set_interval(1, self.tick)  # the countdown; stops with the widget

    def tick(self) -> None:
        self.now = self.clock()

    def render(self) -> str:
        items = self.queue.waiting()
        if not items:
            return ""
        return f"↻ {t('ui.retests', self.language)}: " + " · ".join(label(self.queue, w, self.now)
                                                                   for w in items[:SHOWN])
