"""Screenings/s through the storage layer vs raw sqlite3 commits/s (WAL + synchronous=FULL, one row per
transaction), in the same run and on the same disk. Prints JSON.

    python bench/log_rate.py [--n 2000] [--dir DIR]
"""
from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from drivers.base import Reading  # noqa: E402
from domain import Decision, MaskResult, MaskState, Screening  # noqa: E402
from storage.log import ScreeningLog, screening_values  # noqa: E402


def sample(i: int) -> Screening:
    r = Reading(object_c=36.0 + (i % 15) / 10, ambient_c=22.0, source="gun-1", body_c=36.0 + (i % 15) / 10)
    return Screening("bench", (r,), MaskResult(MaskState.YES, 0.98, "camera"), Decision.ADMIT, ("normal",),
                     "Temperature normal. Please go in.", 37.3, entrant_id=f"S{i:06d}", operator="duty")


def raw_sqlite(path: Path, n: int) -> float:
    """The floor: the same row content, plain sqlite3, one INSERT and one COMMIT (fsync) per row."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    values = screening_values(sample(0))
    cols = list(values) + ["prev_hash", "row_hash"]
    con.execute(f"CREATE TABLE t (seq INTEGER PRIMARY KEY, {', '.join(cols)})")
    sql = f"INSERT INTO t ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    rows = []
    for i in range(n):
        v = screening_values(sample(i))
        rows.append(list(v.values()) + ["0" * 64, "0" * 64])
    t0 = time.perf_counter()
    for row in rows:
        con.execute("BEGIN IMMEDIATE")
        con.execute(sql, row)
        con.execute("COMMIT")
    dt = time.perf_counter() - t0
    con.close()
    return n / dt


def through_log(path: Path, n: int) -> float:
    log = ScreeningLog(path)
    items = [sample(i) for i in range(n)]
    t0 = time.perf_counter()
    for s in items:
        log.append(s)
    dt = time.perf_counter() - t0
    assert log.verify().ok and log.count() == n
    log.close()
    return n / dt


def main() -> None:
    args = options(__doc__, {"dir": "where to write (default: a temporary folder on the project's disk)"},
                   n=2000, rounds=3, dir=None)
    base = Path(args.dir or tempfile.mkdtemp(prefix="bench-log-", dir=Path(__file__).parent))
    raw, ours = [], []
    try:
        for r in range(args.rounds):  # interleaved, so disk weather hits both alike
            raw.append(raw_sqlite(base / f"raw{r}.db", args.n))
            ours.append(through_log(base / f"log{r}.db", args.n))
    finally:
        if not args.dir:
            for f in base.iterdir():
                f.unlink()
            base.rmdir()
    best_raw, best_ours = max(raw), max(ours)
    print(json.dumps({
        "benchmark": "log_rate",
        "rows_per_round": args.n,
        "rounds": args.rounds,
        "storage_screenings_per_s": round(best_ours, 1),
        "raw_sqlite3_commits_per_s": round(best_raw, 1),
        "ratio": round(best_ours / best_raw, 3),
        "goal_ratio": 0.5,
        "all_storage": [round(x, 1) for x in ours],
        "all_raw": [round(x, 1) for x in raw],
    }))


if __name__ == "__main__":
    main()
