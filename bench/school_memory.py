"""What the fever memory of a school with several gates costs per identified screening: ``clearances.history`` with
N records pulled from the other gates (storage.school_records), the chain already walked once (the usual case) and
walked again (right after a pull). Prints JSON.

    python bench/school_memory.py [--rows 0,500,2000] [--runs 50]
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.options import options  # noqa: E402
from storage import clearances, school_records  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402


def fill(log: ScreeningLog, n: int) -> None:
    with log.unit("the bench's pulled records") as u:
        for i in range(n):
            v = {"id": f"north/fever/{i}", "origin": "north", "origin_seq": i, "kind": "fever",
                 "entrant_id": f"P{i}", "at": float(i), "pulled_at": 1.0,
                 "content": json.dumps({"id": str(i), "entrant_id": f"P{i}"})}
            school_records.chain(log).append(u.conn, v, school_records.record_content(v))


def main() -> None:
    args = options(__doc__, rows="0,500,2000", runs=50)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.rows.split(",")):
            with ScreeningLog(Path(tmp) / f"gate-{n}.db") as log:
                fill(log, n)
                cold, warm = [], []
                for _ in range(args.runs):
                    log._school_verified = None  # as right after a pull: the chain is walked again
                    t = time.perf_counter()
                    clearances.history(log, "X1")
                    cold.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    clearances.history(log, "X1")
                    warm.append(time.perf_counter() - t)
            print(json.dumps({"pulled_rows": n, "runs": args.runs,
                              "history_median_ms": round(statistics.median(warm) * 1000, 2),
                              "after_a_pull_median_ms": round(statistics.median(cold) * 1000, 2)}), flush=True)


if __name__ == "__main__":
    main()
