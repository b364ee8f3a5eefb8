"""What a keyboard-wedge card or barcode scanner types: the card's characters far faster than anyone types, then Enter.

The duty station tells a scan from typing by the time between keys (the times are a parameter: the key events' own
times in the UI, chosen ones in tests). USB scanners type a character every 1–10 ms and Bluetooth ones every 20 ms or
so; even a fast typist leaves 60 ms or more between most keys, and nobody keeps under 35 ms for a whole id *and*
the Enter after it.
"""
from __future__ import annotations

from dataclasses import dataclass

SCANNER_GAP_S = 0.035  # slower than any scanner, faster than people type a run of keys
MIN_SCAN_CHARS = 2  # "S1" is a card too; one key and Enter is a person


@dataclass(frozen=True)
class Entry:
    """What Enter ended: ``text`` is everything typed since the last Enter or other key (what a screen without a
    text field was sent); ``scanned`` is the end of it that came at a scanner's speed, Enter included ('' if none)."""

    text: str
    scanned: str


class KeyTimes:
    """Fed every key with its time; says at each Enter what was typed and which part of it a scanner typed."""

    def __init__(self, gap_s: float = SCANNER_GAP_S, min_chars: int = MIN_SCAN_CHARS):
        self.gap_s, self.min_chars = gap_s, min_chars
        self._text: list[str] = []
        self._run: list[str] = []  # the trailing characters typed each within gap_s of the one before
        self._last: float | None = None

    def char(self, ch: str, at: float) -> bool:
        """A printable character typed at ``at`` (seconds); True when it starts a new run (what a field held
        before it is what to give back if the run turns out to be a card)."""
        new_run = self._last is None or not 0 <= at - self._last <= self.gap_s
        if new_run:
            self._run = []  # a pause (or a clock going backwards): what follows is a new run
        self._text.append(ch)
        self._run.append(ch)
        self._last = at
        return new_run

    def other(self) -> None:
        """Any other key (Backspace, an arrow, Tab, a function key): what was typed before it is not one entry."""
        self._text, self._run, self._last = [], [], None

    def enter(self, at: float) -> Entry:
        fast = self._last is not None and 0 <= at - self._last <= self.gap_s and len(self._run) >= self.min_chars
        entry = Entry("".join(self._text), "".join(self._run) if fast else "")
        self.other()
        return entry
