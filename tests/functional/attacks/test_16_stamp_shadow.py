"""Attacker a16d (issue 16 G2): a station role forging the server's stamp of its gate's last sync with a temporary
table. u0018's trigger asked "is this the owner?" of an unqualified pg_class under ``search_path = pg_catalog``, and
PostgreSQL searches the session's temporary schema first for tables: a station role's ``CREATE TEMP TABLE pg_class``
saying it owned ``stations`` made its forged last_sync_at the "server's" stamp (the bureau then called the school
reported, zero report, although the gate never synced after the check ended). Upstream u0019 searches pg_temp last
and names the catalogue in full: the stamp is the server's clock, the bureau's row unchanged."""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.functional.attacks.test_16_future_last_sync import NOW, school_report, synced_before_the_check_ended
from tests.functional.attacks.test_16_station_role_days import bureau_row, two_schools  # noqa: F401
from tests.pg import unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

SHADOW = ("CREATE TEMP TABLE pg_class (oid oid, relowner oid)",
          "INSERT INTO pg_class SELECT 'public.stations'::regclass::oid, oid FROM pg_catalog.pg_roles "
          "WHERE rolname = current_user")


def test_a_temporary_pg_class_does_not_make_a_station_role_the_owner_of_its_sync_stamp(two_schools):
    url, n1 = synced_before_the_check_ended(two_schools)  # at 08:06 by the gate's clock; 晨检 ends at 08:30
    before_row, before_school = bureau_row(url, NOW), school_report(url)
    assert before_row["provisional"] is True and before_row["zero_report"] is None, before_row
    forged = at(DAY, 8, 31)
    with psycopg.connect(n1.upstream) as conn:  # the station's role, from the gate's own config
        for sql in SHADOW:
            conn.execute(sql)
        assert conn.execute("UPDATE stations SET last_sync_at = %s WHERE station_id = 'n1'", (forged,)).rowcount == 1
        conn.commit()
    ((stamped,),) = owner_sql(url, "SELECT synced_at FROM stations WHERE station_id = 'n1'")
    assert stamped != forged
    after_row = bureau_row(url, NOW)
    assert after_row["provisional"] is True and after_row["zero_report"] is None, after_row
    assert school_report(url) == before_school
