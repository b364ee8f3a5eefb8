"""What one PIN hash costs (gate.pins: scrypt of the peppered PIN), and what that buys against an offline attack on
every 6-digit PIN. Prints JSON. CPU time is reported beside wall time: it barely moves when other work loads the
machine, and an attacker's core is busy with nothing else.

    python bench/pin_hash.py [--runs 20]
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.options import options  # noqa: E402
from gate import pins  # noqa: E402

SPACE = 10 ** 6  # every 6-digit PIN; the trivial ones refused are a few hundred of them


def main() -> None:
    args = options(__doc__, runs=20)
    pepper = os.urandom(32)
    stored = pins.hash_pin("581302", pepper)
    wall, cpu = [], []
    for _ in range(args.runs):
        w, c = time.perf_counter(), time.process_time()
        pins.matches("581302", stored, pepper)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    per_hash = statistics.median(cpu)
    print(json.dumps({
        "scrypt": pins.SCRYPT, "memory_mib": 128 * pins.SCRYPT["n"] * pins.SCRYPT["r"] // 2 ** 20,
        "runs": args.runs, "median_wall_ms": round(statistics.median(wall) * 1000, 1),
        "median_cpu_ms": round(per_hash * 1000, 1),
        "all_6_digit_pins_one_core_hours_with_the_key": round(SPACE * per_hash / 3600, 1),
        "without_the_key": "not possible: each guess needs the 256-bit pepper from the key file",
        "load_1min": round(os.getloadavg()[0], 1),
    }))


if __name__ == "__main__":
    main()
