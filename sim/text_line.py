"""A simulated text-line thermometer: a Melexis I2C-Stick, an Arduino sketch, or a bare ``T=..`` printer."""
from __future__ import annotations

from drivers import text_line as proto
from sim.device import DeviceModel


class TextLineModel(DeviceModel):
    PROTOCOL = proto.PROTOCOL
    RATE_HZ = 10.0

    def __init__(self, *args, pattern: str = "arduino", **kw):
        super().__init__(*args, **kw)
        if pattern not in proto.PRESETS:
            raise ValueError(f"the simulator speaks the presets {', '.join(proto.PRESETS)}, not {pattern!r}")
        self.preset = pattern
        self.continuous = pattern != "melexis"  # the I2C-Stick waits for ';'
        self._stamp = 0

    def handle(self, data: bytes, t: float) -> None:
        if b";" in data:
            self.continuous = True
        if b"!" in data:
            self.continuous = False
        if b"mv:3A" in data:
            self.send_frame(self.line(t))

    def line(self, t: float) -> bytes:
        st = self.scene.state(t)
        self._stamp += 1
        if self.preset == "melexis":
            text = f"mv:3A:{self._stamp:08d}:{st.ambient_c:.2f},{st.object_c:.2f}\n"
        elif self.preset == "arduino":
            text = f"Ambient = {st.ambient_c:.1f}*C\tObject = {st.object_c:.1f}*C\r\n"
        else:
            text = f"T={st.object_c:.1f}\n"
        return text.encode("ascii")

    def periodic(self, t: float) -> None:
        if self.continuous:
            self.send_frame(self.line(t))
