"""The checks of a school day (晨检 morning, 午检 noon, 晚检 evening for boarders): sessions with a time window.

Pure: no clock, no I/O. A screening belongs to the session whose window holds its local time of day, start included
and end excluded (a screening at 08:30:00 is after a 06:30–08:30 morning check), or to none. A window never crosses
midnight: a screening's session and its day are always the same local day.
"""
from __future__ import annotations

import datetime
import time

import msgspec


# A frozen msgspec Struct, not a dataclass: built in C when the module loads, where a frozen dataclass compiles six
# methods from source (about 4 M instructions of gate screen's start-up, bench/cli_startup.py).
class Session(msgspec.Struct, frozen=True):
    """One check of the day: its name (stored with each screening), its labels and its window [start, end)."""

    name: str
    label_zh: str
    label_en: str
    start: datetime.time
    end: datetime.time

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en

    def window(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def holds(self, at: datetime.time) -> bool:
        return self.start <= at < self.end

    def end_on(self, day: str) -> float:
        """The local end of this session on ``day`` (YYYY-MM-DD) as a timestamp."""
        d = datetime.date.fromisoformat(day)
        return time.mktime(datetime.datetime.combine(d, self.end).timetuple())


def hhmm(text: str) -> datetime.time:
    """"06:30" -> 06:30; ValueError with what to write for anything else."""
    try:
        if len(text) != 5 or text[2] != ":":
            raise ValueError
        return datetime.time(int(text[:2]), int(text[3:]))
    except (ValueError, TypeError):
        raise ValueError(f"{text!r} is not a time of day: write HH:MM, e.g. \"06:30\"") from None


DEFAULT_SESSIONS: tuple[Session, ...] = (
    Session("morning", "晨检", "morning check", datetime.time(6, 30), datetime.time(8, 30)),
    Session("noon", "午检", "noon check", datetime.time(12, 30), datetime.time(14, 0)),
)
EVENING = Session("evening", "晚检", "evening check", datetime.time(18, 30), datetime.time(19, 30))


def session_at(sessions: tuple[Session, ...], ts: float) -> Session | None:
    """The session whose window holds the local time of ``ts``, or None outside every window."""
    lt = time.localtime(ts)
    at = datetime.time(lt.tm_hour, lt.tm_min, lt.tm_sec)
    return next((s for s in sessions if s.holds(at)), None)


def overlaps(sessions: tuple[Session, ...]) -> list[tuple[Session, Session]]:
    """Pairs of sessions whose windows overlap (a screening would belong to two)."""
    ordered = sorted(sessions, key=lambda s: s.start)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if b.start < a.end]


def ended(sessions: tuple[Session, ...], day: str, now: float) -> list[Session]:
    """The sessions of ``day`` whose window has closed by ``now``."""
    return [s for s in sessions if s.end_on(day) <= now]
