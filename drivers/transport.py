"""Opening serial ports by URL: device paths, /dev/serial/by-id links, loop://, socket://, rfc2217://."""
from __future__ import annotations

import os

import serial

from drivers.base import SensorError


def open_port(url: str, baudrate: int = 9600, timeout: float = 0.05) -> serial.SerialBase:
    """Open ``url`` with pyserial; a missing or busy port raises SensorError saying what to check."""
    if "://" not in url and not os.path.exists(url):
        raise SensorError(
            f"serial port {url} does not exist: check the cable and the port name (`gate ports` lists the ports)"
        )
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=1.0)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise SensorError(f"cannot open serial port {url}: {exc}") from exc
