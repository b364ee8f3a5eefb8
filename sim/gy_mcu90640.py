"""A simulated GY-MCU90640: 32x24 thermal images of the gate, a face when someone is there (hottest at the inner eye
corners), now and then a hot cup of tea in a hand, and two dead pixels."""
from __future__ import annotations

import random

from drivers import gy_mcu90640 as proto
from sim.device import DeviceModel

DEAD = (5, 700)  # pixel indices that always read 327.67 °C, like real dead pixels


class GyMcu90640Model(DeviceModel):
    PROTOCOL = proto.PROTOCOL
    RATE_HZ = 8.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.continuous = True
        self._pix = random.Random(None if self.scene.seed is None else self.scene.seed + 3)
        self._frozen: bytes | None = None

    def handle(self, data: bytes, t: float) -> None:
        for i in range(0, len(data) - 3):
            cmd = data[i:i + 4]
            if cmd == proto.CMD_QUERY:
                self.continuous = False
                self.send_frame(self.frame(t))
            elif cmd == proto.CMD_AUTO:
                self.continuous = True

    def image(self, t: float) -> tuple[list[float], float]:
        st = self.scene.state(t)
        rng = self._pix
        background = st.ambient_c + 0.8
        px = [background + rng.gauss(0, 0.08) for _ in range(proto.PIXELS)]
        if st.person is not None:
            core = st.object_c  # what this person's hottest face region reads (the scenario's value)
            for r in range(4, 17):
                for c in range(10, 22):
                    if ((r - 10) / 6.5) ** 2 + ((c - 15.5) / 6) ** 2 <= 1:
                        px[r * 32 + c] = core - 1.2 + rng.gauss(0, 0.1)
            for k in (8 * 32 + 14, 8 * 32 + 15, 9 * 32 + 14, 9 * 32 + 15):  # inner eye corners
                px[k] = core + rng.gauss(0, 0.03)
            for r in range(17, 24):  # shoulders in a winter coat
                for c in range(8, 24):
                    px[r * 32 + c] = background + 4 + rng.gauss(0, 0.2)
            if rng.random() < 0.3:  # a cup of tea: hot, small, and not a fever
                for k in (19 * 32 + 26, 19 * 32 + 27, 20 * 32 + 26, 20 * 32 + 27):
                    px[k] = 62.0
        for k in DEAD:
            px[k] = 327.67
        return px, st.ambient_c

    def frame(self, t: float) -> bytes:
        sc = self.scene.scenario
        if sc.stuck_after_s is not None and t >= sc.stuck_after_s and self._frozen is not None:
            return self._frozen  # a hung MCU repeats its last frame byte for byte
        st = self.scene.state(t)
        if not (-30.0 <= st.object_c <= 100.0):  # a glitch: the whole array reads the wild value
            return proto.encode([st.object_c] * proto.PIXELS, st.ambient_c)
        px, ambient = self.image(t)
        frame = proto.encode(px, ambient)
        if sc.stuck_after_s is not None and t >= sc.stuck_after_s:
            self._frozen = frame
        return frame

    def periodic(self, t: float) -> None:
        if self.continuous:
            self.send_frame(self.frame(t))
