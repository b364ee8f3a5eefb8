"""The GY-MCU90614 device: continuous or query mode over any pyserial port."""
from __future__ import annotations

import time

import serial

from drivers import gy_mcu90614 as proto
from drivers.base import Sample
from drivers.device import FramedDevice


class GyMcu90614(FramedDevice[proto.GyFrame]):
    PROTOCOL = proto.PROTOCOL
    DEFAULT_BAUD = 9600
    QUERY_INTERVAL_S = 0.11  # the MCU wants query mode polled at under 10 Hz

    def __init__(self, port: serial.SerialBase, mode: str = "continuous"):
        super().__init__(port, proto.decode)
        if mode not in ("continuous", "query"):
            raise ValueError("mode must be 'continuous' or 'query'")
        self.mode = mode
        self._next_query = 0.0

    def start(self) -> None:
        self.write(proto.CMD_CONTINUOUS if self.mode == "continuous" else proto.CMD_AUTO_OFF)

    def query(self, timeout: float = 0.3) -> proto.GyFrame | None:
        self.write(proto.CMD_QUERY)
        frames = self.read_frames(timeout)
        return frames[-1] if frames else None

    def samples(self, timeout: float = 0.1) -> list[Sample]:
        if self.mode == "query":
            wait = self._next_query - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, timeout))
                return []
            self._next_query = time.monotonic() + self.QUERY_INTERVAL_S
            frame = self.query(timeout=max(timeout, 0.2))
            frames = [frame] if frame else []
        else:
            frames = self.read_frames(timeout)
        now = time.time()
        return [Sample(f.object_c, f.ambient_c, now) for f in frames]
