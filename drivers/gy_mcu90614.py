"""GY-MCU90614 / GY-MCU90615: an MLX90614/90615 spot sensor behind an MCU, UART 8N1.

Reply frame, 9 bytes: ``5A 5A 45 04 TOH TOL TAH TAL SUM``; TO (object) and TA (ambient) are signed 16-bit big-endian
hundredths of a degree; SUM is the low byte of the sum of bytes 0..7. Commands are ``A5 CMD SUM``.
A signed 16-bit value tops out at 327.67 °C, so that is the highest object value a frame can carry.
"""
from __future__ import annotations

import struct
import time
from typing import NamedTuple

import serial

from drivers.samples import Sample
from drivers.device import FramedDevice
from drivers.framing import Decoded, scan_fixed

PROTOCOL = "gy-mcu90614"
HEADER = b"\x5a\x5a\x45\x04"
FRAME_LEN = 9
OBJECT_RANGE = (-70.0, 380.0)
AMBIENT_RANGE = (-40.0, 125.0)
_FMT = struct.Struct(">4shhB")
_HEADER_SUM = sum(HEADER)


def command(cmd: int) -> bytes:
    return bytes([0xA5, cmd, (0xA5 + cmd) & 0xFF])


CMD_CONTINUOUS = command(0x45)
CMD_QUERY = command(0x15)
CMD_BAUD_9600 = command(0xAE)
CMD_BAUD_115200 = command(0xAF)
CMD_AUTO_ON = command(0x51)
CMD_AUTO_OFF = command(0x52)


class GyFrame(NamedTuple):
    object_c: float
    ambient_c: float


def encode(object_c: float, ambient_c: float) -> bytes:
    """The bytes a sensor sends for these temperatures (used by the simulator and the tests)."""
    body = HEADER + struct.pack(">hh", round(object_c * 100), round(ambient_c * 100))
    return body + bytes([sum(body) & 0xFF])


def _check(to: int, ta: int, s: int) -> GyFrame | None:
    if (_HEADER_SUM + ((to >> 8) & 0xFF) + (to & 0xFF) + ((ta >> 8) & 0xFF) + (ta & 0xFF)) & 0xFF != s:
        return None
    if not (-7000 <= to <= 32767 and -4000 <= ta <= 12500):
        return None
    return GyFrame(to / 100.0, ta / 100.0)


def _parse(candidate: bytes) -> GyFrame | None:
    head, to, ta, s = _FMT.unpack(candidate)
    return _check(to, ta, s) if head == HEADER else None


def decode(buf: bytes, final: bool = False) -> Decoded[GyFrame]:
    """Pure framer: frames found in ``buf`` and the number of bytes consumed (see drivers.framing.scan_fixed)."""
    frames: list[GyFrame] = []
    i, n = 0, len(buf)
    while True:
        # Fast path for the common case, a run of aligned frames: each one followed by the next header is accepted.
        if buf.startswith(HEADER, i) and n - i >= 2 * FRAME_LEN:
            count = (n - i) // FRAME_LEN
            run = _FMT.iter_unpack(memoryview(buf)[i:i + count * FRAME_LEN])
            prev = next(run)
            for cur in run:
                frame = _check(prev[1], prev[2], prev[3]) if prev[0] == HEADER and cur[0] == HEADER else None
                if frame is None:
                    break
                frames.append(frame)
                i += FRAME_LEN
                prev = cur
        before = len(frames)
        out = scan_fixed(buf, HEADER, FRAME_LEN, _parse, final, frames, i, one=True)
        if len(frames) == before or out.consumed >= n:
            return out
        i = out.consumed


class GyMcu90614(FramedDevice[GyFrame]):
    PROTOCOL = PROTOCOL
    DEFAULT_BAUD = 9600
    POLL_INTERVAL_S = 0.11  # the MCU wants query mode polled at under 10 Hz

    def __init__(self, port: serial.SerialBase, mode: str = "continuous"):
        super().__init__(port, decode)
        if mode not in ("continuous", "query"):
            raise ValueError("mode must be 'continuous' or 'query'")
        self.mode = mode

    def start(self) -> None:
        self.write(CMD_CONTINUOUS if self.mode == "continuous" else CMD_AUTO_OFF)

    def query(self, timeout: float = 0.3) -> GyFrame | None:
        self.write(CMD_QUERY)
        frames = self.read_frames(timeout)
        return frames[-1] if frames else None

    def samples(self, timeout: float = 0.1) -> list[Sample]:
        if self.mode == "query":
            if not self.poll_due(timeout):
                return []
            frame = self.query(timeout=max(timeout, 0.2))
            frames = [frame] if frame else []
        else:
            frames = self.read_frames(timeout)
        now = time.time()
        return [Sample(f.object_c, f.ambient_c, now) for f in frames]
