"""Issue 16 F4 (g17): the database's owner as the README sets it up, an ordinary role (not a superuser), against a real
PostgreSQL: it migrates and maintains the upstream; when a pupil's open read of `stations` holds up its migration,
the one line names the holder's state and since when (it is a member of pg_read_all_stats, as the README grants);
without that grant the line says the state is not visible and what to grant, instead of a bare pid; the owner ends
the pupil's session with the line's own `SELECT pg_terminate_backend(N)` (pg_signal_backend), and the next run
migrates."""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import readme_sql, station_role
from tests.functional.attacks.test_16_migration_holder import before_stations_change
from tests.functional.attacks.test_16_owner_locks import migrate_to, revision
from tests.functional.attacks.test_16_station_role_days import one_line
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def owner_as_the_readme_says(pg, role: str, db: str) -> tuple[str, str]:
    """The README's owner lines run as written by the server's administrator, with the role and database named;
    (the owner's URL, the administrator's URL of that database)."""
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        for statement in readme_sql("owner-setup").replace("gate_owner", role).replace(
                "DATABASE screening", f"DATABASE {db}").split(";"):
            if statement.strip():
                conn.execute(statement)  # one by one: CREATE DATABASE runs outside a transaction
    admin = pg.url(db)
    return admin.replace("postgres@", f"{role}@", 1), admin


def maintain(owner: str) -> tuple[int, str]:
    done = run_gate("upstream", "maintain", "--upstream", owner, "--ahead", "0", "--lock-wait", "1")
    return done.returncode, one_line(done.stderr) if done.returncode else done.stdout


def test_the_readmes_owner_role_names_the_holders_state_or_what_to_grant_and_ends_the_session(pg):
    owner, admin = owner_as_the_readme_says(pg, "g17_owner", "g17_owner_db")
    with psycopg.connect(owner) as conn:
        assert not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    head, before = before_stations_change()
    migrate_to(owner, before)  # the owner's schema, one release behind
    pupil = station_role(admin, "g17_owner_pupil", "S-N")
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT * FROM stations")  # never ended
        pid = held.info.backend_pid
        code, line = maintain(owner)
        assert code == 1 and revision(admin) == before, line
        assert f"pid {pid}, role g17_owner_pupil, idle in transaction since " in line, line  # the README's grant
        assert "not visible" not in line, line
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("REVOKE pg_read_all_stats FROM g17_owner")
        code, line = maintain(owner)
        assert code == 1 and revision(admin) == before, line
        assert f"pid {pid}, role g17_owner_pupil (state not visible to this role: GRANT pg_read_all_stats TO " \
               "g17_owner)" in line, line
        assert f"SELECT pg_terminate_backend({pid})" in line, line
        with psycopg.connect(owner, autocommit=True) as conn:  # what the line says, as the owner
            assert conn.execute(f"SELECT pg_terminate_backend({pid})").fetchone()[0] is True
    finally:
        held.close()
    code, line = maintain(owner)
    assert code == 0 and revision(admin) == head, line


def test_a_station_role_is_never_told_to_be_granted_more(pg):
    """The same holder named to a station's role (its sync's lock wait): no state, and no GRANT advice for it."""
    from sqlalchemy import text

    from storage import upstream as up
    from storage.upstream_locks import holders

    owner, admin = owner_as_the_readme_says(pg, "g17_owner2", "g17_owner2_db")
    migrate_to(owner, before_stations_change()[0])
    north = station_role(admin, "g17_north", "S-N")
    south = station_role(admin, "g17_south", "S-N")
    held = psycopg.connect(south)
    engine = up.make_upstream_engine(north)
    try:
        held.execute("SELECT * FROM stations")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == "g17_north"
        said = holders(engine, ["stations"])
        assert said == f"pid {held.info.backend_pid}, role g17_south", said
    finally:
        engine.dispose()
        held.close()
