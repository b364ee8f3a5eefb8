"""A simulated Modbus RTU infrared transmitter: answers read requests for its register map, sets status bits."""
from __future__ import annotations

from pymodbus.pdu.register_message import ReadHoldingRegistersRequest, ReadInputRegistersRequest

from drivers import modbus_ir as proto
from sim.device import DeviceModel


class ModbusIrModel(DeviceModel):
    PROTOCOL = proto.PROTOCOL
    RATE_HZ = 50.0  # how often it looks at its receive buffer

    def __init__(self, *args, slave: int = 1, register_map: str = "omega", serial_number: int = 0x00C0FFEE, **kw):
        super().__init__(*args, **kw)
        self.slave = slave
        self.map = proto.REGISTER_MAPS[register_map]
        self.serial_number = serial_number
        self._rx = b""

    def registers(self, t: float) -> dict[int, int]:
        st = self.scene.state(t)
        m = self.map
        status = 0
        obj = st.object_c
        if obj < -20:
            status |= 1 << 3
        if obj > 100:
            status |= 1 << 4
        if st.ambient_c < 0:
            status |= 1 << 1
        return {
            m.serial: (self.serial_number >> 16) & 0xFFFF, m.serial + 1: self.serial_number & 0xFFFF,
            m.emissivity: 9800, m.object: proto.from_celsius(obj), m.object + 1: proto.from_celsius(obj),
            m.ambient: proto.from_celsius(st.ambient_c), m.status: status,
        }

    def handle(self, data: bytes, t: float) -> None:
        self._rx = (self._rx + data)[-512:]
        out = proto.decode_requests(self._rx, final=False)
        self._rx = self._rx[out.consumed:]
        for req in out.frames:
            if req.dev_id not in (self.slave, 255) or not isinstance(
                    req, (ReadHoldingRegistersRequest, ReadInputRegistersRequest)):
                continue
            regs = self.registers(t)
            values = [regs.get(req.address + i, 0) for i in range(req.count)]
            self.send_frame(proto.encode(proto.read_response(self.slave, values, req.function_code)))
