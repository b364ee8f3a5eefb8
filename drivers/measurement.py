"""From a stream of samples to one measurement per person.

A fixed sensor sees the background (about ambient) until someone steps in front of it. A person is present when the
object temperature exceeds the baseline by ``margin_c`` for ``frames`` consecutive samples; the measurement is the
median of the first ``window`` present samples (robust to a spike); the person has left when it falls back.
``hold`` makes what is in view now count as no one, until the view clears.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.presence import PRESENCE_FRAMES, PRESENCE_MARGIN_C

if TYPE_CHECKING:
    from drivers.samples import Sample


@dataclass(frozen=True)
class Measurement:
    object_c: float
    ambient_c: float | None
    ts: float
    samples: int


class PresenceDetector:
    def __init__(self, margin_c: float = PRESENCE_MARGIN_C, frames: int = PRESENCE_FRAMES, window: int = 5,
                 baseline_alpha: float = 0.05):
        if frames < 1 or window < frames:
            raise ValueError("need frames >= 1 and window >= frames")
        self.margin_c = margin_c
        self.frames = frames
        self.window = window
        self._alpha = baseline_alpha
        self._baseline: float | None = None
        self._run: list[Sample] = []
        self._emitted = False

    @property
    def present(self) -> bool:
        return len(self._run) >= self.frames

    def _base(self, s: Sample) -> float:
        # The sensor's own ambient is the better baseline; without it, follow the background slowly.
        if s.ambient_c is not None:
            return s.ambient_c
        return s.object_c if self._baseline is None else self._baseline

    def feed(self, s: Sample) -> Measurement | None:
        above = s.object_c - self._base(s) >= self.margin_c
        if not above:
            result = None
            if self._run and not self._emitted and len(self._run) >= self.frames:
                result = self._measure()  # left before a full window: measure what was seen
            self._run.clear()
            self._emitted = False
            self._baseline = s.object_c if self._baseline is None else (
                (1 - self._alpha) * self._baseline + self._alpha * s.object_c)
            return result
        self._run.append(s)
        if not self._emitted and len(self._run) >= self.window:
            self._emitted = True
            return self._measure()
        return None

    def hold(self) -> None:
        """Whatever is in front of the sensor now is no person (a blackbody during a calibration): nothing is
        measured until the view has cleared, even if it stays for a long while after screening resumes."""
        self._emitted = True

    def _measure(self) -> Measurement:
        import statistics  # with fractions: only on a live sensor (a typed reading, `gate screen`, never needs it)

        run = self._run[: self.window]
        ambients = [s.ambient_c for s in run if s.ambient_c is not None]
        return Measurement(
            object_c=round(statistics.median(s.object_c for s in run), 2),
            ambient_c=round(statistics.median(ambients), 2) if ambients else None,
            ts=run[-1].ts,
            samples=len(run),
        )
