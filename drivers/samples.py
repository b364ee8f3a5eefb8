"""What a thermometer streams before a person is picked out: its samples and its health events.

Apart from drivers.base so that a typed reading (`gate screen`) does not build these classes (bench/cli_startup.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from domain.reading import Health


@dataclass(frozen=True)
class Sample:
    """One frame's worth of temperatures as a device streams them (before a person is picked out)."""

    object_c: float
    ambient_c: float | None
    ts: float
    device_health: Health | None = None  # what the device itself reports (status bits), if it does
    device_reason: str = ""


@dataclass(frozen=True)
class HealthEvent:
    sensor: str
    health: Health
    reason: str  # for people: what happened, with its numbers
    ts: float = field(default_factory=time.time)
    cause: str = ""  # for code: drivers.sensor.Cause, stable while the same thing goes on
