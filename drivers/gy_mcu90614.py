"""GY-MCU90614 / GY-MCU90615: an MLX90614/90615 spot sensor behind an MCU, UART 8N1.

Reply frame, 9 bytes: ``5A 5A 45 04 TOH TOL TAH TAL SUM``; TO (object) and TA (ambient) are signed 16-bit big-endian
hundredths of a degree; SUM is the low byte of the sum of bytes 0..7. Commands are ``A5 CMD SUM``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from drivers.framing import Decoded

PROTOCOL = "gy-mcu90614"
HEADER = b"\x5a\x5a\x45\x04"
FRAME_LEN = 9
OBJECT_RANGE = (-70.0, 380.0)
AMBIENT_RANGE = (-40.0, 125.0)


def command(cmd: int) -> bytes:
    return bytes([0xA5, cmd, (0xA5 + cmd) & 0xFF])


CMD_CONTINUOUS = command(0x45)
CMD_QUERY = command(0x15)
CMD_BAUD_9600 = command(0xAE)
CMD_BAUD_115200 = command(0xAF)
CMD_AUTO_ON = command(0x51)
CMD_AUTO_OFF = command(0x52)


@dataclass(frozen=True)
class GyFrame:
    object_c: float
    ambient_c: float


def encode(object_c: float, ambient_c: float) -> bytes:
    """The bytes a sensor sends for these temperatures (used by the simulator and the tests)."""
    body = HEADER + struct.pack(">hh", round(object_c * 100), round(ambient_c * 100))
    return body + bytes([sum(body) & 0xFF])


def _parse(candidate: bytes) -> GyFrame | None:
    if candidate[:4] != HEADER or (sum(candidate[:8]) & 0xFF) != candidate[8]:
        return None
    to, ta = struct.unpack(">hh", candidate[4:8])
    frame = GyFrame(to / 100.0, ta / 100.0)
    if not (OBJECT_RANGE[0] <= frame.object_c <= OBJECT_RANGE[1]):
        return None
    if not (AMBIENT_RANGE[0] <= frame.ambient_c <= AMBIENT_RANGE[1]):
        return None
    return frame


def _has_inner_header(buf: bytes, start: int, end: int) -> bool:
    """True when a header (or the start of one) begins inside buf[start+1:end]."""
    for k in range(start + 1, end):
        tail = buf[k:end]
        if HEADER.startswith(tail[:4]):
            return True
    return False


def decode(buf: bytes, final: bool = False) -> Decoded[GyFrame]:
    """Pure framer: frames found in ``buf`` and the number of bytes consumed.

    An 8-bit sum passes misaligned bytes about 1 in 256, so a frame that checks out is still refused when a header starts
    inside it and the bytes after it are not the next header: the framer then drops one byte and rescans. When that
    cannot be told yet (the frame ends the buffer) it waits for more bytes, unless ``final`` says no more are coming.
    """
    frames: list[GyFrame] = []
    i, n = 0, len(buf)
    while i < n:
        j = buf.find(HEADER, i)
        if j < 0:
            # Keep a possible header prefix at the very end; everything before it is noise.
            keep = 0
            for k in range(1, 4):
                if n - k >= i and HEADER.startswith(buf[n - k:]):
                    keep = k
            return Decoded(frames, n - keep)
        i = j
        if n - i < FRAME_LEN:
            return Decoded(frames, i)
        frame = _parse(buf[i:i + FRAME_LEN])
        if frame is None:
            i += 1
            continue
        after = buf[i + FRAME_LEN:i + FRAME_LEN + 4]
        if _has_inner_header(buf, i, i + FRAME_LEN):
            if not after and not final:
                return Decoded(frames, i)
            if after and not HEADER.startswith(after):
                i += 1
                continue
        frames.append(frame)
        i += FRAME_LEN
    return Decoded(frames, i)
