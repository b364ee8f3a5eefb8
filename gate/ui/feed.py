"""Raw samples from the sensor thread to the screens that show them live (the maintenance screen, while shown)."""
from __future__ import annotations

from typing import Callable

from drivers.samples import Sample


class SampleFeed:
    """Raw samples from the sensor thread to whoever listens (the maintenance screen, while it is shown)."""

    def __init__(self):
        self._listeners: tuple[Callable[[Sample], None], ...] = ()  # replaced, never mutated: no lock needed

    def add(self, listener: Callable[[Sample], None]) -> None:
        self._listeners = (*self._listeners, listener)

    def remove(self, listener: Callable[[Sample], None]) -> None:
        self._listeners = tuple(fn for fn in self._listeners if fn != listener)

    def __call__(self, sample: Sample) -> None:
        for listener in self._listeners:
            listener(sample)
