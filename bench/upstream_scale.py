"""The upstream at scale, against PostgreSQL servers started here. Prints one JSON object.

1. copy: the sync (from a station's log through the outbox, checked, COPYed upstream, checkpoint saved) against a raw
   COPY of the same rows (in memory already, one COPY, one commit) straight into the same partitioned table, on the
   same server, in the same run; each round both, in alternating order, into fresh databases with the same
   partitions; the ratio is the median of the rounds' ratios (goal >= 0.5), with its spread. With --station-role,
   each round also syncs the same rows under a station's role as the README grants it (row-level security: no COPY
   into the table, so the staging table and INSERT ... SELECT), against the same round's raw COPY.
2. stations: N stations syncing at once into one upstream (threads, one Sync each): total rows/s, and the upstream
   holds exactly the union, without duplicates, and its rollup what counting gives; with --rollup-ab each round also
   into an upstream whose rollup trigger is off (alternating order): what the bureau's rollup costs the sync.
3. big: BIG screenings generated straight into PostgreSQL through the table (a district's year: 100 schools, 2 gates,
   365 day partitions; the daily rollup filled by its trigger as a sync fills it, then checked against counting),
   daily reports from 90 of the schools; `gate bureau daily` and the late list timed (median of ROUNDS) under the
   README's bureau role, and the EXPLAIN ANALYZE of every statement they send (bench/bureau_scale.py).
4. province (--province N): N screenings of one day across 20,000 schools; the day's counts from the bureau's daily
   rollup (school_days, upstream migration u0012) against counting the screenings, and `gate bureau daily`.
5. rollup year (--rollup-year): one day's counts read from a province's year of rollup rows (20,000 schools x 365
   days), with the day index (u0014) and without it.

    nice python bench/upstream_scale.py [--copy-rows 100000] [--stations 50 --station-rows 2000] [--big 10000000]
                                        [--station-rounds 3 --rollup-ab] [--station-role] [--province 1200000]
                                        [--rollup-year]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.bureau_scale import big, province, rollup_year  # noqa: E402
from storage import partitions  # noqa: E402
from storage import upstream as up  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from storage.sync import Sync  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402
from tests.support import fill_log  # noqa: E402


def fresh(pg: PostgresServer, name: str) -> str:
    url = pg.create_db(name)
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    engine.dispose()
    return url


ROLE = "bench_station"
GRANTS = f"""
GRANT USAGE ON SCHEMA public TO {ROLE};
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {ROLE};
GRANT UPDATE (last_sync_at, last_seq) ON stations TO {ROLE};
GRANT UPDATE (name) ON schools TO {ROLE};
INSERT INTO gate_role_schools (role_name, school_id) VALUES ('{ROLE}', 'bench');
"""


def as_station_role(url: str) -> str:
    """The database at ``url`` with the README's grants for a station role of school 'bench'; that role's URL."""
    engine = up.make_upstream_engine(url)
    with engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).first():
            conn.exec_driver_sql(f"CREATE ROLE {ROLE} LOGIN")
        conn.exec_driver_sql(GRANTS)
    engine.dispose()
    return url.replace("postgres@", f"{ROLE}@", 1)


def copy_ratio(pg: PostgresServer, work: Path, rows: int, rounds: int, station_role: bool = False) -> dict:
    db = work / "station.db"
    fill_log(db, rows)
    con = sqlite3.connect(db)
    names = [c.name for c in up.record_columns(up.screenings)]
    data = [("bench", *r) for r in con.execute(f"SELECT {', '.join(names)} FROM screenings ORDER BY seq")]
    days = {dt.date.fromisoformat(d) for (d,) in con.execute("SELECT DISTINCT day FROM screenings")}
    con.close()
    cols = ", ".join(["school_id", *names])
    raws, ours, ratios, role_ratios = [], [], [], []
    for r in range(rounds):  # each round: both into fresh databases with the same partitions made first
        url_raw, url_sync = fresh(pg, f"raw{r}"), fresh(pg, f"sync{r}")
        for url in (url_raw, url_sync):
            engine = up.make_upstream_engine(url)
            partitions.ensure(engine, days, set())
            engine.dispose()
        with sqlite3.connect(db) as c:
            c.execute("DELETE FROM sync_state")
        # The order alternates, so neither side always runs on a server warmed (or a machine loaded) by the other.
        first, second = (raw_copy, sync_copy) if r % 2 == 0 else (sync_copy, raw_copy)
        got = {first.__name__: first(url_raw if first is raw_copy else url_sync, db, data, cols),
               second.__name__: second(url_raw if second is raw_copy else url_sync, db, data, cols)}
        raws.append(got["raw_copy"])
        ours.append(got["sync_copy"])
        ratios.append(got["sync_copy"] / got["raw_copy"])
        if station_role:  # the same sync under a station's role: row-level security, so the staging path
            url_role = fresh(pg, f"role{r}")
            engine = up.make_upstream_engine(url_role)
            partitions.ensure(engine, days, set())
            engine.dispose()
            with sqlite3.connect(db) as c:
                c.execute("DELETE FROM sync_state")
            role_ratios.append(sync_copy(as_station_role(url_role), db, data, cols) / got["raw_copy"])
    out = {"rows": rows, "rounds": rounds, "ratio": round(statistics.median(ratios), 3), "goal_ratio": 0.5,
           "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
           "sync_rows_per_s": round(statistics.median(ours)), "raw_copy_rows_per_s": round(statistics.median(raws)),
           "all_ratios": [round(x, 3) for x in ratios], "all_sync": [round(x) for x in ours],
           "all_raw": [round(x) for x in raws]}
    if role_ratios:
        out["station_role_ratio"] = round(statistics.median(role_ratios), 3)
        out["station_role_all_ratios"] = [round(x, 3) for x in role_ratios]
    return out


def raw_copy(url: str, _db: Path, data: list[tuple], cols: str) -> float:
    """Rows/s of one COPY of ``data`` (already in memory) straight into the table, committed: the database's speed."""
    with psycopg.connect(url) as pc:
        t0 = time.perf_counter()
        with pc.cursor() as cur, cur.copy(f"COPY screenings ({cols}) FROM STDIN") as cp:
            for row in data:
                cp.write_row(row)
        pc.commit()
        return len(data) / (time.perf_counter() - t0)


def sync_copy(url: str, db: Path, data: list[tuple], _cols: str) -> float:
    """Rows/s of the station's sync of the same rows, from its log: reading, checks, COPY, checkpoint, all of it."""
    log = ScreeningLog(db)
    sync = Sync(log, url)
    sync.engine()  # connecting and migrating the upstream once is not the rate (registering the station is)
    t0 = time.perf_counter()
    sent = sync.once().sent
    took = time.perf_counter() - t0
    sync.close()
    log.close()
    if sent != len(data):
        raise SystemExit(f"the sync sent {sent} rows, not {len(data)}")
    return sent / took


def many_stations(pg: PostgresServer, work: Path, n: int, rows: int, rounds: int = 1, rollup_ab: bool = False) -> dict:
    """N stations syncing at once into one fresh upstream, ``rounds`` times; with ``rollup_ab`` each round also into
    one whose rollup trigger (u0012) is disabled, in alternating order: what the bureau's rollup costs the sync."""
    paths = []
    for i in range(n):
        fill_log(work / f"s{i}.db", rows, station_id=f"gate-{i:02d}")
        paths.append(work / f"s{i}.db")
    runs: dict[str, list[dict]] = {"rollup": [], "no_rollup": []}
    for r in range(rounds):
        kinds = ["rollup", "no_rollup"] if rollup_ab else ["rollup"]
        for kind in kinds if r % 2 == 0 else kinds[::-1]:
            runs[kind].append(stations_at_once(pg, paths, rollup=kind == "rollup", name=f"many{r}{kind}"))
    out = {"stations": n, "rows_each": rows, "rounds": rounds,
           "total_rows_per_s": round(statistics.median(x["rows_per_s"] for x in runs["rollup"])),
           "all_rows_per_s": [x["rows_per_s"] for x in runs["rollup"]],
           "seconds": [x["seconds"] for x in runs["rollup"]]}
    done = runs["rollup"] + runs["no_rollup"]
    out.update({k: done[0][k] for k in ("upstream_rows", "union_rows")})
    out["duplicates"] = sum(x["duplicates"] for x in done)
    out["upstream_equals_union"] = all(x["upstream_equals_union"] for x in done)
    out["rollup_equals_counting"] = all(x["rollup_equals_counting"] for x in runs["rollup"])
    out["errors"] = [e for x in done for e in x["errors"]][:3]
    if rollup_ab:
        without = round(statistics.median(x["rows_per_s"] for x in runs["no_rollup"]))
        out.update({"without_rollup_rows_per_s": without,
                    "all_without_rollup_rows_per_s": [x["rows_per_s"] for x in runs["no_rollup"]],
                    "with_over_without": round(out["total_rows_per_s"] / without, 3)})
    return out


def stations_at_once(pg: PostgresServer, paths: list[Path], rollup: bool, name: str) -> dict:
    url = fresh(pg, name)
    if not rollup:
        with psycopg.connect(url, autocommit=True) as pc:
            pc.execute("ALTER TABLE screenings DISABLE TRIGGER gate_roll_up")
    for path in paths:  # every station sends its whole log again, into this fresh upstream
        with sqlite3.connect(path) as c:
            c.execute("DELETE FROM sync_state")
    logs = [ScreeningLog(path) for path in paths]
    syncs = [Sync(log, url) for log in logs]
    n = len(syncs)
    results, errors = [0] * n, []

    def run(i: int) -> None:
        try:
            results[i] = syncs[i].once().sent
        except Exception as exc:  # noqa: BLE001 - reported in the JSON
            errors.append(f"{i}: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.perf_counter() - t0
    local = set().union(*(log.ids() for log in logs))
    with psycopg.connect(url) as pc:
        remote = [r[0] for r in pc.execute("SELECT id FROM screenings")]
        counted, rolled = pc.execute("SELECT (SELECT count(*) FROM screenings WHERE follows IS NULL), "
                                     "(SELECT coalesce(sum(screened), 0) FROM school_days)").fetchone()
    for s, log in zip(syncs, logs):
        s.close()
        log.close()
    return {"seconds": round(took, 2), "rows_per_s": round(sum(results) / took), "upstream_rows": len(remote),
            "union_rows": len(local), "duplicates": len(remote) - len(set(remote)),
            "upstream_equals_union": set(remote) == local and len(remote) == len(local),
            "rollup_equals_counting": counted == rolled, "errors": errors[:3]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copy-rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--stations", type=int, default=50)
    ap.add_argument("--station-rows", type=int, default=2000)
    ap.add_argument("--station-rounds", type=int, default=1, help="times the N stations sync at once (median)")
    ap.add_argument("--rollup-ab", action="store_true",
                    help="each stations round also into an upstream with the rollup trigger off: its cost")
    ap.add_argument("--big", type=int, default=0, help="screenings to generate for the bureau timing (e.g. 10000000)")
    ap.add_argument("--big-rounds", type=int, default=15)
    ap.add_argument("--province", type=int, default=0,
                    help="screenings of one day across 20,000 schools, for the bureau's rollup (e.g. 1200000)")
    ap.add_argument("--rollup-year", action="store_true",
                    help="the day's counts from a province's year of rollup rows, with and without the day index")
    ap.add_argument("--skip", nargs="*", default=[], choices=["copy", "stations"])
    ap.add_argument("--station-role", action="store_true",
                    help="also sync each round under a station's role (row-level security: the staging path)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-upstream-"))
    out: dict = {"benchmark": "upstream_scale"}
    pg = PostgresServer(fsync=True).init()
    try:
        if "copy" not in args.skip:
            out["copy"] = copy_ratio(pg, work, args.copy_rows, args.rounds, args.station_role)
        if "stations" not in args.skip:
            out["stations"] = many_stations(pg, work, args.stations, args.station_rows, args.station_rounds,
                                            args.rollup_ab)
    finally:
        pg.destroy()
    if args.big or args.province or args.rollup_year:
        fast = PostgresServer(fsync=False).init()  # generated data: nothing to lose, and the disk is shared
        try:
            if args.big:
                out["big"] = big(fast, args.big, args.big_rounds)
            if args.province:
                out["province"] = province(fast, args.province, 5)
            if args.rollup_year:
                out["rollup_year"] = rollup_year(fast)
        finally:
            fast.destroy()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
