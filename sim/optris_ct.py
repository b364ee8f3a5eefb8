"""A simulated Optris CT: answers 01 (object), 02 (head), 04 (emissivity) and 0E (serial number)."""
from __future__ import annotations

from drivers import optris_ct as proto
from sim.device import DeviceModel


class OptrisCTModel(DeviceModel):
    PROTOCOL = proto.PROTOCOL
    RATE_HZ = 100.0

    def __init__(self, *args, address: int | None = None, **kw):
        super().__init__(*args, **kw)
        self.address = address

    def handle(self, data: bytes, t: float) -> None:
        i = 0
        while i < len(data):
            b = data[i]
            if self.address is not None:
                if b != 0xB0 + self.address or i + 1 >= len(data):
                    i += 1
                    continue
                i += 1
                b = data[i]
            st = self.scene.state(t)
            if b == proto.CMD_OBJECT:
                self.send_frame(proto.encode_temperature(max(-50.0, min(975.0, st.object_c))))
            elif b == proto.CMD_HEAD:
                self.send_frame(proto.encode_temperature(st.ambient_c))
            elif b == proto.CMD_EMISSIVITY:
                self.send_frame((950).to_bytes(2, "big"))
            elif b == proto.CMD_SERIAL:
                self.send_frame((123456).to_bytes(3, "big"))
            i += 1
