"""Optris CT / CS series: unframed binary request / response (factory baud 115200).

Send ``01`` (object temperature) or ``02`` (head temperature) and get 2 bytes: T = (b1 * 256 + b2 - 1000) / 10.
``04`` emissivity (/1000), ``0E`` serial number. On RS-485 each request is prefixed with 0xB0 + address.
With no header or checksum, a reply is only trusted when exactly the expected bytes arrive after a flushed request.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import serial

from drivers.samples import Sample
from drivers.device import FramedDevice
from drivers.framing import Decoded

PROTOCOL = "optris-ct"
CMD_OBJECT = 0x01
CMD_HEAD = 0x02
CMD_EMISSIVITY = 0x04
CMD_SERIAL = 0x0E
REPLY_LEN = {CMD_OBJECT: 2, CMD_HEAD: 2, CMD_EMISSIVITY: 2, CMD_SERIAL: 3}
TEMPERATURE_RANGE = (-50.0, 975.0)  # the CT family's widest measuring range


class OptrisReply(NamedTuple):
    command: int
    value: float


def request(cmd: int, address: int | None = None) -> bytes:
    return bytes([cmd]) if address is None else bytes([0xB0 + address, cmd])


def encode_temperature(value_c: float) -> bytes:
    raw = round(value_c * 10) + 1000
    return bytes([(raw >> 8) & 0xFF, raw & 0xFF])


def parse_reply(cmd: int, data: bytes) -> OptrisReply | None:
    """The reply to ``cmd`` if ``data`` is exactly one well-formed, in-range reply, else None."""
    if cmd not in REPLY_LEN or len(data) != REPLY_LEN[cmd]:
        return None
    raw = int.from_bytes(data, "big")
    if cmd in (CMD_OBJECT, CMD_HEAD):
        value = (raw - 1000) / 10.0
        if not (TEMPERATURE_RANGE[0] <= value <= TEMPERATURE_RANGE[1]):
            return None
    elif cmd == CMD_EMISSIVITY:
        value = raw / 1000.0
        if not (0.1 <= value <= 1.1):
            return None
    else:
        value = float(raw)
    return OptrisReply(cmd, value)


def decode_for(cmd: int):
    """A framer for the reply to one outstanding request: it waits until the reply's length has arrived."""

    def decode(buf: bytes, final: bool = False) -> Decoded[OptrisReply]:
        need = REPLY_LEN[cmd]
        if len(buf) < need and not final:
            return Decoded([], 0)
        reply = parse_reply(cmd, buf) if len(buf) == need else None
        return Decoded([reply] if reply else [], len(buf))

    return decode


class OptrisCT(FramedDevice[OptrisReply]):
    PROTOCOL = PROTOCOL
    DEFAULT_BAUD = 115200
    REPLY_TIMEOUT_S = 0.15
    QUIET_S = 0.004  # about 45 byte times at 115200 baud

    def __init__(self, port: serial.SerialBase, mode: str = "query", address: int | None = None):
        super().__init__(port, decode_for(CMD_OBJECT))
        if address is not None and not (0 <= address <= 15):
            raise ValueError("RS-485 address must be 0–15")
        self.address = address

    def start(self) -> None:
        self.port.reset_input_buffer()

    def ask(self, cmd: int) -> float | None:
        """Send one request; the value, or None if the reply was missing, garbled or out of range."""
        self.port.reset_input_buffer()
        self._buf.clear()
        self._decode = decode_for(cmd)
        self.write(request(cmd, self.address))
        need = REPLY_LEN[cmd]
        deadline = time.monotonic() + self.REPLY_TIMEOUT_S
        data = b""
        while time.monotonic() < deadline and len(data) < need:
            data += self.port.read(need - len(data))
        # Listen a moment past the reply: trailing noise makes it ambiguous, and an ambiguous reply is dropped.
        time.sleep(self.QUIET_S)
        if self.port.in_waiting:
            data += self.port.read(self.port.in_waiting)
        reply = parse_reply(cmd, data)
        return None if reply is None else reply.value

    def read_object_temperature(self) -> float | None:
        return self.ask(CMD_OBJECT)

    def read_head_temperature(self) -> float | None:
        return self.ask(CMD_HEAD)

    def read_emissivity(self) -> float | None:
        return self.ask(CMD_EMISSIVITY)

    def read_serial_number(self) -> int | None:
        v = self.ask(CMD_SERIAL)
        return None if v is None else int(v)

    def samples(self, timeout: float = 0.1) -> list[Sample]:
        if not self.poll_due(timeout):
            return []
        obj = self.read_object_temperature()
        if obj is None:
            return []
        return [Sample(obj, self.read_head_temperature(), time.time())]
