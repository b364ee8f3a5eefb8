"""What the fever memory's checks cost on a big log: `gate screen --entrant ID` (its history read and the cheap
integrity check of storage.trust) on a log of N screenings, against the same command without an id. Prints JSON.

    python bench/screen_history.py [--rows 200000] [--screens 7] [--entrant S00042]

Wall time is the median of ``--screens`` runs of the command as a subprocess; ``cpu_s`` is the children's user+system
time per run. ``history_ms`` is the in-process median of ``Station.remember`` (the read and the check alone). Each
entrant of the fill has rows / 2000 screenings. Run it on the commit before storage.trust for the "before" figure.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.options import options  # noqa: E402
from gate.config import Config  # noqa: E402
from gate.station import Station  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from tests.support import env_with_root, fill_log  # noqa: E402


def screen(db: Path, *extra: str) -> tuple[float, float, int]:
    before = os.times()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "gate.cli", "screen", "--db", str(db), "--temp", "36.6",
                          "--mask", "yes", *extra], capture_output=True, text=True, env=env_with_root(), cwd=ROOT)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if out.returncode != 0:
        raise SystemExit(f"gate screen failed: {out.stderr.strip()[:300]}")
    return wall, cpu, out.returncode


def main() -> None:
    args = options(__doc__, rows=200_000, screens=7, entrant="S00042")
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp:
        db = Path(tmp) / "gate.db"
        fill_log(db, args.rows)
        with ScreeningLog(db) as log:
            station = Station(Config(station_id="bench"), log)
            times = []
            for _ in range(args.screens * 3):
                t0 = time.perf_counter()
                station.remember(args.entrant)
                times.append(time.perf_counter() - t0)
        anonymous = [screen(db) for _ in range(args.screens)]
        with_id = [screen(db, "--entrant", args.entrant) for _ in range(args.screens)]
    print(json.dumps({
        "benchmark": "screen_history",
        "rows": args.rows,
        "entrant_rows": args.rows // 2000,
        "history_ms": round(statistics.median(times) * 1000, 1),
        "screen_with_id_s": round(statistics.median(w for w, _, _ in with_id), 3),
        "screen_with_id_cpu_s": round(statistics.median(c for _, c, _ in with_id), 3),
        "screen_anonymous_s": round(statistics.median(w for w, _, _ in anonymous), 3),
        "screen_anonymous_cpu_s": round(statistics.median(c for _, c, _ in anonymous), 3),
        "load_1min": round(os.getloadavg()[0], 1),
    }))


if __name__ == "__main__":
    main()
