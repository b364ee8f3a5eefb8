import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GATE = str(Path(sys.executable).with_name("gate"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gate.db"


@pytest.fixture
def sim_factory(tmp_path: Path):
    """Start simulators on real ptys; all are stopped at the end of the test."""
    from sim.simulator import Simulator

    started = []

    def make(protocol: str = "gy-mcu90614", scenario="normal-morning", seed: int = 1, **kw):
        sim = Simulator(protocol, scenario, link=tmp_path / f"tty-{protocol}-{len(started)}", seed=seed, **kw)
        started.append(sim)
        return sim.start()

    yield make
    for sim in started:
        sim.stop()


def env_with_root() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def poll_until(sensor, cond=lambda samples, events: False, seconds: float = 3.0):
    """Poll a Sensor until ``cond(samples, events)`` or the time is up; returns what was seen."""
    import time

    deadline = time.monotonic() + seconds
    samples, events = [], []
    while time.monotonic() < deadline:
        s, e = sensor.poll(0.05)
        samples += s
        events += e
        if cond(samples, events):
            break
    return samples, events
