"""Decision latency: from the last byte of the frame that completes a person's measurement, written to a real pty,
to the decision committed in the log (WAL + FULL) and handed to the caller. Prints JSON (p50 / p99; goal p99 <= 5 ms).

    python bench/latency.py [--people 300]
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from drivers import gy_mcu90614 as gy  # noqa: E402
from gate.config import Config, SensorConfig  # noqa: E402
from gate.station import Station  # noqa: E402
from sim.port import PtyPort  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402


def main() -> None:
    args = options(__doc__, people=300)
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as d:
        port = PtyPort(Path(d) / "gy")
        sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=str(port.link))
        log = ScreeningLog(Path(d) / "lat.db")
        station = Station(Config(sensors=(sc,), mask_mode="off"), log)
        decided: list[float] = []
        stop = threading.Event()
        th = threading.Thread(target=station.run, args=(sc, stop),
                              kwargs={"on_screening": lambda s: decided.append(time.perf_counter())})
        th.start()
        time.sleep(0.3)
        last_bytes: list[float] = []
        for i in range(args.people):
            for _ in range(4):  # the background
                port.write(gy.encode(21.5, 21.0))
                time.sleep(0.004)
            for k in range(5):  # the person: the fifth present frame completes the measurement
                frame = gy.encode(36.0 + (i % 10) / 10, 21.0)
                port.write(frame[:-1])
                time.sleep(0.002)
                t = time.perf_counter()
                port.write(frame[-1:])
                if k == 4:
                    last_bytes.append(t)
                time.sleep(0.004)
            deadline = time.monotonic() + 1
            while len(decided) < len(last_bytes) and time.monotonic() < deadline:
                time.sleep(0.0005)
        stop.set()
        th.join()
        log.close()
        port.close()
    lat = sorted((dec - wrote) * 1000 for dec, wrote in zip(decided, last_bytes))
    print(json.dumps({"benchmark": "decision_latency", "people": len(lat), "missed": args.people - len(lat),
                      "p50_ms": round(statistics.median(lat), 3), "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 3),
                      "max_ms": round(lat[-1], 3), "goal_p99_ms": 5.0,
                      "path": "pty byte -> framer -> presence -> policy -> SQLite commit (WAL+FULL)"}))


if __name__ == "__main__":
    main()
