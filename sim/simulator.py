"""Runs one simulated device on a pty in a background thread, applying the scenario's unplugs."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from sim.device import DeviceModel
from sim.gy_mcu90614 import GyMcu90614Model
from sim.gy_mcu90640 import GyMcu90640Model
from sim.modbus_ir import ModbusIrModel
from sim.optris_ct import OptrisCTModel
from sim.port import PtyPort
from sim.scenarios import SCENARIOS, Scenario, Scene
from sim.text_line import TextLineModel

MODELS: dict[str, type[DeviceModel]] = {
    m.PROTOCOL: m for m in (GyMcu90614Model, GyMcu90640Model, ModbusIrModel, OptrisCTModel, TextLineModel)}


class Simulator:
    def __init__(self, protocol: str, scenario: str | Scenario = "normal-morning", link: str | Path | None = None,
                 seed: int | None = None, tick_s: float = 0.002, options: dict | None = None,
                 pace: float = 1.0):
        if protocol not in MODELS:
            raise ValueError(f"no simulator for protocol {protocol!r}; simulated: {', '.join(MODELS)}")
        if isinstance(scenario, str):
            if scenario not in SCENARIOS:
                raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
            scenario = SCENARIOS[scenario]
        self.scene = Scene(scenario, seed, pace=pace)
        self.port = PtyPort(link)
        try:
            self.model = MODELS[protocol](self.port, self.scene, **(options or {}))
        except (TypeError, ValueError, KeyError) as exc:
            self.port.close()
            raise ValueError(f"simulator options for {protocol}: {exc}") from None
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        self.unplugs = 0

    @property
    def path(self) -> str:
        """The stable name to open: the link when there is one, else the pty itself."""
        return str(self.port.link) if self.port.link else (self.port.path or "")

    def now(self) -> float:
        return time.monotonic() - self._t0

    def start(self) -> "Simulator":
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.model.PROTOCOL}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        sc = self.scene.scenario
        next_unplug = sc.unplug_every_s
        replug_at = None
        while not self._stop.is_set():
            t = self.now()
            if next_unplug is not None and t >= next_unplug and self.port.plugged:
                self.port.unplug()
                self.unplugs += 1
                replug_at = t + sc.unplug_for_s
                next_unplug = t + sc.unplug_for_s + sc.unplug_every_s
            if replug_at is not None and t >= replug_at:
                self.port.plug()
                replug_at = None
            if self.port.plugged:
                self.model.tick(t)
            time.sleep(self.tick_s)

    def set_blackbody(self, celsius: float | None) -> None:
        """Point the sensor at a blackbody at this temperature (None: back to the gate)."""
        self.scene.blackbody_c = celsius

    def unplug(self) -> None:
        self.port.unplug()

    def plug(self) -> None:
        self.port.plug()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        self.port.close()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
