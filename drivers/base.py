"""Readings, sensor health states and the interface every thermometer driver offers.

What a device streams (Sample, HealthEvent) lives in drivers.samples: a typed reading (`gate screen`) never builds
them, and each dataclass costs its start-up (bench/cli_startup.py)."""
from __future__ import annotations

from domain.errors import DeviceFailure
from domain.reading import MANUAL, Health, Reading  # noqa: F401  (the drivers' interface speaks these)


class SensorError(DeviceFailure):
    """A sensor cannot be opened or read; the message says what to check."""


def port_errors() -> tuple[type[BaseException], ...]:
    """What an unplugged or vanished port raises: pyserial's error, the OS's, and termios' (tcflush on a dead pty)."""
    import termios  # with pyserial, only once a port is opened: a typed reading (`gate screen`) never loads them

    import serial

    return (serial.SerialException, OSError, termios.error)
