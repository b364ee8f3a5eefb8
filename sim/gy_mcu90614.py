"""A simulated GY-MCU90614: streams frames at about 14 Hz, answers query and mode commands like the real MCU."""
from __future__ import annotations

from drivers import gy_mcu90614 as proto
from sim.device import DeviceModel


class GyMcu90614Model(DeviceModel):
    PROTOCOL = proto.PROTOCOL
    RATE_HZ = 14.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.continuous = True  # the module powers up streaming

    def handle(self, data: bytes, t: float) -> None:
        for i in range(0, len(data) - 2):
            cmd = data[i:i + 3]
            if cmd == proto.CMD_QUERY:
                self.send_frame(self.frame(t))
            elif cmd == proto.CMD_CONTINUOUS or cmd == proto.CMD_AUTO_ON:
                self.continuous = True
            elif cmd == proto.CMD_AUTO_OFF:
                self.continuous = False

    def frame(self, t: float) -> bytes:
        st = self.scene.state(t)
        obj = min(max(st.object_c, proto.OBJECT_RANGE[0]), proto.OBJECT_RANGE[1])
        return proto.encode(obj, st.ambient_c)

    def periodic(self, t: float) -> None:
        if self.continuous:
            self.send_frame(self.frame(t))
