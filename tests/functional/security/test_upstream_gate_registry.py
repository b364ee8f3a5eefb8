"""Whoever has one gate's database password (the README's station role, bound to its gate) cannot move another gate's
registry row upstream (upstream migration u0015): south's ``last_sync_at`` (the bureau would count south as reported,
the other gates would believe south sent everything) and ``last_seq`` (south's next screenings taken for re-sends)
stay as south left them; the gate's own sync still keeps its own row. Against a real PostgreSQL."""
import psycopg
import pytest

from storage import upstream as up
from storage.log import ScreeningLog
from storage.sync import Sync
from tests.functional.attacks.bureau_roles_setup import station_role
from tests.pg import unavailable_reason
from tests.support import fill_log

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
SCHOOL = "school-7"
MOVE = ("UPDATE stations SET last_sync_at = 4102444800, last_seq = 1000000000 "
        "WHERE school_id = %s AND station_id = %s")


@pytest.fixture
def upstream(pg):
    url = pg.create_db("registry")
    engine = up.make_upstream_engine(url)
    up.upgrade(engine)
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:  # south, registered by its own station before
        conn.execute("INSERT INTO schools (school_id, name, expected_stations, created_at) VALUES (%s, 'x', 2, 0)",
                     (SCHOOL,))
        conn.execute("INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, "
                     "last_seq) VALUES (%s, 'south', 'f-south', 0, 100, 42)", (SCHOOL,))
    return url


def registry(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        return {st: (at, seq) for st, at, seq in conn.execute(
            "SELECT station_id, last_sync_at, last_seq FROM stations WHERE school_id = %s", (SCHOOL,))}


def as_role(url: str, sql: str, params) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).rowcount


def test_a_gates_role_moves_its_own_registry_row_and_never_another_gates(upstream, tmp_path):
    north = station_role(upstream, "gate_north", SCHOOL, station="north")
    fill_log(tmp_path / "north.db", 30, station_id="north")
    with ScreeningLog(tmp_path / "north.db") as log:  # north's own sync, under its role: registers, sends, notes
        sync = Sync(log, north, school_id=SCHOOL)
        assert sync.once().sent >= 30
        sync.close()
    assert registry(upstream)["north"][1] == 30 and registry(upstream)["south"] == (100, 42)
    assert as_role(north, MOVE, (SCHOOL, "south")) == 0  # the other gate's row is not there for this role
    assert as_role(north, "UPDATE stations SET last_seq = 7 WHERE school_id = %s", (SCHOOL,)) == 1  # its own only
    assert registry(upstream)["south"] == (100, 42) and registry(upstream)["north"][1] == 7


def test_a_role_shared_by_a_schools_gates_keeps_what_the_readme_grants_it(upstream):
    shared = station_role(upstream, "gate_shared", SCHOOL)  # not bound to a gate (gate_role_schools.station_id NULL)
    assert as_role(shared, MOVE, (SCHOOL, "south")) == 1
    assert registry(upstream)["south"] == (4102444800, 1000000000)
