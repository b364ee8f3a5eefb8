"""GY-MCU90640: an MLX90640 32x24 thermal array behind an STM32, UART (115200 or 460800 baud).

Frame, 1544 bytes: ``5A 5A 02 06`` (0x0602 = 1538 bytes follow), 768 pixels as signed 16-bit little-endian hundredths
of a degree, row-major 32 x 24, then the ambient (same encoding), then a 2-byte trailer nobody verifies (ignored here;
the header and pixel plausibility are checked instead). Commands are ``A5 CMD ARG SUM``.

The face temperature is the mean of the hottest 2x2 window inside the largest blob of skin-temperature pixels: not one
hot pixel, and not a hot cup of tea (which is outside the skin band).
"""
from __future__ import annotations

import statistics
import struct
import sys
import time
from array import array
from typing import NamedTuple

import serial

from drivers.samples import Sample
from drivers.device import FramedDevice
from drivers.framing import Decoded, scan_fixed

PROTOCOL = "gy-mcu90640"
HEADER = b"\x5a\x5a\x02\x06"
COLS, ROWS = 32, 24
PIXELS = COLS * ROWS
FRAME_LEN = 4 + 2 * PIXELS + 2 + 2
DEAD_ABOVE_C = 200.0
PIXEL_RANGE = (-40.0, DEAD_ABOVE_C)
AMBIENT_RANGE = (-40.0, 125.0)
SKIN_BAND_C = (30.0, 42.5)
MIN_FACE_PIXELS = 6


def command(cmd: int, arg: int) -> bytes:
    return bytes([0xA5, cmd, arg, (0xA5 + cmd + arg) & 0xFF])


CMD_QUERY = command(0x35, 0x01)
CMD_AUTO = command(0x35, 0x02)
CMD_BAUD_9600 = command(0x15, 0x01)
CMD_BAUD_115200 = command(0x15, 0x02)
CMD_BAUD_460800 = command(0x15, 0x03)
CMD_READ_EMISSIVITY = command(0x55, 0x01)


class ThermalFrame(NamedTuple):
    pixels: tuple[float, ...]  # row-major, dead pixels replaced by the frame median
    ambient_c: float
    dead: int  # how many pixels were dead in this frame


def encode(pixels: list[float], ambient_c: float) -> bytes:
    """The bytes the module sends for this image (used by the simulator and the tests)."""
    raw = [max(-32768, min(32767, round(p * 100))) for p in pixels]
    body = HEADER + struct.pack(f"<{PIXELS}h", *raw) + struct.pack("<h", round(ambient_c * 100))
    return body + struct.pack("<H", sum(body[4:]) & 0xFFFF)


def _parse(candidate: bytes) -> ThermalFrame | None:
    values = array("h")
    values.frombytes(candidate[4:4 + 2 * PIXELS + 2])
    if sys.byteorder == "big":
        values.byteswap()
    ambient = values[PIXELS] / 100.0
    if not (AMBIENT_RANGE[0] <= ambient <= AMBIENT_RANGE[1]):
        return None
    lo, hi = PIXEL_RANGE[0] * 100, PIXEL_RANGE[1] * 100
    good = [v for v in values[:PIXELS] if lo <= v <= hi]
    if len(good) < PIXELS // 2:  # a frame with under half plausible pixels is not a frame
        return None
    dead = PIXELS - len(good)
    if dead:
        med = statistics.median_low(good)
        pixels = tuple((v if lo <= v <= hi else med) / 100.0 for v in values[:PIXELS])
    else:
        pixels = tuple(v / 100.0 for v in values[:PIXELS])
    return ThermalFrame(pixels, ambient, dead)


def decode(buf: bytes, final: bool = False) -> Decoded[ThermalFrame]:
    """Pure framer: frames found in ``buf`` and the number of bytes consumed."""
    return scan_fixed(buf, HEADER, FRAME_LEN, _parse, final)


def face_temperature(pixels: tuple[float, ...], band: tuple[float, float] = SKIN_BAND_C) -> float | None:
    """Mean of the hottest 2x2 window inside the largest connected blob of skin-temperature pixels, or None."""
    lo, hi = band
    skin = [lo <= p <= hi for p in pixels]
    seen = [False] * PIXELS
    best: list[int] = []
    for start in range(PIXELS):
        if not skin[start] or seen[start]:
            continue
        blob, stack = [], [start]
        seen[start] = True
        while stack:
            k = stack.pop()
            blob.append(k)
            r, c = divmod(k, COLS)
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < ROWS and 0 <= cc < COLS:
                    j = rr * COLS + cc
                    if skin[j] and not seen[j]:
                        seen[j] = True
                        stack.append(j)
        if len(blob) > len(best):
            best = blob
    if len(best) < MIN_FACE_PIXELS:
        return None
    members = set(best)
    top = None
    for k in best:
        r, c = divmod(k, COLS)
        if r + 1 >= ROWS or c + 1 >= COLS:
            continue
        window = (k, k + 1, k + COLS, k + COLS + 1)
        if all(w in members for w in window):
            mean = sum(pixels[w] for w in window) / 4
            if top is None or mean > top:
                top = mean
    if top is None:  # a blob too thin for a 2x2 window: its hottest quarter
        vals = sorted((pixels[k] for k in best), reverse=True)
        top = sum(vals[: max(1, len(vals) // 4)]) / max(1, len(vals) // 4)
    return round(top, 2)


class GyMcu90640(FramedDevice[ThermalFrame]):
    PROTOCOL = PROTOCOL
    DEFAULT_BAUD = 115200

    def __init__(self, port: serial.SerialBase, mode: str = "continuous"):
        super().__init__(port, decode)
        if mode not in ("continuous", "query"):
            raise ValueError("mode must be 'continuous' or 'query'")
        self.mode = mode
        self.last_frame: ThermalFrame | None = None

    def start(self) -> None:
        if self.mode == "continuous":
            self.write(CMD_AUTO)

    def samples(self, timeout: float = 0.1) -> list[Sample]:
        if self.mode == "query":
            self.write(CMD_QUERY)
        frames = self.read_frames(max(timeout, 0.3) if self.mode == "query" else timeout)
        now = time.time()
        out = []
        for f in frames:
            self.last_frame = f
            face = face_temperature(f.pixels)
            # No face in view: the scene's median stands for the background the presence detector compares with.
            obj = face if face is not None else round(statistics.median(f.pixels), 2)
            out.append(Sample(obj, f.ambient_c, now))
        return out
