"""A screening the live station could not store: nobody may be admitted on it.

Apart from gate.station so that a typed reading (`gate screen`), which reports a storage error itself, does not
build the class at start-up (bench/cli_startup.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from domain.reading import Reading


@dataclass(frozen=True)
class LogFailure:
    """A screening that could not be stored: nobody may be admitted on it."""

    error: str
    reading: Reading
