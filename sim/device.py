"""What every simulated device shares: a pty, a scene, a clock, and the scenario's line faults."""
from __future__ import annotations

import random

from sim.port import PtyPort
from sim.scenarios import Scene


class DeviceModel:
    """Subclasses answer commands in ``handle`` and stream in ``periodic`` (called RATE_HZ times a second)."""

    PROTOCOL = ""
    RATE_HZ = 10.0

    def __init__(self, port: PtyPort, scene: Scene):
        self.port = port
        self.scene = scene
        self._rng = random.Random(None if scene.seed is None else scene.seed + 2)
        self._next = 0.0
        self._pending = b""  # the second half of a split frame
        self.frames_sent = 0

    def handle(self, data: bytes, t: float) -> None:  # pragma: no cover - protocols without commands
        pass

    def periodic(self, t: float) -> None:  # pragma: no cover - query-only devices
        pass

    def send_frame(self, frame: bytes) -> None:
        sc = self.scene.scenario
        out = self._pending
        self._pending = b""
        if sc.garbage_share:
            n = sum(1 for _ in range(len(frame)) if self._rng.random() < sc.garbage_share)
            out += bytes(self._rng.randrange(256) for _ in range(n))
        if sc.split_frames and len(frame) > 2 and self._rng.random() < 0.5:
            cut = self._rng.randrange(1, len(frame))
            out += frame[:cut]
            self._pending = frame[cut:]
        else:
            out += frame
        self.port.write(out)
        self.frames_sent += 1

    def tick(self, t: float) -> None:
        data = self.port.read()
        if data:
            self.handle(data, t)
        if self._pending:
            self.port.write(self._pending)
            self._pending = b""
        if t >= self._next:
            self._next = t + 1.0 / self.RATE_HZ
            self.periodic(t)
