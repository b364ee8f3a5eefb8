"""Readings, sensor health states and the interface every thermometer driver offers."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from domain.errors import DeviceFailure
from domain.reading import MANUAL, Health, Reading  # noqa: F401  (the drivers' interface speaks these)


class SensorError(DeviceFailure):
    """A sensor cannot be opened or read; the message says what to check."""


def port_errors() -> tuple[type[BaseException], ...]:
    """What an unplugged or vanished port raises: pyserial's error, the OS's, and termios' (tcflush on a dead pty)."""
    import termios  # with pyserial, only once a port is opened: a typed reading (`gate screen`) never loads them

    import serial

    return (serial.SerialException, OSError, termios.error)


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
