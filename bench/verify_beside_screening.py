"""`gate screen` from another process while the station's own log object verifies a large log (the auditor's Verify):
the screening's wall time beside the verify against the same command with the log idle, in the same run. Prints JSON.

    python bench/verify_beside_screening.py [--rows 200000] [--screens 5]
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.options import options  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from tests.support import GATE, env_with_root, fill_log  # noqa: E402


def screen(db: Path) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    out = subprocess.run([GATE, "screen", "--db", str(db), "--temp", "36.6", "--mask", "yes", "--json"],
                         capture_output=True, text=True, env=env_with_root())
    return time.perf_counter() - t0, out.returncode, out.stderr.strip()[:200]


def main() -> None:
    args = options(__doc__, rows=200_000, screens=5)
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp:
        db = Path(tmp) / "gate.db"
        fill_log(db, args.rows)
        idle = [screen(db) for _ in range(args.screens)]
        beside, verify_s, during = [], [0.0], [True]
        with ScreeningLog(db) as log:
            done = threading.Event()

            def run_verify() -> None:
                t0 = time.perf_counter()
                log.verify()
                verify_s[0] = time.perf_counter() - t0
                done.set()

            threading.Thread(target=run_verify).start()
            for _ in range(args.screens):
                beside.append(screen(db))
            during[0] = not done.is_set()  # every screening finished while the verify still ran
            done.wait()
    print(json.dumps({
        "benchmark": "verify_beside_screening",
        "rows": args.rows,
        "verify_s": round(verify_s[0], 2),
        "screens_all_during_verify": during[0],
        "screen_idle_median_s": round(statistics.median(t for t, _, _ in idle), 3),
        "screen_beside_verify_median_s": round(statistics.median(t for t, _, _ in beside), 3),
        "screen_failures_beside_verify": [e for _, rc, e in beside if rc != 0],
    }))


if __name__ == "__main__":
    main()
