"""A person signed in at the station, with the classes a teacher may see.

Apart from gate.auth so that a station without users (PINs off) builds no user class when `gate screen` starts
(bench/cli_startup.py); gate.auth still answers to the name.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    """A signed-in person; ``classes`` are the classes a teacher may see (gate.roles.scope)."""

    name: str
    role: str
    classes: tuple[str, ...] = ()
