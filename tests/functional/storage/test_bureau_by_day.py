"""`gate bureau daily` at scale reads one day and nothing more, on a real PostgreSQL, under the README's read-only
bureau role: the day's counts come from the per-school daily rollup (``school_days``, u0012) found through its day
index (u0014), never from the screenings; the late list reads no screenings either; a school's drill-down reads that
school's rows only, and its screenings from that one day's partition only (partition pruning), whatever else the
upstream holds."""
import datetime as dt
import re

import pytest
from sqlalchemy import event, text

from storage import bureau, partitions
from storage import upstream as up
from tests.pg import unavailable_reason
from tests.support import ROOT

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
SCHOOLS, DAYS = 200, 30
LAST = dt.date(2026, 11, 27)
FIRST = LAST - dt.timedelta(days=DAYS - 1)
# one screening a school and day, through the table (the rollup's trigger fires as for a sync); every 7th a fever
SCREENINGS = """
INSERT INTO screenings (school_id, id, station_id, seq, created_at, day, entrant_id, operator, follows, decision,
                        reasons, message, threshold_c, temperature_c, mask, readings, prev_hash, row_hash, session)
SELECT 'S-' || lpad((g % :schools)::text, 3, '0'), 'r' || g, 'S-' || lpad((g % :schools)::text, 3, '0') || '-g0', g,
       0, CAST(:first AS date) + g / :schools, 'P1', 'duty', NULL,
       CASE WHEN g % 7 = 0 THEN 'deny' ELSE 'admit' END,
       CASE WHEN g % 7 = 0 THEN '["fever-confirmed"]' ELSE '["normal"]' END,
       'ok', 37.3, 36.5, '{}', '[]', 'p', 'h', 'morning'
FROM generate_series(0, :n - 1) g
"""


def bureau_role(url: str, db: str) -> str:
    """The README's read-only bureau role (renamed for this server), made as written; its URL."""
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("<!-- bureau-grants -->")[1]
    sql = re.search(r"```sql\n(.*?)```", block, re.S).group(1)
    engine = up.make_upstream_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql.replace("gate_bureau", "day_bureau").replace("DATABASE screening", f"DATABASE {db}"))
    engine.dispose()
    return url.replace("postgres@", "day_bureau@", 1)


def sent_by(engine, call) -> list[tuple[str, object]]:
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements


def plan_of(engine, statement: str, parameters) -> str:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN " + statement, parameters)
        return "\n".join(r[0] for r in cur.fetchall())
    finally:
        raw.close()


@pytest.fixture(scope="module")
def district(pg):
    url = pg.create_db("bureau_by_day")
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    partitions.maintain(engine, FIRST, ahead_days=DAYS - 1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schools (school_id, name, expected_stations, created_at) "
                          "SELECT 'S-' || lpad(i::text, 3, '0'), 'School ' || i, 1, 0 "
                          "FROM generate_series(0, :n - 1) i"), {"n": SCHOOLS})
        conn.execute(text("INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, "
                          "last_seq) SELECT school_id, school_id || '-g0', 'f', 0, 0, 0 FROM schools"))
        conn.execute(text(SCREENINGS), {"schools": SCHOOLS, "first": FIRST, "n": SCHOOLS * DAYS})
        conn.execute(text("INSERT INTO daily_reports (school_id, id, station_id, day, created_at, content) "
                          "SELECT school_id, md5(school_id), school_id || '-g0', :d, 0, '{\"zero_report\": false}' "
                          "FROM schools WHERE school_id >= 'S-010'"), {"d": LAST.isoformat()})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()
    reader = bureau.reader(bureau_role(url, "bureau_by_day"))
    yield reader
    reader.dispose()


def test_the_daily_table_reads_the_days_rollup_rows_through_its_index_and_no_screening(district):
    now = dt.datetime.combine(LAST, dt.time(10, 0)).timestamp()
    shown = []
    statements = sent_by(district, lambda: shown.extend(bureau.schools_on(district, LAST, now)))
    assert not [s for s, _ in statements if re.search(r"\bscreenings\b", s)]
    rollup = [(s, p) for s, p in statements if "school_days" in s]
    assert len(rollup) == 1
    plan = plan_of(district, *rollup[0])
    assert "ix_up_school_days_day" in plan and "Seq Scan on school_days" not in plan, plan
    # the figures are the day's: one screening a school, a fever every 7th screening of the run
    assert len(shown) == SCHOOLS and all(s.screened == 1 for s in shown)
    fevers = {f"S-{g % SCHOOLS:03d}" for g in range(SCHOOLS * (DAYS - 1), SCHOOLS * DAYS) if g % 7 == 0}
    assert {s.school_id for s in shown if s.confirmed_fevers == 1} == fevers
    assert sum(s.confirmed_fevers for s in shown) == len(fevers)


def test_the_late_list_reads_no_screening(district):
    now = dt.datetime.combine(LAST, dt.time(10, 0)).timestamp()
    late = []
    statements = sent_by(district, lambda: late.extend(bureau.late(district, LAST, now)))
    assert [r["school_id"] for r in late] == [f"S-{i:03d}" for i in range(10)]
    assert statements and not [s for s, _ in statements if re.search(r"\bscreenings\b", s)]


def test_a_schools_drill_down_reads_that_days_partition_only(district):
    now = dt.datetime.combine(LAST, dt.time(10, 0)).timestamp()
    found = []
    statements = sent_by(district, lambda: found.append(bureau.detail(district, "S-042", LAST, now)))
    assert [(g["station_id"], g["screenings"]) for g in found[0].gates] == [("S-042-g0", 1)]
    assert [s["screened"] for s in found[0].sessions] == [1]
    # the school's row is the one the whole table shows, read for that school alone (not a province's table)
    assert found[0].school == [s for s in bureau.schools_on(district, LAST, now) if s.school_id == "S-042"][0]
    for statement, parameters in statements:
        if re.search(r"\b(schools|school_days|daily_reports|stations|cases|screenings)\b", statement):
            assert "S-042" in parameters.values(), statement
    on_screenings = [(s, p) for s, p in statements if re.search(r"\bscreenings\b", s)]
    assert len(on_screenings) == 2  # per gate, per session
    for statement, parameters in on_screenings:
        scanned = set(re.findall(r"\bscreenings_(?:p\d{8}|default)\b", plan_of(district, statement, parameters)))
        assert scanned == {f"screenings_p{LAST:%Y%m%d}"}
