"""Text-line thermometers: ASCII lines matched by a regular expression with named groups ``object`` and ``ambient``.

Presets: ``melexis`` (Melexis I2C-Stick: ``mv:3A:06930451:22.25,22.88`` = address:timestamp:TA,TO; ``;`` starts
continuous output, ``!`` stops it), ``arduino`` (``Ambient = 24.1*C<TAB>Object = 36.6*C``) and ``simple`` (``T=36.5``).
Lines are bounded in length; anything that does not match is noise. Presets are searched for within a line, so bytes
of line noise in front of a reading do not lose it; the reading itself must run to the end of the line.
"""
from __future__ import annotations

import math
import re
import time
from typing import NamedTuple

import serial

from drivers.samples import Sample
from drivers.device import FramedDevice
from drivers.framing import Decoded

PROTOCOL = "text-line"
MAX_LINE = 256
TEMPERATURE_RANGE = (-70.0, 380.0)
_NUM = r"[-+]?\d{1,3}(?:\.\d{1,4})?"

PRESETS = {
    "melexis": rf"mv:[0-9A-Fa-f]{{2}}:\d+:(?P<ambient>{_NUM}),(?P<object>{_NUM})$",
    "arduino": rf"Ambient\s*=\s*(?P<ambient>{_NUM})\s*\*?\s*C\s+Object\s*=\s*(?P<object>{_NUM})\s*\*?\s*C$",
    "simple": rf"\bT\s*=\s*(?P<object>{_NUM})$",
}
START_COMMANDS = {"melexis": b";", "arduino": b"", "simple": b""}


class TextFrame(NamedTuple):
    object_c: float
    ambient_c: float | None


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A preset name or a regular expression with an ``object`` group (and optionally ``ambient``)."""
    rx = re.compile(PRESETS.get(pattern, pattern))
    if "object" not in rx.groupindex:
        raise ValueError("the pattern needs a named group (?P<object>...) for the object temperature")
    return rx


def _value(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) and TEMPERATURE_RANGE[0] <= v <= TEMPERATURE_RANGE[1] else None


def parse_line(line: str, rx: re.Pattern[str]) -> TextFrame | None:
    m = rx.search(line.strip())  # noise before a reading on the same line spoils nothing after it
    if not m:
        return None
    obj = _value(m.group("object"))
    amb = _value(m.group("ambient")) if "ambient" in rx.groupindex else None
    if obj is None or ("ambient" in rx.groupindex and m.group("ambient") is not None and amb is None):
        return None
    return TextFrame(obj, amb)


def make_decoder(pattern: str = "arduino"):
    rx = compile_pattern(pattern)

    def decode(buf: bytes, final: bool = False) -> Decoded[TextFrame]:
        """Pure framer: complete LF-terminated lines that match; over-long and undecodable lines are dropped."""
        frames: list[TextFrame] = []
        start = 0
        while True:
            end = buf.find(b"\n", start, start + MAX_LINE + 1)
            if end < 0:
                if len(buf) - start > MAX_LINE:
                    nxt = buf.find(b"\n", start + MAX_LINE)  # an endless line is noise: skip to its end
                    if nxt < 0:
                        return Decoded(frames, len(buf))
                    start = nxt + 1
                    continue
                return Decoded(frames, start)
            line = buf[start:end].decode("ascii", errors="replace")
            frame = parse_line(line, rx)
            if frame is not None:
                frames.append(frame)
            start = end + 1

    return decode


class TextLine(FramedDevice[TextFrame]):
    PROTOCOL = PROTOCOL
    DEFAULT_BAUD = 115200

    def __init__(self, port: serial.SerialBase, mode: str = "continuous", pattern: str = "arduino"):
        super().__init__(port, make_decoder(pattern))
        self.preset = pattern if pattern in PRESETS else None
        self.mode = mode

    def start(self) -> None:
        cmd = START_COMMANDS.get(self.preset or "", b"")
        if cmd:
            self.write(cmd)

    def samples(self, timeout: float = 0.1) -> list[Sample]:
        now = time.time()
        return [Sample(f.object_c, f.ambient_c, now) for f in self.read_frames(timeout)]
