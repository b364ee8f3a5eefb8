"""a16c (issue 16, the last hour's changes): only the database's owner makes day partitions (u0017). A station role's
rows of a day not made yet wait in the default partition, said in one line, and `gate upstream maintain` files them
once, however late or often it runs; a station role or the bureau's role cannot do the owner's work; a last sync
stamped Infinity / NaN / far ahead by a station role is not believed by the bureau."""
import datetime as dt
import json

import psycopg
import pytest

from storage.partitions import name_of
from tests.functional.attacks.bureau_roles_setup import (DAY, TODAY, at, bureau_role, make_gate, station_role,
                                                          west_synced)
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

UNMADE = DAY - dt.timedelta(days=3)  # a day nobody has made a partition for (the Friday before DAY)
LATER = DAY + dt.timedelta(days=40)  # a day ahead of any maintain's 14 days


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def where_rows(url, school):
    return owner_sql(url, "SELECT tableoid::regclass::text, count(*) FROM screenings WHERE school_id = :s "
                          "GROUP BY 1 ORDER BY 1", s=school)


def ids(url, school):
    rows = [r[0] for r in owner_sql(url, "SELECT id FROM screenings WHERE school_id = :s", s=school)]
    assert len(rows) == len(set(rows)), "a record is upstream twice"
    return set(rows)


def local_ids(gate):
    import sqlite3
    with sqlite3.connect(gate.db) as db:
        return {r[0] for r in db.execute("SELECT id FROM screenings")}


@pytest.fixture
def two_schools(pg, tmp_path, request):
    url, w1 = west_synced(pg, tmp_path, "a16c_days")  # the owner's role: makes the schema
    role = f"a16c_n1_{abs(hash(request.node.name)) % 10**6}"
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", station_role(url, role, "S-N", station="n1"))
    return url, w1, n1, role


@pytest.fixture(scope="module")
def unchanged(pg, tmp_path_factory):
    """``two_schools`` built once for the tests below that must change nothing (each compares against its own
    before, so none depends on another's leftovers): north's station role has sent one screening of UNMADE."""
    work = tmp_path_factory.mktemp("a16c_unchanged")
    url, w1 = west_synced(pg, work, "a16c_unchanged")
    n1 = make_gate(work, "n1", "S-N", "北校", station_role(url, "a16c_unchanged_n1", "S-N", station="n1"))
    n1.screen_at(at(UNMADE, 7, 30), "N1")
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    return url, w1, n1


def test_a_station_roles_rows_of_an_unmade_day_wait_in_default_and_maintain_files_them_once(two_schools):
    url, w1, n1, _ = two_schools
    n1.screen_at(at(UNMADE, 7, 30), "N1")
    n1.screen_at(at(UNMADE, 7, 31), "N2")
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 0, done.stderr
    line = one_line(done.stderr)
    assert f"no day partition upstream for {UNMADE}" in line and "nothing lost" in line, line
    assert where_rows(url, "S-N") == [("screenings_default", 2)]
    for _ in range(2):  # run late, and twice
        ran = run_gate("upstream", "maintain", "--upstream", url)
        assert ran.returncode == 0, ran.stderr
        assert where_rows(url, "S-N") == [(name_of(UNMADE), 2)]
    n1.screen_at(at(UNMADE, 7, 32), "N3")  # the day is made now: straight in, no line
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 0 and "no day partition" not in done.stderr, done.stderr
    assert where_rows(url, "S-N") == [(name_of(UNMADE), 3)]
    assert ids(url, "S-N") == local_ids(n1)


def test_maintain_with_a_wrong_today_loses_and_detaches_nothing_and_a_right_run_files_the_rows(two_schools):
    url, w1, n1, _ = two_schools
    n1.screen_at(at(UNMADE, 7, 30), "N1")
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    wrong = run_gate("upstream", "maintain", "--upstream", url, "--today", str(UNMADE.replace(year=UNMADE.year - 5)), "--keep-days", "3")
    assert wrong.returncode == 0 and "Traceback" not in wrong.stderr, wrong.stderr
    assert ids(url, "S-N") == local_ids(n1) and ids(url, "S-W") == local_ids(w1)
    ahead = run_gate("upstream", "maintain", "--upstream", url, "--today", str(TODAY + dt.timedelta(days=362)), "--keep-days", "3")
    assert ahead.returncode == 2, (ahead.stdout, ahead.stderr)
    one_line(ahead.stderr)
    assert run_gate("upstream", "maintain", "--upstream", url).returncode == 0
    assert where_rows(url, "S-N") == [(name_of(UNMADE), 1)]
    assert ids(url, "S-N") == local_ids(n1) and ids(url, "S-W") == local_ids(w1)


def test_an_owners_sync_of_a_day_whose_rows_wait_in_default_loses_and_doubles_nothing(two_schools):
    url, w1, n1, _ = two_schools
    n1.screen_at(at(UNMADE, 7, 30), "N1")
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    w1.screen_at(at(UNMADE, 7, 40), "W2")  # the owner's sync must make this day; S-N's rows of it wait in default
    done = run_gate("sync", "--once", "--config", w1.cfg)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert ids(url, "S-N") == local_ids(n1) and ids(url, "S-W") == local_ids(w1)
    assert run_gate("upstream", "maintain", "--upstream", url).returncode == 0
    assert ids(url, "S-N") == local_ids(n1) and ids(url, "S-W") == local_ids(w1)
    assert {t for t, _ in where_rows(url, "S-N") + where_rows(url, "S-W")} <= {
        name_of(UNMADE), name_of(DAY)}


@pytest.mark.parametrize("argv", [
    ("upstream", "maintain"),
    ("upstream", "maintain", "--keep-days", "1"),
    ("upstream", "school", "add", "S-N", "--name", "x", "--stations", "9", "--replace"),
])
@pytest.mark.parametrize("who", ["station", "bureau"])
def test_neither_a_station_role_nor_the_bureaus_does_the_owners_work(unchanged, argv, who, request):
    url, w1, n1 = unchanged
    as_role = n1.upstream if who == "station" else bureau_role(url, f"a16c_b{abs(hash(request.node.name)) % 10**6}")
    before = owner_sql(url, "SELECT relname FROM pg_class WHERE relname LIKE 'screenings_p%' ORDER BY 1")
    schools = owner_sql(url, "SELECT * FROM schools ORDER BY school_id")
    done = run_gate(*argv, "--upstream", as_role)
    assert done.returncode == 1, (done.stdout, done.stderr)
    one_line(done.stderr)
    assert owner_sql(url, "SELECT relname FROM pg_class WHERE relname LIKE 'screenings_p%' ORDER BY 1") == before
    assert owner_sql(url, "SELECT * FROM schools ORDER BY school_id") == schools


@pytest.mark.parametrize("sql", [
    f"CREATE TABLE {name_of(LATER)} PARTITION OF screenings FOR VALUES FROM ('{LATER}') "
    f"TO ('{LATER + dt.timedelta(days=1)}')",
    f"CREATE TABLE {name_of(LATER)} (LIKE screenings)",
    f"ALTER TABLE screenings DETACH PARTITION {name_of(DAY)}",
    "ALTER TABLE screenings DETACH PARTITION screenings_default",
    f"SELECT gate_make_day('{LATER}')",
    "INSERT INTO screenings_default SELECT * FROM screenings_default",
    "SELECT count(*) FROM screenings_default",
    "DELETE FROM screenings",
    "UPDATE screenings SET decision = 'admit'",
    "TRUNCATE screenings_default",
])
def test_a_station_role_cannot_make_move_or_touch_day_partitions_by_sql(unchanged, sql):
    url, w1, n1 = unchanged
    before = (where_rows(url, "S-N"), where_rows(url, "S-W"))
    as_role = n1.upstream
    with psycopg.connect(as_role, autocommit=True) as conn:
        try:
            cur = conn.execute(sql)
            changed = cur.rowcount if not cur.description else None
        except psycopg.Error:
            changed = None
    assert not changed, f"{sql} changed {changed} row(s)"
    assert (where_rows(url, "S-N"), where_rows(url, "S-W")) == before


def bureau_row(url, when):
    done = run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json", clock=Clock(when))
    assert done.returncode == 0, done.stderr
    return {r["school_id"]: r for r in json.loads(done.stdout)}["S-N"]


@pytest.mark.parametrize("stamp", ["'Infinity'", "'NaN'", "1e300", "'-Infinity'", "-1", "{day_after} + 86401"])
def test_a_last_sync_a_station_role_stamps_out_of_reach_is_not_believed_by_the_bureau(two_schools, stamp):
    url, w1, n1, _ = two_schools
    n1.screen_at(at(DAY, 7, 30), "N1")
    assert run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(),
                    clock=Clock(at(DAY, 8, 5))).returncode == 0
    assert run_gate("sync", "--once", "--config", n1.cfg, clock=Clock(at(DAY, 8, 6))).returncode == 0
    asked = at(DAY, 16, 0)
    row = bureau_row(url, asked)
    assert row["provisional"] is True and row["zero_report"] is None, row  # not synced since 08:30 ended
    as_role = n1.upstream
    value = stamp.format(day_after=asked)
    with psycopg.connect(as_role, autocommit=True) as conn:
        assert conn.execute(f"UPDATE stations SET last_sync_at = {value} WHERE station_id = 'n1'").rowcount == 1
    row = bureau_row(url, asked)
    assert row["provisional"] is True and row["zero_report"] is None, row
    school = json.loads(run_gate("school", "report", "--upstream", url, "--school", "S-N", "--date",
                                 DAY.isoformat(), "--json", clock=Clock(asked)).stdout)
    assert school["provisional"] is True and school["zero_report"] is None, school
