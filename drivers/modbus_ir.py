"""Modbus RTU infrared transmitters (RS-485), through pymodbus' RTU framer, CRC and PDU classes.

Temperatures are signed 16-bit tenths of a degree. The default register map is the common Omega OS-MINIUSB style one;
``calex`` is the same shifted by one. Status bits: 0 measurement error, 1/2 sensor temperature low/high,
3/4 object temperature low/high.
"""
from __future__ import annotations

import time

import serial
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
)

from drivers.base import Health
from drivers.samples import Sample
from drivers.device import FramedDevice
from drivers.framing import Decoded
from drivers.modbus_maps import REGISTER_MAPS, RegisterMap  # noqa: F401  (part of this protocol's interface)

PROTOCOL = "modbus-ir"
TEMPERATURE_RANGE = (-70.0, 1000.0)


STATUS_BITS = {
    0: (Health.FAULT, "measurement error"),
    1: (Health.DEGRADED, "sensor temperature low"),
    2: (Health.DEGRADED, "sensor temperature high"),
    3: (Health.DEGRADED, "object temperature below range"),
    4: (Health.DEGRADED, "object temperature above range"),
}

_CLIENT = FramerRTU(DecodePDU(is_server=False))  # decodes responses
_SERVER = FramerRTU(DecodePDU(is_server=True))  # decodes requests (the simulator's side)


def _scan(buf: bytes, framer: FramerRTU, final: bool) -> Decoded[ModbusPDU]:
    """Find RTU frames; pymodbus tells the frame size and checks the CRC, this loop resynchronises byte by byte."""
    frames: list[ModbusPDU] = []
    i, n = 0, len(buf)
    while i < n:
        rest = buf[i:]
        if len(rest) < framer.MIN_SIZE:
            return Decoded(frames, i)
        pdu_class = framer.decoder.lookupPduClass(rest)
        size = pdu_class.calculateRtuFrameSize(rest) if pdu_class else 0
        if not pdu_class or not size or size < framer.MIN_SIZE or size > framer.MAX_SIZE:
            i += 1
            continue
        if len(rest) < size:
            if final:
                i += 1
                continue
            return Decoded(frames, i)
        crc = rest[size - 2:size]
        if not FramerRTU.check_CRC(rest[:size - 2], (crc[0] << 8) + crc[1]):
            i += 1
            continue
        try:
            pdu = framer.decoder.decode(rest[1:size - 2])
        except (ModbusException, ValueError, IndexError, KeyError, TypeError):
            pdu = None
        if pdu is None:
            i += 1
            continue
        pdu.dev_id = rest[0]
        frames.append(pdu)
        i += size
    return Decoded(frames, i)


def decode(buf: bytes, final: bool = False) -> Decoded[ModbusPDU]:
    """Pure framer for the station's side: responses found in ``buf`` and the bytes consumed."""
    return _scan(buf, _CLIENT, final)


def decode_requests(buf: bytes, final: bool = False) -> Decoded[ModbusPDU]:
    """Pure framer for the device's side (the simulator): requests found in ``buf``."""
    return _scan(buf, _SERVER, final)


def encode(pdu: ModbusPDU) -> bytes:
    return _CLIENT.buildFrame(pdu)


def to_celsius(word: int) -> float:
    return (word - 0x10000 if word & 0x8000 else word) / 10.0


def from_celsius(value: float) -> int:
    return round(value * 10) & 0xFFFF


def read_request(slave: int, address: int, count: int, function: int = 3) -> ModbusPDU:
    cls = ReadHoldingRegistersRequest if function == 3 else ReadInputRegistersRequest
    return cls(address=address, count=count, dev_id=slave)


def read_response(slave: int, registers: list[int], function: int = 3) -> ModbusPDU:
    cls = ReadHoldingRegistersResponse if function == 3 else ReadInputRegistersResponse
    return cls(registers=registers, dev_id=slave)


class ModbusIr(FramedDevice[ModbusPDU]):
    """An RS-485 infrared transmitter polled for object temperature, ambient and status."""

    PROTOCOL = PROTOCOL
    DEFAULT_BAUD = 9600

    def __init__(self, port: serial.SerialBase, mode: str = "query", slave: int = 1,
                 register_map: RegisterMap | str = "omega"):
        super().__init__(port, decode)
        if not (1 <= slave <= 255):
            raise ValueError("slave address must be 1–255 (0 is broadcast and gets no reply)")
        self.slave = slave
        self.map = REGISTER_MAPS[register_map] if isinstance(register_map, str) else register_map

    def start(self) -> None:
        self.port.reset_input_buffer()

    def request(self, pdu: ModbusPDU, timeout: float = 0.3) -> ModbusPDU | None:
        self.port.reset_input_buffer()  # a late answer to an earlier request must not pass for this one
        self._buf.clear()
        self.write(encode(pdu))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for reply in self.read_frames(deadline - time.monotonic()):
                if reply.dev_id == self.slave and (reply.function_code & 0x7F) == pdu.function_code:
                    return reply
        return None

    def read_registers(self, address: int, count: int) -> list[int] | None:
        reply = self.request(read_request(self.slave, address, count, self.map.function))
        if reply is None or isinstance(reply, ExceptionResponse) or len(reply.registers) != count:
            return None
        return list(reply.registers)

    def read_object_temperature(self) -> float | None:
        regs = self.read_registers(self.map.object, 1)
        return None if regs is None else to_celsius(regs[0])

    def read_ambient_temperature(self) -> float | None:
        regs = self.read_registers(self.map.ambient, 1)
        return None if regs is None else to_celsius(regs[0])

    def read_status(self) -> int | None:
        regs = self.read_registers(self.map.status, 1)
        return None if regs is None else regs[0]

    def read_serial_number(self) -> int | None:
        regs = self.read_registers(self.map.serial, 2)
        return None if regs is None else (regs[0] << 16) | regs[1]

    def read_emissivity(self) -> float | None:
        regs = self.read_registers(self.map.emissivity, 1)
        return None if regs is None else regs[0] / 10000.0

    def samples(self, timeout: float = 0.1) -> list[Sample]:
        if not self.poll_due(timeout):
            return []
        first = min(self.map.object, self.map.ambient, self.map.status)
        last = max(self.map.object, self.map.ambient, self.map.status)
        regs = self.read_registers(first, last - first + 1)
        if regs is None:
            return []
        obj = to_celsius(regs[self.map.object - first])
        amb = to_celsius(regs[self.map.ambient - first])
        status = regs[self.map.status - first]
        health, reason = None, ""
        for bit, (h, why) in STATUS_BITS.items():
            if status & (1 << bit) and (health is None or h is Health.FAULT):
                health, reason = h, why
        if not (TEMPERATURE_RANGE[0] <= obj <= TEMPERATURE_RANGE[1]):
            health, reason = Health.DEGRADED, f"object value {obj} °C out of range"
        return [Sample(obj, amb, time.time(), device_health=health, device_reason=reason)]
