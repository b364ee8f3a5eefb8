"""The device layer shared by framed protocols: a port, a bounded receive buffer and a pure framer."""
from __future__ import annotations

import time
from typing import Callable, Generic, TypeVar

import serial

from drivers.base import port_errors
from drivers.framing import MAX_BUFFER, Decoded

F = TypeVar("F")


class FramedDevice(Generic[F]):
    """Reads bytes from a pyserial port and hands whole frames to its caller."""

    def __init__(self, port: serial.SerialBase, decode: Callable[..., Decoded[F]]):
        self.port = port
        self._decode = decode
        self._buf = bytearray()
        self.bytes_dropped = 0

    POLL_INTERVAL_S = 0.1  # polled devices: at most this often (the MCUs want under 10 Hz)
    _next_poll = 0.0

    def poll_due(self, timeout: float) -> bool:
        """For polled devices: True when it is time for the next request; otherwise waits a little and says False."""
        wait = self._next_poll - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, timeout))
            return False
        self._next_poll = time.monotonic() + self.POLL_INTERVAL_S
        return True

    def write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def read_frames(self, timeout: float = 0.1) -> list[F]:
        """Frames that arrive within ``timeout``; returns early as soon as at least one is decoded.

        Serial errors (unplug) propagate as ``serial.SerialException`` / ``OSError`` for the caller to handle.
        """
        deadline = time.monotonic() + timeout
        while True:
            waiting = self.port.in_waiting
            chunk = self.port.read(waiting if waiting else 1)
            if chunk:
                self._buf += chunk
                if len(self._buf) > MAX_BUFFER:
                    excess = len(self._buf) - MAX_BUFFER
                    del self._buf[:excess]
                    self.bytes_dropped += excess
            out = self._decode(bytes(self._buf), final=not chunk)
            if out.consumed:
                del self._buf[:out.consumed]
            if out.frames:
                return out.frames
            if time.monotonic() >= deadline:
                return []

    def close(self) -> None:
        try:
            self.port.close()
        except port_errors():
            pass
