"""Rows/s syncing screenings into a local PostgreSQL (started here, fsync on) vs a raw batched insert of the same rows
with the same driver (psycopg executemany, same batch size, one commit per batch), in the same run. Prints JSON.

    python bench/sync_rate.py [--rows 100000] [--batch 2000]
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
import psycopg  # noqa: E402

from tests.support import fill_log as fill  # noqa: E402
from storage import upstream  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from storage.sync import Sync  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402


def main() -> None:
    args = options(__doc__, rows=100_000, batch=2000, rounds=2)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    pg = PostgresServer(fsync=True).init()
    try:
        db = work / "station.db"
        fill(db, args.rows)
        con = sqlite3.connect(db)
        names = [c.name for c in upstream.record_columns(upstream.screenings)]
        cols = ["school_id", *names]  # a station with no school is its own school: its id
        rows = [("bench", *r) for r in con.execute(f"SELECT {', '.join(names)} FROM screenings ORDER BY seq")]
        con.close()
        sql = (f"INSERT INTO screenings ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
               f"ON CONFLICT ({', '.join(upstream.key_columns(upstream.screenings))}) DO NOTHING")
        raws, ours, ok = [], [], True
        for r in range(args.rounds):  # interleaved, each into a fresh database, so both meet the same disk
            url_raw, url_sync = pg.create_db(f"raw{r}"), pg.create_db(f"sync{r}")
            for url in (url_raw, url_sync):
                engine = upstream.make_upstream_engine(url)
                upstream.upgrade(engine)
                engine.dispose()
            # Raw: the same rows, already in memory, psycopg executemany in the same batches, a commit per batch.
            t0 = time.perf_counter()
            with psycopg.connect(url_raw) as pc:
                for i in range(0, len(rows), args.batch):
                    with pc.cursor() as cur:
                        cur.executemany(sql, rows[i:i + args.batch])
                    pc.commit()
            raws.append(len(rows) / (time.perf_counter() - t0))
            # Ours: from the station's log through the outbox, checkpoint and all.
            with sqlite3.connect(db) as c:
                c.execute("DELETE FROM sync_state")
            log = ScreeningLog(db)
            sync = Sync(log, url_sync, batch_size=args.batch)
            sync.engine()
            t0 = time.perf_counter()
            result = sync.once()
            ours.append(result.sent / (time.perf_counter() - t0))
            ok = ok and sync.verify()["ok"]
            sync.close()
            log.close()
        raw, our = max(raws), max(ours)
        print(json.dumps({"benchmark": "sync_rate", "rows": args.rows, "batch": args.batch, "rounds": args.rounds,
                          "sync_rows_per_s": round(our, 1), "raw_psycopg_executemany_rows_per_s": round(raw, 1),
                          "ratio": round(our / raw, 3), "goal_ratio": 0.5, "verified": ok, "postgres_fsync": True,
                          "all_sync": [round(x) for x in ours], "all_raw": [round(x) for x in raws]}))
    finally:
        pg.destroy()


if __name__ == "__main__":
    main()
