"""The bureau's reading at scale (the --big and --province parts of bench/upstream_scale.py), against a PostgreSQL
server started there.

big: BIG screenings generated straight into PostgreSQL through ``INSERT INTO screenings`` (a district's year: 100
schools, 2 gates, 365 day partitions), so the per-school daily rollup (``school_days``, u0012) is filled by its
trigger exactly as a sync's COPY or INSERT fills it; the rollup is then checked against counting the 10 M screenings.
`gate bureau daily` and the late list are timed (median of ROUNDS) as the owner, under the README's read-only bureau
role (row-level security applies), and whole (``gate.cli.main``, in this process); the drill-down into a school and
the 7-day trend too; and `gate bureau daily` as a new process (start-up and imports included). Every statement they send is EXPLAIN ANALYZEd under the bureau's role: the tables and
partitions it reads (the day's partition only: pruning).
province: N screenings of one day across 20,000 schools; the day's counts from the rollup against counting the
screenings, `gate bureau daily`, and one school's drill-down.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import statistics
import time
from pathlib import Path

from sqlalchemy import event, text

from storage import bureau, partitions
from storage import upstream as up

ROOT = Path(__file__).resolve().parents[1]
GENERATE = """
INSERT INTO screenings (school_id, id, station_id, seq, created_at, day, entrant_id, operator, follows, decision,
                        reasons, message, threshold_c, temperature_c, mask, readings, prev_hash, row_hash, session)
SELECT 'S-' || lpad((g % :schools)::text, 4, '0'), md5(g::text)::uuid::text,
       'S-' || lpad((g % :schools)::text, 4, '0') || '-g' || (g / :schools % 2), g,
       extract(epoch FROM (:first + (g / :per_day)) + time '07:30') + (g % 3600),
       :first + (g / :per_day), 'P' || (g % 2000), 'duty', CASE WHEN g % 211 = 0 THEN md5((g - 1)::text) END,
       CASE WHEN g % 997 = 0 THEN 'deny' WHEN g % 1499 = 0 THEN 'deny' ELSE 'admit' END,
       CASE WHEN g % 997 = 0 THEN '["fever-confirmed"]' WHEN g % 1499 = 0 THEN '["no-mask"]' ELSE '["normal"]' END,
       'ok', 37.3, 36.5, '{}', '[]', 'p', 'h', 'morning'
FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) g
"""
# What the rollup must hold: the u0012 trigger's figures, counted from the screenings themselves.
COUNTED = """SELECT school_id, day, sum(CASE WHEN follows IS NULL THEN 1 ELSE 0 END) AS screened,
                    sum(CASE WHEN reasons LIKE '%"fever-confirmed"%' THEN 1 ELSE 0 END) AS fevers,
                    sum(CASE WHEN decision = 'deny' AND reasons LIKE '%"no-mask"%' THEN 1 ELSE 0 END) AS no_mask
             FROM screenings GROUP BY school_id, day"""
ROLLED = "SELECT school_id, day, screened, confirmed_fevers, no_mask_refusals FROM school_days"
BUREAU_ROLE = "gate_bureau"


def readme_bureau_grants(db: str) -> str:
    """The README's read-only bureau role, as written there (the database's name put in)."""
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("<!-- bureau-grants -->")[1]
    sql = re.search(r"```sql\n(.*?)```", block, re.S).group(1)
    return sql.replace("DATABASE screening", f'DATABASE "{db}"')


def medians(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def generate(engine, schools: int, total: int, first: dt.date, per_day: int, step: int = 1_000_000,
             width: int = 4) -> None:
    """``total`` screenings through ``INSERT INTO screenings`` (the rollup's trigger fires, as for a sync)."""
    for lo in range(0, total, step):
        with engine.begin() as conn:
            conn.execute(text(GENERATE.replace("4, '0')", f"{width}, '0')")),
                         {"schools": schools, "first": first, "per_day": per_day, "lo": lo,
                          "hi": min(total, lo + step) - 1})


def rollup_check(engine) -> dict:
    """The rollup against counting every screening (both ways: nothing missing, nothing extra, nothing off)."""
    with engine.connect() as conn:
        differ = conn.execute(text(f"SELECT count(*) FROM (({COUNTED}) EXCEPT ({ROLLED})) a")).scalar_one() + \
            conn.execute(text(f"SELECT count(*) FROM (({ROLLED}) EXCEPT ({COUNTED})) b")).scalar_one()
        rows, screened = conn.execute(text("SELECT count(*), sum(screened) FROM school_days")).one()
        triggers = conn.execute(text("SELECT count(*) FROM pg_trigger WHERE tgname = 'gate_roll_up' "
                                     "AND tgenabled <> 'D'")).scalar_one()
    return {"rollup_rows": rows, "rollup_screened": int(screened or 0), "rollup_rows_differing": differ,
            "rollup_equals_counting": differ == 0 and rows > 0, "rollup_trigger_enabled": triggers == 1}


def explained(engine, calls) -> list[dict]:
    """Each statement ``calls`` send, EXPLAIN ANALYZEd on ``engine``: the tables and partitions it reads."""
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "pg_catalog" not in statement \
                and up.VERSION_TABLE not in statement and statement not in [s for s, _ in statements]:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        for call in calls:
            call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in statements:
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, params)
            plan = [r[0] for r in cur.fetchall()]
            words = {w for line in plan for w in re.split(r"[\s(),]+", line)}
            plans.append({"statement": " ".join(statement.split())[:160],
                          "reads": sorted(w for w in words if w in ("school_days", "daily_reports", "schools",
                                                                    "stations", "cases", "screenings",
                                                                    "gate_role_schools", "gate_upstream_identity")),
                          "partitions_scanned": sorted(w for w in words
                                                       if re.fullmatch(r"screenings_(p\d{8}|default)", w)),
                          "plan": plan})
        raw.rollback()
    finally:
        raw.close()
    return plans


def whole_cli(url: str, day: dt.date, rounds: int) -> list[float]:
    """`gate bureau daily --json` in this process (connecting, the schema check, the query, the JSON)."""
    from gate.cli import main

    def once():
        with contextlib.redirect_stdout(io.StringIO()):
            if main(["bureau", "daily", "--upstream", url, "--date", day.isoformat(), "--json"]) != 0:
                raise SystemExit("gate bureau daily failed under the bureau's role")
    once()
    return medians(once, rounds)


def whole_process(url: str, day: dt.date, rounds: int) -> list[float]:
    """`gate bureau daily --json` as cron or a clerk's shell starts it: a new Python process, imports and all."""
    import subprocess
    import sys

    gate = Path(sys.executable).with_name("gate")
    cmd = [str(gate), "bureau", "daily", "--upstream", url, "--date", day.isoformat(), "--json"]

    def once():
        subprocess.run(cmd, check=True, capture_output=True)
    once()
    return medians(once, rounds)


def big(pg, total: int, rounds: int) -> dict:
    url = pg.create_db("district_year")
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    schools, days = 100, 365
    last = dt.date(2026, 11, 27)
    first = last - dt.timedelta(days=days - 1)
    per_day = -(-total // days)
    partitions.maintain(engine, first, ahead_days=days - 1)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schools (school_id, name, expected_stations, created_at) "
                          "SELECT 'S-' || lpad(i::text, 4, '0'), 'School ' || i, 2, 0 "
                          "FROM generate_series(0, :n - 1) i"), {"n": schools})
        conn.execute(text("INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, "
                          "last_seq) SELECT school_id, school_id || '-g' || k, 'f', 0, 0, 0 "
                          "FROM schools, generate_series(0, 1) k"))
    generate(engine, schools, total, first, per_day)
    with engine.begin() as conn:  # 90 schools report on the last day; 10 are late
        conn.execute(text("INSERT INTO daily_reports (school_id, id, station_id, day, created_at, content) "
                          "SELECT school_id, md5(school_id), school_id || '-g0', :d, 0, "
                          "'{\"zero_report\": true, \"clusters\": []}' FROM schools WHERE school_id < 'S-0090'"),
                     {"d": last.isoformat()})
        conn.exec_driver_sql(readme_bureau_grants(url.rsplit("/", 1)[1]))
    generated = time.perf_counter() - t0
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("ANALYZE"))
        count = conn.execute(text("SELECT count(*) FROM screenings")).scalar_one()
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
    t0 = time.perf_counter()
    check = rollup_check(engine)
    check["check_seconds"] = round(time.perf_counter() - t0, 1)
    now = dt.datetime.combine(last, dt.time(10, 0)).timestamp()
    as_bureau = url.replace("postgres@", f"{BUREAU_ROLE}@", 1)
    reader = bureau.reader(as_bureau)  # what `gate bureau` reads with: READ ONLY, row-level security applies
    out = {"screenings": count, "schools": schools, "day_partitions": days, "database_size": size,
           "generate_seconds": round(generated, 1), "rounds": rounds, **check}
    timings = {}
    for who, eng in (("owner", engine), ("bureau_role", reader)):
        bureau.schools_on(eng, last, now)  # warm: the first call pays for compiling the statements
        timings[f"{who}_daily"] = medians(lambda: bureau.schools_on(eng, last, now), rounds)
        timings[f"{who}_late"] = medians(lambda: bureau.late(eng, last, now), rounds)
    timings["bureau_role_school_detail"] = medians(lambda: bureau.detail(reader, "S-0042", last, now), rounds)
    timings["bureau_role_trend_7_days"] = medians(lambda: bureau.trend(reader, last), rounds)
    timings["whole_cli_daily"] = whole_cli(as_bureau, last, rounds)
    timings["new_process_daily"] = whole_process(as_bureau, last, max(3, rounds // 3))
    shown = bureau.schools_on(reader, last, now)
    out.update({"bureau_daily_median_ms": round(statistics.median(timings["bureau_role_daily"]), 1),
                "goal_daily_ms": 200,
                "bureau_late_median_ms": round(statistics.median(timings["bureau_role_late"]), 1),
                "goal_late_ms": 100,
                "medians_ms": {k: round(statistics.median(v), 1) for k, v in timings.items()},
                "all_ms": {k: [round(x, 1) for x in v] for k, v in timings.items()},
                "schools_shown": len(shown), "late_schools": len(bureau.late(reader, last, now)),
                "screened_shown_that_day": sum(s.screened or 0 for s in shown)})
    out["explain"] = explained(reader, [lambda: bureau.schools_on(reader, last, now),
                                        lambda: bureau.late(reader, last, now),
                                        lambda: bureau.detail(reader, "S-0042", last, now)])
    reader.dispose()
    engine.dispose()
    return out


def province(pg, total: int, rounds: int, schools: int = 20_000) -> dict:
    """One day of ``total`` screenings across ``schools`` schools (a province's schools, fewer rows each): the day's
    counts read from the daily rollup against counting the screenings, and the whole `gate bureau daily`."""
    from storage.bureau import _counts

    url = pg.create_db("province")
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    day = dt.date(2026, 11, 27)
    partitions.maintain(engine, day, ahead_days=0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schools (school_id, name, expected_stations, created_at) "
                          "SELECT 'S-' || lpad(i::text, 5, '0'), 'School ' || i, 2, 0 "
                          "FROM generate_series(0, :n - 1) i"),
                     {"n": schools})
        conn.execute(text("INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, "
                          "last_seq) SELECT school_id, school_id || '-g' || k, 'f', 0, 0, 0 "
                          "FROM schools, generate_series(0, 1) k"))
        conn.execute(text("INSERT INTO daily_reports (school_id, id, station_id, day, created_at, content) "
                          "SELECT school_id, md5(school_id), school_id || '-g0', :d, 0, "
                          "'{\"zero_report\": true, \"clusters\": []}' FROM schools WHERE school_id < 'S-18000'"),
                     {"d": day.isoformat()})
    generate(engine, schools, total, day, total, step=total, width=5)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    counting = text("SELECT school_id, sum(CASE WHEN follows IS NULL THEN 1 ELSE 0 END), "
                    "sum(CASE WHEN reasons LIKE '%\"fever-confirmed\"%' THEN 1 ELSE 0 END), "
                    "sum(CASE WHEN decision = 'deny' AND reasons LIKE '%\"no-mask\"%' THEN 1 ELSE 0 END) "
                    "FROM screenings WHERE day = :d GROUP BY school_id").bindparams(d=day)

    def read(query):
        with engine.connect() as conn:
            return conn.execute(query).all()

    now = dt.datetime.combine(day, dt.time(10, 0)).timestamp()
    out = {"schools": schools, "screenings_that_day": total, "rounds": rounds, **rollup_check(engine),
           "counts_from_rollup_ms": round(statistics.median(medians(lambda: read(_counts(engine, day, day)),
                                                                    rounds)), 1),
           "counts_from_screenings_ms": round(statistics.median(medians(lambda: read(counting), rounds)), 1),
           "bureau_daily_ms": round(statistics.median(medians(lambda: bureau.schools_on(engine, day, now),
                                                              rounds)), 1),
           "school_detail_ms": round(statistics.median(medians(lambda: bureau.detail(engine, "S-00042", day, now),
                                                               rounds)), 1)}
    engine.dispose()
    return out


def rollup_year(pg, schools: int = 20_000, days: int = 365, rounds: int = 9) -> dict:
    """The day's counts read from a province's year of rollup rows (``schools`` x ``days``, written straight into
    ``school_days``: only the read is measured here), with the day index (u0014) and after dropping it."""
    from storage.bureau import _counts

    url = pg.create_db("rollup_year")
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    last = dt.date(2026, 11, 27)
    with engine.begin() as conn:  # in the order the days arrive: a day's rows together
        conn.execute(text("INSERT INTO school_days SELECT 'S-' || lpad(s::text, 5, '0'), CAST(:last AS date) - d, "
                          "100 + s % 50, s % 3, s % 2 FROM generate_series(0, :days - 1) d, "
                          "generate_series(0, :schools - 1) s ORDER BY d DESC, s"),
                     {"last": last, "days": days, "schools": schools})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE school_days"))
    day = last - dt.timedelta(days=days // 3)
    query = _counts(engine, day, day)
    out: dict = {"rollup_rows": schools * days, "rounds": rounds}
    for label in ("with_day_index", "without_day_index"):
        with engine.connect() as conn:
            conn.execute(query).all()  # warm
            rows = []
            timings = medians(lambda: rows.append(len(conn.execute(query).all())), rounds)
            literal = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + literal))]
        out[label] = {"rows": rows[0], "median_ms": round(statistics.median(timings), 1), "plan": plan}
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX IF EXISTS ix_up_school_days_day"))
    engine.dispose()
    return out
