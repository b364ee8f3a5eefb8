"""Unplug the simulated thermometer again and again: how long until the station reports it offline, and how long
after it returns until readings flow again. Prints JSON. Goals: offline < 1 s, back < 2 s (README, "Health").

    python bench/unplug.py [--rounds 20]
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.options import options  # noqa: E402
from domain import Health  # noqa: E402
from drivers.sensor import Sensor  # noqa: E402
from sim.simulator import Simulator  # noqa: E402
from tests.support import poll_until  # noqa: E402


def unplug_rounds(rounds: int, workdir: Path) -> dict:
    sim = Simulator("gy-mcu90614", "normal-morning", link=workdir / "gy", seed=5).start()
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    offline_s, back_s = [], []
    try:
        poll_until(sensor, lambda s, e: len(s) >= 3)
        for _ in range(rounds):
            sim.unplug()
            t0 = time.monotonic()
            poll_until(sensor, lambda s, e: any(x.health is Health.OFFLINE for x in e))
            offline_s.append(time.monotonic() - t0)
            poll_until(sensor, lambda s, e: sensor._backoff >= sensor._backoff_max)  # away long enough to back off
            sim.plug()
            t1 = time.monotonic()
            poll_until(sensor, lambda s, e: len(s) >= 1)
            back_s.append(time.monotonic() - t1)
    finally:
        sensor.close()
        sim.stop()
    return {
        "rounds": rounds,
        "offline_s": {"median": round(statistics.median(offline_s), 3), "max": round(max(offline_s), 3), "goal": 1.0},
        "back_s": {"median": round(statistics.median(back_s), 3), "max": round(max(back_s), 3), "goal": 2.0},
        "ok": max(offline_s) < 1.0 and max(back_s) < 2.0,
    }


def main() -> None:
    args = options(__doc__, rounds=20)
    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(unplug_rounds(args.rounds, Path(d))))


if __name__ == "__main__":
    main()
