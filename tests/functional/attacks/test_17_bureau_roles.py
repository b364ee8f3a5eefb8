"""HOLES (a17s, issue 16, the bureau), closed by f17b (storage/bureau_access.py). Each test failed before.

H-B1  A bureau role the owner forgot to list in gate_role_schools (the README's last bureau-grants line skipped, or
      the role renamed) sees no school through row-level security, and the bureau says nobody is late:
          gate bureau late  --upstream postgresql://bur_x@district-db/screening --date 2026-11-27   # prints nothing, exit 0
          gate bureau daily --upstream postgresql://bur_x@district-db/screening --date 2026-11-27   # "2026-11-27: 0 school(s), 0 late", exit 0
      (the app `gate bureau --upstream` as that role, checked by hand: "2026-11-27 · 0 所学校 schools · 0 迟报 late
      (after 09:00) · showing 0 · ... · refreshed 10:00:00"; whereas a table it may not read is "⚠ 尚无数据 no data yet"). The cron line `gate bureau late ... || mail` sends no mail
      while a school is late. What should happen: like a station's unlisted role ("this station's database role may
      not send for school ..."), one line saying the role is not listed in gate_role_schools (the owner gives it '*'),
      exit 1, never "0 late" for a day it could not see.

H-B2  `--lock-wait`'s help says a read that waits for a table another session holds "names it in one line"; the
      line always names the screenings table, whichever is held:
          psql -c "BEGIN; LOCK TABLE daily_reports IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" &   # or stations, school_days
          gate bureau daily --upstream URL --date 2026-11-27 --lock-wait 0.5
          -> gate: bureau: the upstream's screenings table is held by another session, waited 0.5 s: ...
      What should happen: the held table is named (daily_reports, stations, school_days ...), so the district's DBA
      looks for the right holder (the owner's own "who holds the lock" line does).

H-B3  A bureau role that may not read one of the tables it reads (a table a later
upstream migration added, when ALTER DEFAULT PRIVILEGES was run by another role than the one that creates the tables,
e.g. the superuser ran the README's bureau-grants and gate_owner migrates; or a REVOKE) makes `gate bureau daily` /
`late` end as a fault of the station's own software:
    REVOKE SELECT ON school_days FROM gate_bureau;   -- or daily_reports, stations, schools, cases
    gate bureau daily --upstream postgresql://gate_bureau@district-db/screening --date 2026-11-27
    -> gate: unexpected ProgrammingError: (psycopg.errors.InsufficientPrivilege) permission denied for table
       school_days [SQL: SELECT school_days.school_id, ...]  exit 70, and a traceback appended to gate-errors.log
(`late` the same for daily_reports, stations, schools.) What should happen: one line naming the table and what the
database's owner grants (GRANT SELECT ON school_days TO gate_bureau, as the README's bureau-grants say), exit 1,
like every other upstream failure; no SQL text on the terminal."""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import bureau_role, readme_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = "2026-11-27"


@pytest.fixture(scope="module")
def district(pg):
    url = pg.create_db("a17s_bureau_holes", migrated=True)
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    return url


@pytest.fixture(scope="module")
def granted(district):
    return district, bureau_role(district, "a17s_bur_grants")


@pytest.mark.parametrize("command,table", [("daily", "school_days"), ("daily", "cases"), ("late", "daily_reports"),
                                           ("late", "stations"), ("daily", "schools")])
def test_a_table_the_bureau_may_not_read_is_named_in_one_line(granted, command, table):
    owner, url = granted
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"REVOKE SELECT ON {table} FROM a17s_bur_grants")
    try:
        done = run_gate("bureau", command, "--upstream", url, "--date", DAY)
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(f"GRANT SELECT ON {table} TO a17s_bur_grants")
    # today: exit 70, "gate: unexpected ProgrammingError: ... permission denied for table ... [SQL: SELECT ...]"
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert table in done.stderr and "unexpected" not in done.stderr and "[SQL:" not in done.stderr, done.stderr
    assert "0 late" not in done.stdout


def test_serve_names_a_table_not_granted_before_serving(granted):
    owner, url = granted
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON school_days FROM a17s_bur_grants")
    try:
        done = run_gate("bureau", "serve", "--upstream", url, "--port", "0")  # a port refused after the check
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute("GRANT SELECT ON school_days TO a17s_bur_grants")
    assert done.returncode == 1 and "GRANT SELECT ON school_days TO a17s_bur_grants" in done.stderr, done.stderr
    assert "Serving" not in done.stdout and "[SQL:" not in done.stderr


def unlisted_bureau_role(owner_url, role):
    """The README's bureau-grants lines, all but the gate_role_schools one (the line a busy DBA skips)."""
    db = owner_url.rsplit("/", 1)[1]
    sql = readme_sql("bureau-grants").replace("gate_bureau", role).replace("DATABASE screening", f"DATABASE {db}")
    sql = "\n".join(line for line in sql.splitlines() if "gate_role_schools" not in line)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(sql)
    return owner_url.replace("postgres@", f"{role}@", 1)


@pytest.mark.parametrize("command", ["late", "daily"])
def test_an_unlisted_bureau_role_is_told_so_never_0_late(district, command):
    url = unlisted_bureau_role(district, f"a17s_bur_{command}")
    done = run_gate("bureau", command, "--upstream", url, "--date", DAY)
    # today: late -> exit 0, nothing printed; daily -> "2026-11-27: 0 school(s), 0 late", exit 0
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "0 late" not in done.stdout and "gate_role_schools" in done.stderr, (done.stdout, done.stderr)
    assert "sees no school" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.parametrize("table", ["daily_reports", "stations", "school_days"])
def test_the_held_table_is_the_one_named(district, table):
    with psycopg.connect(district) as holder:
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        done = run_gate("bureau", "daily", "--upstream", district, "--date", DAY, "--lock-wait", "0.5")
        holder.rollback()
    assert done.returncode == 1, done.stderr
    # today: "the upstream's screenings table is held by another session" for every table
    assert f"{table} table is held" in done.stderr or f"'{table}'" in done.stderr, done.stderr


async def test_the_app_as_an_unlisted_role_never_says_0_late_refreshed(district):
    import datetime as dt

    from gate.ui.bureau import build_bureau_app
    from storage import bureau
    from tests.support import Clock, pilot_wait_until

    url = unlisted_bureau_role(district, "a17s_bur_app")
    engine = bureau.reader(url)
    day = dt.date(2026, 11, 27)
    try:
        app = build_bureau_app(engine, day, refresh_s=3600,
                               clock=Clock(dt.datetime.combine(day, dt.time(10, 0)).timestamp()))
        async with app.run_test(size=(200, 40)) as pilot:
            status = lambda: str(app.status.render())  # noqa: E731
            assert await pilot_wait_until(pilot, lambda: "refresh" in status() or "no data" in status(), 30)
            # today: "2026-11-27 · 0 所学校 schools · 0 迟报 late (after 09:00) · showing 0 · ... · refreshed 10:00:00"
            assert "0 迟报 late" not in status() and "refreshed" not in status(), status()
            assert "看不到任何学校" in status() and "sees no school" in status() and "gate_role_schools" in status()
            assert not app.table.display and "a17s_bur_app" in str(app.no_data.render())
    finally:
        engine.dispose()


# -- f17b: the same refusals on the bureau's other commands, and what is not this case ---------------------------------

def test_an_unlisted_role_is_refused_by_export_and_serve_before_anything_is_made(district, tmp_path):
    url = unlisted_bureau_role(district, "f17b_bur_export")
    done = run_gate("bureau", "export", "--upstream", url, "--from", DAY, "--to", DAY, "--out", tmp_path / "nov",
                    "--key", tmp_path / "bureau.key")
    assert done.returncode == 1 and "gate_role_schools" in done.stderr and "'f17b_bur_export', '*'" in done.stderr
    assert not (tmp_path / "nov").exists() and "exported" not in done.stdout
    # serve's start-up check says so now, not in every browser tab (and never starts serving: port 1 is refused after)
    served = run_gate("bureau", "serve", "--upstream", url, "--port", "0")
    assert served.returncode == 1 and "sees no school" in served.stderr, served.stderr


def test_a_listed_role_of_a_district_with_no_school_yet_is_told_0_schools(pg):
    """Not the unlisted case: the role has its row ('*'); the district has declared no school yet."""
    empty = pg.create_db("f17b_bureau_empty", migrated=True)
    url = bureau_role(empty, "f17b_bur_empty")
    daily = run_gate("bureau", "daily", "--upstream", url, "--date", DAY)
    assert daily.returncode == 0 and "0 school(s), 0 late" in daily.stdout, daily.stderr
    late = run_gate("bureau", "late", "--upstream", url, "--date", DAY)
    assert late.returncode == 0 and late.stderr == "", late.stderr


def test_two_held_tables_are_both_named_with_their_one_holder(district):
    with psycopg.connect(district) as holder:
        holder.execute("LOCK TABLE daily_reports, stations IN ACCESS EXCLUSIVE MODE")
        pid = holder.info.backend_pid
        done = run_gate("bureau", "daily", "--upstream", district, "--date", DAY, "--lock-wait", "0.5")
        holder.rollback()
    assert done.returncode == 1 and "'daily_reports', 'stations' are held" in done.stderr, done.stderr
    assert done.stderr.count(f"pid {pid},") == 1 and f"pg_terminate_backend({pid})" in done.stderr, done.stderr


@pytest.mark.parametrize("table", ["screenings", "gate_upstream_identity"])
def test_an_export_of_a_table_not_granted_is_one_line_and_leaves_no_folder(granted, table, tmp_path):
    owner, url = granted
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"REVOKE SELECT ON {table} FROM a17s_bur_grants")
    try:
        done = run_gate("bureau", "export", "--upstream", url, "--from", DAY, "--to", DAY, "--out", tmp_path / "x",
                        "--key", tmp_path / "bureau.key")
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(f"GRANT SELECT ON {table} TO a17s_bur_grants")
    assert done.returncode == 1 and f"GRANT SELECT ON {table} TO a17s_bur_grants" in done.stderr, done.stderr
    assert "[SQL:" not in done.stderr and "unexpected" not in done.stderr and not (tmp_path / "x").exists()


async def test_the_app_names_the_table_held_when_a_refresh_gives_up(district):
    """--lock-wait's help for the app: a refresh "names it in one line" too (its status line), not the database's
    "canceling statement due to lock timeout"."""
    import datetime as dt

    from gate.ui.bureau import build_bureau_app
    from storage import bureau
    from tests.support import Clock, pilot_wait_until

    engine = bureau.reader(district, lock_wait_s=0.5)
    day = dt.date(2026, 11, 27)
    holder = psycopg.connect(district)
    try:
        holder.execute("LOCK TABLE daily_reports IN ACCESS EXCLUSIVE MODE")
        app = build_bureau_app(engine, day, refresh_s=3600,
                               clock=Clock(dt.datetime.combine(day, dt.time(10, 0)).timestamp()))
        async with app.run_test(size=(200, 40)) as pilot:
            status = lambda: str(app.status.render())  # noqa: E731
            assert await pilot_wait_until(pilot, lambda: "refresh failed" in status(), 30), status()
            assert "daily_reports table is held" in status() and "waited 0.5 s" in status(), status()
            assert f"pg_terminate_backend({holder.info.backend_pid})" in status() and "0 迟报 late" not in status()
    finally:
        holder.close()
        engine.dispose()
