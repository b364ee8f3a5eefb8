"""People waiting at the gate for a retest: who must rest first, how long is left, who is ready.

Headless and pure: every question about time takes ``now`` (seconds since the epoch), so the 10-minute rest is tested
with set times. The duty screen keeps one queue and renders it; the policy decides, this only keeps track.
"""
from __future__ import annotations

from dataclasses import dataclass

from domain import Decision, Reason, Screening

# A first reading that is too high, or taken cold, is repeated after a rest indoors. A mask question needs no rest:
# staff answer it with F3/F4, not with a new temperature.
REST_REASONS = frozenset({Reason.FEVER_SUSPECTED, Reason.AMBIENT_TOO_COLD, Reason.READING_TOO_LOW})


@dataclass(frozen=True)
class Waiting:
    """One person waiting: their latest screening, and when their rest began (the first reading of the chain)."""

    screening: Screening
    began: float

    @property
    def needs_rest(self) -> bool:
        return not REST_REASONS.isdisjoint(self.screening.reasons)


class RetestQueue:
    """Open retests by screening id; a decision that follows one closes it (or carries its rest on)."""

    def __init__(self, rest_minutes: float):
        if rest_minutes < 0:
            raise ValueError("rest_minutes: 0 or more")
        self.rest_s = rest_minutes * 60
        self._open: dict[str, Waiting] = {}

    def record(self, s: Screening, now: float) -> None:
        """Take a committed decision into account: it may close the retest it follows and may open a new one."""
        began = now
        previous = self._open.pop(s.follows, None) if s.follows else None
        if previous is not None:
            began = previous.began  # a mask confirmation does not restart the rest
        if s.decision is Decision.RETEST:
            self._open[s.id] = Waiting(s, began if s.follows else s.created_at)

    def left_s(self, w: Waiting, now: float) -> float:
        """Seconds until ``w`` may be measured again (0 or less: now)."""
        return w.began + (self.rest_s if w.needs_rest else 0.0) - now

    def waiting(self) -> list[Waiting]:
        """Everyone waiting, who has waited longest first."""
        return sorted(self._open.values(), key=lambda w: w.began)

    def ready(self, now: float) -> list[Waiting]:
        """People whose rest is over and who need a new temperature, longest rested first."""
        return [w for w in self.waiting() if w.needs_rest and self.left_s(w, now) <= 0]

    def default_target(self, now: float) -> Screening | None:
        """Whom a manual reading most likely belongs to: the person who has rested longest, else a new person."""
        ready = self.ready(now)
        return ready[0].screening if ready else None

    def get(self, screening_id: str | None) -> Screening | None:
        w = self._open.get(screening_id) if screening_id else None
        return w.screening if w else None

    def __contains__(self, screening_id: object) -> bool:
        return screening_id in self._open

    def __len__(self) -> int:
        return len(self._open)
