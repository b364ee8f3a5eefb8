"""Issue 16 G2 (a16d), against a real PostgreSQL: the other ways a pupil with a station role's password (the role in
the gate's own config) might write a gate's last sync or the bureau's figures by hand. Each is stamped by the
server's clock or refused: a new gate's row inserted with a stamp of its own, an upsert, COPY, the per-school
rollup the bureau reads (school_days), the role-to-school mapping, a school of its own making."""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, province, sql_as  # noqa: F401  (fixture)
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

FORGED = at(DAY, 8, 31)


def server_now(url: str) -> float:
    return float(owner_sql(url, "SELECT extract(epoch FROM clock_timestamp())")[0][0])


def stamp_of(url: str, school: str, station: str):
    return owner_sql(url, f"SELECT last_sync_at, synced_at FROM stations WHERE school_id = '{school}' "
                          f"AND station_id = '{station}'")


def test_a_gate_row_inserted_by_hand_with_its_own_stamp_is_stamped_by_the_server(province):
    url, _, west = province  # west's role is shared by its school's gates: it may register another gate
    lo = server_now(url)
    sql_as(west, "INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, last_seq, "
                 "synced_at) VALUES ('S-W', 'w-phantom', 'ffff', 1, %s, 1, %s)", (FORGED, FORGED))
    ((claimed, stamped),) = stamp_of(url, "S-W", "w-phantom")
    assert claimed == FORGED and lo <= stamped <= server_now(url)


def test_an_upsert_of_the_gates_own_row_is_stamped_by_the_server(province):
    url, north, _ = province
    lo = server_now(url)
    sql_as(north, "INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, last_seq) "
                  "VALUES ('S-N', 'n1', 'x', 1, %s, 1) ON CONFLICT (school_id, station_id) "
                  "DO UPDATE SET last_sync_at = EXCLUDED.last_sync_at", (FORGED,))
    ((claimed, stamped),) = stamp_of(url, "S-N", "n1")
    assert claimed == FORGED and lo <= stamped <= server_now(url)


REFUSED = [
    f"INSERT INTO stations (school_id, station_id, fingerprint, registered_at, last_sync_at, last_seq) "
    f"VALUES ('S-W', 'w9', 'ffff', 1, {FORGED}, 1)",  # another school's gate
    f"INSERT INTO school_days (school_id, day, screened, confirmed_fevers, no_mask_refusals) "
    f"VALUES ('S-N', '{DAY.replace(day=1)}', 0, -3, 0)",  # its own school's rollup, seeded to hide fevers
    f"INSERT INTO school_days (school_id, day, screened, confirmed_fevers, no_mask_refusals) "
    f"VALUES ('S-W', '{DAY.replace(day=1)}', 0, 0, 0)",  # another school's
    "INSERT INTO gate_role_schools (role_name, school_id) VALUES (current_user, 'S-W')",
    "INSERT INTO schools (school_id, name, expected_stations, created_at) VALUES ('S-FAKE', 'fake', 3, 0)",
    "UPDATE schools SET expected_stations = 1 WHERE school_id = 'S-N'",
]


def test_a_station_role_cannot_copy_seed_the_rollup_map_itself_or_declare_a_school(province):
    url, north, _ = province
    before = owner_sql(url, "SELECT * FROM stations ORDER BY 1, 2"), owner_sql(url, "SELECT * FROM school_days "
                                                                                     "ORDER BY 1, 2")
    for sql in REFUSED:
        with pytest.raises(psycopg.Error) as exc:
            sql_as(north, sql)
        assert "row-level security" in str(exc.value) or "permission denied" in str(exc.value) \
            or "not supported" in str(exc.value), (sql, exc.value)
    assert (owner_sql(url, "SELECT * FROM stations ORDER BY 1, 2"),
            owner_sql(url, "SELECT * FROM school_days ORDER BY 1, 2")) == before
    assert not owner_sql(url, "SELECT 1 FROM schools WHERE school_id = 'S-FAKE'")


def test_a_station_role_cannot_copy_a_gates_row_with_its_own_stamp(province):
    url, _, west = province
    with psycopg.connect(west) as conn, pytest.raises(psycopg.Error, match="row-level security"):
        with conn.cursor().copy("COPY stations (school_id, station_id, fingerprint, registered_at, last_sync_at, "
                                "last_seq, synced_at) FROM STDIN") as copy:
            copy.write_row(("S-W", "w-copied", "ffff", 1, FORGED, 1, FORGED))
    assert not stamp_of(url, "S-W", "w-copied")
