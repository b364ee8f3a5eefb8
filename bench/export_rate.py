"""Rows/s exporting screenings to CSV (pseudonymised, with manifest) vs the raw limit in the same run: the same rows
selected with sqlite3 and written by a bare csv.writer. Prints JSON.

    python bench/export_rate.py [--rows 1000000]
"""
from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from tests.support import fill_log as fill  # noqa: E402
from storage.export import export  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402


def main() -> None:
    args = options(__doc__, rows=1_000_000)
    work = Path(tempfile.mkdtemp(prefix="bench-export-", dir=Path(__file__).parent))
    try:
        db = work / "station.db"
        t0 = time.perf_counter()
        fill(db, args.rows)
        fill_s = time.perf_counter() - t0

        con = sqlite3.connect(db)
        t0 = time.perf_counter()
        with (work / "raw.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            cur = con.execute("SELECT id, created_at, station_id, entrant_id, decision, reasons, temperature_c, "
                              "operator, follows FROM screenings")
            while batch := cur.fetchmany(5000):
                w.writerows(batch)
        raw = args.rows / (time.perf_counter() - t0)
        con.close()

        log = ScreeningLog(db)
        t0 = time.perf_counter()
        m = export(log, date_from="1970-01-01", date_to="2999-12-31", fmt="csv", out_dir=work / "exp",
                   identified=False, actor="bench", station_id="bench")
        ours = m["rows"] / (time.perf_counter() - t0)
        log.close()
        print(json.dumps({"benchmark": "export_rate", "rows": m["rows"], "export_csv_rows_per_s": round(ours, 1),
                          "raw_csv_writer_rows_per_s": round(raw, 1), "ratio": round(ours / raw, 3),
                          "goal_ratio": 0.5, "fill_seconds": round(fill_s, 1)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
