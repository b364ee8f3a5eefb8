"""Issue 16's named gaps G3/G4, against a real PostgreSQL: a pupil with a station's (or the bureau's) password can no
longer hold up the owner's schema migrations (the lock is the version table's, which such a role may not take; an
advisory lock's number any role may take); before the first migration, when only the advisory lock exists, the one
line names who holds it and how to end it. A pupil's transaction left open on the screenings makes `gate upstream
maintain` do what it can, say in one line what it skipped, who holds what since when and what to do, and the next run
does the rest."""
import datetime as dt

import psycopg
import pytest

from storage.partitions import name_of
from tests.functional.attacks.bureau_roles_setup import (DAY, TODAY, at, bureau_role, sql_as, station_role,
                                                          west_synced)
from tests.functional.attacks.test_16_station_role_days import one_line
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def revision(url: str) -> str:
    return sql_as(url, "SELECT version_num FROM gate_upstream_version")[0][0]


def migrate_to(url: str, rev: str) -> None:
    from alembic import command

    from storage import upstream as up

    engine = up.make_upstream_engine(url)
    try:
        with engine.begin() as conn:
            cfg = up._alembic()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, rev)
    finally:
        engine.dispose()


def head_and_before() -> tuple[str, str]:
    from alembic.script import ScriptDirectory

    from storage import upstream as up

    script = ScriptDirectory.from_config(up._alembic())
    head = script.get_current_head()
    return head, script.get_revision(head).down_revision


@pytest.mark.parametrize("who", ["station", "bureau"])
def test_a_pupil_holding_the_old_migration_lock_and_the_version_table_does_not_hold_up_the_owners_migration(
        pg, who):
    url = pg.create_db(f"g3_{who}")
    head, before = head_and_before()
    migrate_to(url, before)  # the owner's next release brings one migration more
    role = f"g3_{who}"
    pupil = station_role(url, role, "S-N") if who == "station" else bureau_role(url, role)
    with pytest.raises(psycopg.Error, match="permission denied"):  # the lock migrations take now: not a pupil's
        sql_as(pupil, "BEGIN; LOCK TABLE gate_upstream_version IN SHARE ROW EXCLUSIVE MODE")
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT pg_advisory_lock(73173)")  # the number every migration waited on before
        held.execute("SELECT version_num FROM gate_upstream_version")  # and an open read of the version table
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0", "--lock-wait", "1")
        assert done.returncode == 0, done.stderr
        assert revision(url) == head
    finally:
        held.close()


def test_before_the_first_migration_the_holder_of_the_advisory_lock_is_named_with_how_to_end_it(pg):
    url = pg.create_db("g3_first")
    pupil = url.replace("postgres@", "g3_first_pupil@", 1)
    sql_as(url, "CREATE ROLE g3_first_pupil LOGIN")  # any role of the server may connect to a new database
    held = psycopg.connect(pupil, autocommit=True)
    try:
        held.execute("SELECT pg_advisory_lock(73173)")
        pid = held.info.backend_pid
        done = run_gate("upstream", "maintain", "--upstream", url, "--lock-wait", "0.5")
        line = one_line(done.stderr)
        assert done.returncode == 1 and f"pid {pid}, role g3_first_pupil" in line, line
        assert "run the command again later" in line and f"SELECT pg_terminate_backend({pid})" in line, line
    finally:
        held.close()
    assert run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0").returncode == 0  # then it migrates


@pytest.fixture
def old_days(pg, tmp_path, request):
    """An upstream whose gate w1 sent screenings on DAY and the day after (both past a retention of one day), and a
    station role of the same school for the pupil."""
    url, west = west_synced(pg, tmp_path, "g4_old_days")
    west.screen_at(at(DAY + dt.timedelta(days=1), 7, 30), "W2")
    assert run_gate("sync", "--once", "--config", west.cfg).returncode == 0
    return url, west, station_role(url, f"g4_{abs(hash(request.node.name)) % 10**6}", "S-W")


def attached(url: str) -> set[str]:
    return {r[0] for r in sql_as(url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                      "WHERE i.inhparent = 'screenings'::regclass")}


def test_a_pupils_open_read_of_the_screenings_makes_maintain_skip_naming_who_since_when_and_the_next_run_does_it(
        old_days):
    url, _, pupil = old_days
    ahead = name_of(TODAY + dt.timedelta(days=2))
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT count(*) FROM screenings")  # every partition, the default one too; never ended
        pid = held.info.backend_pid
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "2", "--keep-days", "1",
                        "--lock-wait", "0.5")
        line = one_line(done.stderr)
        assert done.returncode == 1, done.stdout
        assert f"pid {pid}, role {pupil.split('@')[0].rsplit('/', 1)[-1]}" in line, line
        assert "idle in transaction since " in line and "skipped" in line and "screenings_default" in line, line
        assert "run gate upstream maintain again later" in line and f"pg_terminate_backend({pid})" in line, line
        assert ahead not in attached(url) and name_of(DAY) in attached(url)  # nothing half-done
    finally:
        held.close()
    again = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "2", "--keep-days", "1")
    assert again.returncode == 0 and not again.stderr, again.stderr
    assert ahead in attached(url) and name_of(DAY) not in attached(url)


def test_a_pupil_holding_one_old_day_keeps_only_that_day_from_retention_and_maintain_does_the_rest(old_days):
    url, _, pupil = old_days
    first, second = name_of(DAY), name_of(DAY + dt.timedelta(days=1))
    ahead = name_of(TODAY + dt.timedelta(days=2))
    held = psycopg.connect(pupil)
    try:
        held.execute(f"SELECT count(*) FROM {first}")  # that day's table alone (row-level security: sees none)
        pid = held.info.backend_pid
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "2", "--keep-days", "1",
                        "--lock-wait", "0.5")
        line = one_line(done.stderr)
        assert done.returncode == 1 and f"skipped 1 step(s) (detach {first})" in line, line
        assert f"pid {pid}" in line and f"pg_terminate_backend({pid})" in line, line
        assert f"detached {second}" in done.stdout, done.stdout
        assert ahead in attached(url) and first in attached(url) and second not in attached(url)
    finally:
        held.close()
    again = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "2", "--keep-days", "1")
    assert again.returncode == 0 and f"detached {first}" in again.stdout, again.stderr
    assert first not in attached(url)
