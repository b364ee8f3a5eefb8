"""Each station role sees and sends only its own school's rows (row-level security, upstream migration u0010), on a
real PostgreSQL, with the README's lines for the station role and the bureau's role run as written (names changed):
two gates of school north and one of school west sync under their roles; north's role finds none of west's rows,
cannot send or update under west, cannot give itself another school, cannot read a day partition directly; the pull
between north's two gates still works under the policy; a role nobody listed is stopped before sending, in one line,
with nothing quarantined; the bureau's role still sees every school. A station role makes no day partition (u0017
dropped the owner's function that did): its rows of a day not made yet wait in the default partition, the sync
says so in one line, and maintain files them by day."""
import datetime as dt
import io
import re
import sys
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from gate.cli import main
from storage import partitions
from storage import upstream as up
from tests.functional.test_school_fevers import Gate, at, confirm_fever_at
from tests.pg import unavailable_reason
from tests.support import ROOT, Clock

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def readme_block(marker: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    return re.search(r"```sql\n(.*?)```", block, re.S).group(1)


def role_url(owner_url: str, role: str) -> str:
    return owner_url.replace("postgres@", f"{role}@", 1)


def run(url: str, sql: str, params: dict | None = None):
    engine = create_engine(up.normalise_url(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params or {})
            return result.all() if result.returns_rows else result.rowcount
    finally:
        engine.dispose()


def sync(capsys, gate) -> tuple[int, str, str]:
    capsys.readouterr()
    sys.stdin = io.StringIO("")
    code = main(["sync", "--db", str(gate.db), "--config", str(gate.cfg)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def district(pg):
    """The schema made by the owner (with one day partition), then the README's station lines for rls_north (school
    north), the same for rls_west (school west), for rls_lost without its school line, and the bureau's lines."""
    url = pg.create_db("role_schools")
    db = url.rsplit("/", 1)[1]
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    partitions.maintain(engine, dt_today(), ahead_days=0)
    station = readme_block("upstream-grants").replace("screening", db)
    bureau = readme_block("bureau-grants").replace("screening", db).replace("gate_bureau", "rls_bureau")
    lost = "\n".join(line for line in station.splitlines() if "gate_role_schools" not in line)
    plain = station  # u0017: the README grants no function that makes days (the rls_plain role of before)
    with engine.begin() as conn:
        conn.exec_driver_sql(station.replace("gate_station", "rls_north"))
        conn.exec_driver_sql(station.replace("gate_station", "rls_west").replace("'north'", "'west'"))
        conn.exec_driver_sql(lost.replace("gate_station", "rls_lost"))
        conn.exec_driver_sql(plain.replace("gate_station", "rls_plain"))
        conn.exec_driver_sql(bureau)
    engine.dispose()
    return url


def dt_today():
    return dt.date(2026, 12, 1)  # the day the gates' clock says


@pytest.fixture(scope="module")
def synced(district, tmp_path_factory):
    """north gate n1 (a confirmed fever) and west gate w1 synced under their roles."""
    work = tmp_path_factory.mktemp("schools")
    clock = Clock(at(7, 42))
    n1 = Gate(work, "n1", role_url(district, "rls_north"), clock, school="north")
    w1 = Gate(work, "w1", role_url(district, "rls_west"), clock, school="west")
    confirm_fever_at(n1, clock)
    w1.screen(36.6)
    for gate in (n1, w1):
        sys.stdin = io.StringIO("")
        assert main(["sync", "--db", str(gate.db), "--config", str(gate.cfg)]) == 0
    return district, n1, w1, clock, work


def test_a_station_role_finds_only_its_own_schools_rows(synced):
    url, *_ = synced
    north, owner, bureau = role_url(url, "rls_north"), url, role_url(url, "rls_bureau")
    assert run(owner, "SELECT count(*) FROM screenings")[0][0] == 3
    assert run(north, "SELECT DISTINCT school_id FROM screenings") == [("north",)]
    assert run(north, "SELECT count(*) FROM screenings WHERE school_id = 'west'")[0][0] == 0
    for table in ("stations", "schools", "audit_events"):
        assert {r[0] for r in run(north, f"SELECT school_id FROM {table}")} == {"north"}
    assert run(bureau, "SELECT count(*) FROM screenings")[0][0] == 3  # the bureau's role: every school
    # the rollup the bureau reads was kept by the trigger under the stations' roles: north's fever is there
    assert run(bureau, "SELECT school_id, screened, confirmed_fevers FROM school_days ORDER BY 1") == [
        ("north", 1, 1), ("west", 1, 0)]
    assert run(north, "SELECT school_id FROM school_days") == [("north",)]


def test_a_day_partition_read_directly_gives_nothing_but_to_the_owner(synced):
    url, *_ = synced
    name = partitions.name_of(dt_today())
    assert run(url, f"SELECT count(*) FROM {name}")[0][0] == 3
    assert run(role_url(url, "rls_north"), f"SELECT count(*) FROM {name}")[0][0] == 0
    assert run(role_url(url, "rls_north"), "SELECT count(*) FROM screenings_default")[0][0] == 0


@pytest.mark.parametrize("sql", [
    # a row sent under another school
    "INSERT INTO audit_events (school_id, id, station_id, seq, at, actor, action, detail, prev_hash, row_hash) "
    "VALUES ('west', 'x1', 'n1', 999, 0, 'a', 'b', '', 'p', 'h')",
    "INSERT INTO schools (school_id, name, created_at) VALUES ('east', 'forged', 0)",
    # a role giving itself another school
    "INSERT INTO gate_role_schools (role_name, school_id) VALUES ('rls_north', 'west')",
    "INSERT INTO gate_role_schools (role_name, school_id) VALUES ('rls_north', '*')",
    "UPDATE gate_role_schools SET school_id = '*'",
    # the bureau's rollup is the trigger's to write, not a station's
    "INSERT INTO school_days (school_id, day, screened, confirmed_fevers, no_mask_refusals) "
    "VALUES ('north', '2026-12-02', 1000, 0, 0)",
    "UPDATE school_days SET confirmed_fevers = 0",
    "DELETE FROM gate_role_schools",
])
def test_a_station_role_cannot_write_under_another_school(synced, sql):
    url, *_ = synced
    with pytest.raises(DBAPIError, match="row-level security|permission denied"):
        run(role_url(url, "rls_north"), sql)


def test_a_station_role_sees_its_own_line_of_the_mapping_only(synced):
    url, *_ = synced
    assert run(role_url(url, "rls_north"), "SELECT role_name, school_id FROM gate_role_schools") == [
        ("rls_north", "north")]


def test_a_station_role_cannot_touch_another_schools_registry_row(synced):
    url, *_ = synced
    before = run(url, "SELECT last_seq, last_sync_at FROM stations WHERE school_id = 'west'")
    assert run(role_url(url, "rls_north"), "UPDATE stations SET last_seq = 0, last_sync_at = 0 "
                                           "WHERE school_id = 'west'") == 0
    assert run(url, "SELECT last_seq, last_sync_at FROM stations WHERE school_id = 'west'") == before


def test_the_schools_other_gate_pulls_the_fever_resends_and_verifies_under_the_policy(synced, capsys):
    url, n1, _w1, clock, work = synced
    n2 = Gate(work, "n2", role_url(url, "rls_north"), clock, school="north")
    n2.screen(36.6, entrant="P6")
    code, out, err = sync(capsys, n2)
    assert code == 0 and "pulled 1 from the school's other gates" in out, err
    # everything sent again (checkpoint forgotten): harmless under the policy, and verify reads its own rows
    import sqlite3

    with sqlite3.connect(n1.db) as conn:
        conn.execute("UPDATE sync_state SET last_seq = 0")
    code, out, err = sync(capsys, n1)
    assert code == 0 and "quarantined 0" in out, err
    capsys.readouterr()
    assert main(["sync", "verify", "--db", str(n1.db), "--config", str(n1.cfg)]) == 0
    assert "2 rows compared" in capsys.readouterr().out
    assert run(url, "SELECT count(*) FROM screenings WHERE school_id = 'north'")[0][0] == 3


def test_a_role_nobody_listed_is_stopped_before_sending_and_nothing_is_quarantined(synced, capsys):
    url, _n1, _w1, clock, work = synced
    lost = Gate(work, "l1", role_url(url, "rls_lost"), clock, school="north")
    lost.screen(36.6)
    code, _out, err = sync(capsys, lost)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "may not send for school 'north'" in err and "gate_role_schools" in err
    import sqlite3

    with sqlite3.connect(lost.db) as conn:
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sync_state WHERE last_seq > 0").fetchone()[0] == 0
    assert run(url, "SELECT count(*) FROM stations WHERE station_id = 'l1'")[0][0] == 0


def day_clock(days_ago: int) -> Clock:
    """A gate's clock on a day this many days ago at 07:42 (the function makes days near the server's today only)."""
    day = dt.date.today() - dt.timedelta(days=days_ago)
    return Clock(time.mktime((day.year, day.month, day.day, 7, 42, 0, 0, 0, -1)))


def test_a_station_role_makes_no_day_its_rows_wait_in_the_default_partition_and_maintain_files_them(synced, capsys):
    """Before u0017 the owner's function made the day for the station role (and a pupil could hold that open)."""
    url, _n1, _w1, _clock, work = synced
    clock = day_clock(5)
    engine = up.make_upstream_engine(url)
    with engine.connect() as conn:
        assert dt.date.fromtimestamp(clock()) not in partitions.attached(conn)  # maintain has not made it
    engine.dispose()
    day = dt.date.fromtimestamp(clock())
    gate = Gate(work, "n5", role_url(url, "rls_north"), clock, school="north")  # the README's station role
    gate.screen(36.6)
    gate.screen(36.7)
    code, out, err = sync(capsys, gate)
    assert code == 0 and "quarantined 0" in out, err
    assert f"no day partition upstream for {day.isoformat()}" in err and "gate upstream maintain" in err
    assert len(err.strip().splitlines()) == 1
    engine = up.make_upstream_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM screenings_default WHERE day = :d"), {"d": day}).scalar() == 2
    engine.dispose()
    capsys.readouterr()
    assert main(["upstream", "maintain", "--upstream", url]) == 0
    engine = up.make_upstream_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM screenings_default")).scalar() == 0
        assert conn.execute(text(f"SELECT count(*) FROM {partitions.name_of(day)}")).scalar() == 2
    engine.dispose()


@pytest.mark.parametrize("day", ["2099-01-01", "1970-01-01", "today"])
def test_no_station_role_has_a_day_made_near_or_years_away(synced, day):
    url, *_ = synced
    for role in ("rls_north", "rls_plain"):
        with pytest.raises(DBAPIError, match="does not exist"):  # u0017: the owner's day maker is gone
            run(role_url(url, role), "SELECT gate_make_day(CAST(:d AS date))",
                {"d": dt.date.today().isoformat() if day == "today" else day})
    if day != "today":
        assert run(url, "SELECT to_regclass(:n)", {"n": "screenings_p" + day.replace("-", "")}) == [(None,)]
