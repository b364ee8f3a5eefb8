"""Rows/s purged when the configured upstream must confirm every row (identity, checkpoint, and each row's hash asked
upstream in chunks) against a purge by age alone, on the same log synced to a local PostgreSQL. Prints JSON.

    python bench/purge_rate.py [--rows 50000]
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from storage.export import purge_older_than  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from storage.retention import UpstreamCheck  # noqa: E402
from storage.sync import Sync  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402
from tests.support import fill_log as fill  # noqa: E402


def timed_purge(db: Path, url: str | None) -> tuple[int, float]:
    with ScreeningLog(db) as log:
        sync = Sync(log, url) if url else None
        t0 = time.perf_counter()
        result = purge_older_than(log, 30, station_id="bench", actor="bench", now=time.time() + 40 * 86400,
                                  upstream=UpstreamCheck(sync) if sync else None)
        seconds = time.perf_counter() - t0
        if sync:
            sync.close()
        assert log.verify().ok
    return result["rows"], seconds


def main() -> None:
    args = options(__doc__, rows=50_000)
    work = Path(tempfile.mkdtemp(prefix="bench-purge-"))
    pg = PostgresServer().init()
    try:
        url = pg.create_db("district")
        db = work / "station.db"
        fill(db, args.rows)
        with ScreeningLog(db) as log:
            sync = Sync(log, url)
            sync.once()
            sync.close()
        by_age = work / "by-age.db"
        shutil.copy(db, by_age)
        confirmed_rows, confirmed_s = timed_purge(db, url)
        age_rows, age_s = timed_purge(by_age, None)
        print(json.dumps({"benchmark": "purge_rate", "rows": args.rows,
                          "confirmed_rows": confirmed_rows, "confirmed_rows_per_s": round(confirmed_rows / confirmed_s),
                          "by_age_rows": age_rows, "by_age_rows_per_s": round(age_rows / age_s),
                          "confirmed_over_by_age_time": round(confirmed_s / age_s, 2)}))
    finally:
        pg.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
