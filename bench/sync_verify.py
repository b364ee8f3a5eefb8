"""Seconds `gate sync verify` (storage.sync_verify) takes to compare a log of N screenings with its upstream copy in
a local PostgreSQL (started here): when all match, and when one row in the middle was changed upstream. The copy is
loaded with COPY (not through the sync) to keep the set-up short. Prints JSON.

    python bench/sync_verify.py [--rows 1000000]
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
import psycopg  # noqa: E402

from storage import upstream  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from storage.sync import Sync  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402
from tests.support import fill_log as fill  # noqa: E402


def main() -> None:
    args = options(__doc__, rows=1_000_000)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-verify-"))
    pg = PostgresServer().init()
    try:
        db = work / "station.db"
        t0 = time.perf_counter()
        fill(db, args.rows)
        fill_s = time.perf_counter() - t0
        url = pg.create_db("district")
        upstream.upgrade(upstream.make_upstream_engine(url))
        cols = [c.name for c in upstream.screenings.columns if c.name != "school_id"]
        con = sqlite3.connect(db)
        t0 = time.perf_counter()
        with psycopg.connect(url) as pconn, pconn.cursor() as cur:
            with cur.copy(f"COPY screenings (school_id, {', '.join(cols)}) FROM STDIN") as copy:
                for row in con.execute(f"SELECT {', '.join(cols)} FROM screenings ORDER BY seq"):
                    copy.write_row(("bench", *row))  # no school in the config: the station is its own school
            cur.execute("ANALYZE screenings")
        copy_s = time.perf_counter() - t0
        con.execute("INSERT INTO sync_state (upstream, last_seq) VALUES ('bench', (SELECT max(seq) FROM outbox))")
        con.commit()
        con.close()
        with ScreeningLog(db) as log:
            sync = Sync(log, url)
            sync.engine()
            with log.engine.begin() as conn:  # the checkpoint belongs to this upstream's identity
                conn.exec_driver_sql("UPDATE sync_state SET identity = ?", (sync.identity,))
            t0, c0 = time.perf_counter(), time.process_time()
            same = sync.verify({"bench"})
            same_s, same_cpu = time.perf_counter() - t0, time.process_time() - c0
            middle = args.rows // 2
            with psycopg.connect(url, autocommit=True) as pconn:
                pconn.execute("UPDATE screenings SET decision = 'deny' WHERE seq = %s", (middle,))
            t0, c0 = time.perf_counter(), time.process_time()
            changed = sync.verify({"bench"})
            changed_s, changed_cpu = time.perf_counter() - t0, time.process_time() - c0
            sync.close()
        print(json.dumps({"benchmark": "sync_verify", "rows": args.rows, "fill_seconds": round(fill_s, 1),
                          "copy_seconds": round(copy_s, 1), "all_match_ok": same["ok"],
                          "all_match_seconds": round(same_s, 2), "all_match_station_cpu_seconds": round(same_cpu, 2),
                          "one_changed_station_cpu_seconds": round(changed_cpu, 2),
                          "load_average": os.getloadavg()[0], "one_changed_found_seq":
                          (changed["stations"]["bench"]["first"] or {}).get("seq"), "one_changed_expected": middle,
                          "one_changed_seconds": round(changed_s, 2),
                          "ranges": changed["stations"]["bench"]["ranges"],
                          "split_all_match": same["stations"]["bench"]["seconds"],
                          "split_one_changed": changed["stations"]["bench"]["seconds"]}))
    finally:
        pg.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
