"""The school day around the gate, for the duty screen and the reports: which check is on now and how far it is.

The clock is a parameter everywhere: ``now`` is given, never read here.
"""
from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from domain.sessions import Session, session_at
from storage.log import ScreeningLog, local_day
from storage.roster import session_progress


@dataclass(frozen=True)
class SessionState:
    """What the widget shows: the session now (None outside every window), seen and expected of the roster."""

    name: str | None
    label_zh: str = ""
    label_en: str = ""
    window: str = ""
    seen: int = 0
    expected: int = 0
    next_label: str = ""  # outside every window: the next check of the day, e.g. "午检 noon check 12:30"

    def text(self, language: str) -> str:
        if self.name is None:
            nxt = f" · next: {self.next_label}" if self.next_label else ""
            return ("当前无检查 / no check now" if language.startswith("zh") else "no check now / 当前无检查") + nxt
        label = f"{self.label_zh} {self.label_en}" if language.startswith("zh") else f"{self.label_en} {self.label_zh}"
        if not self.expected:
            return f"{label} {self.window} · seen {self.seen} (no roster loaded)"
        return f"{label} {self.window} · 已检 seen {self.seen} / {self.expected}"


def session_state(log: ScreeningLog, sessions: tuple[Session, ...], now: float) -> SessionState:
    """The check on at ``now`` with seen / expected of the roster, or the next check of the day."""
    s = session_at(sessions, now)
    if s is None:
        lt = time.localtime(now)
        at = datetime.time(lt.tm_hour, lt.tm_min, lt.tm_sec)
        nxt = min((x for x in sessions if x.start > at), key=lambda x: x.start, default=None)
        return SessionState(None, next_label=f"{nxt.label_zh} {nxt.label_en} {nxt.start:%H:%M}" if nxt else "")
    seen, expected = session_progress(log, local_day(now), s.name)
    return SessionState(s.name, s.label_zh, s.label_en, s.window(), seen, expected)
