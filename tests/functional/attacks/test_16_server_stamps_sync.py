"""Issue 16's named gap G2, against a real PostgreSQL: a station role could forge its gate's last sync (any plausible
past time, or up to the readers' 10 minutes of skew ahead) and the bureau and the school's report believed the gate
had synced after a check ended. Since upstream migration u0018 the server stamps ``stations.synced_at`` (a trigger the
role can neither bypass, drop nor write past); the readers' rules read it, and the station's claimed time is kept
beside it for display only. A station role writing a time by hand changes nothing of what the bureau decides."""

import psycopg
import pytest

from storage.provisional import CLOCK_SKEW_S
from tests.functional.attacks.bureau_roles_setup import DAY, at, sql_as
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.functional.attacks.test_16_future_last_sync import NOW, school_report, synced_before_the_check_ended
from tests.functional.attacks.test_16_station_role_days import bureau_row, two_schools  # noqa: F401
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def server_now(url: str) -> float:
    return float(owner_sql(url, "SELECT extract(epoch FROM clock_timestamp())")[0][0])


FORGED = {"within the skew ahead": NOW + CLOCK_SKEW_S - 1, "after the check ended": at(DAY, 8, 31),
          "the bureau's now": NOW}


def test_a_station_role_writing_its_last_sync_by_hand_changes_nothing_the_bureau_decides(two_schools):
    url, n1 = synced_before_the_check_ended(two_schools)  # at 08:06 by the gate's clock; 晨检 ends at 08:30
    before_row, before_school = bureau_row(url, NOW), school_report(url)
    assert before_row["provisional"] is True and before_row["zero_report"] is None, before_row
    for what, forged in FORGED.items():  # one school: each forgery is judged against the same before
        lo = server_now(url)
        assert sql_as(n1.upstream, "UPDATE stations SET last_sync_at = %s WHERE station_id = 'n1'", (forged,)) == 1
        hi = server_now(url)
        ((claimed, stamped),) = owner_sql(url, "SELECT last_sync_at, synced_at FROM stations "
                                               "WHERE station_id = 'n1'")
        assert claimed == forged and lo <= stamped <= hi, what  # the claim kept; the server's clock stamped
        after_row, after_school = bureau_row(url, NOW), school_report(url)
        # was (within the skew, or after the check ended): provisional False, zero_report True
        assert after_row["provisional"] is True and after_row["zero_report"] is None, (what, after_row)
        assert after_row["last_sync"] == stamped != forged, what
        assert {k: v for k, v in after_row.items() if k != "last_sync"} == \
            {k: v for k, v in before_row.items() if k != "last_sync"}, what
        assert after_school == before_school, what


TAKING_THE_STAMP = [
    "UPDATE stations SET synced_at = 1e9 WHERE station_id = 'n1'",
    "ALTER TABLE stations DISABLE TRIGGER gate_stamp_sync",
    "DROP TRIGGER gate_stamp_sync ON stations",
    "CREATE OR REPLACE FUNCTION gate_stamp_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "SET session_replication_role = replica",
    "CREATE TRIGGER mine BEFORE UPDATE ON stations FOR EACH ROW EXECUTE FUNCTION gate_stamp_sync()",
]


def test_a_station_role_can_neither_write_the_servers_stamp_nor_take_the_trigger_away(two_schools):
    url, _, n1, _ = two_schools
    n1.screen_at(at(DAY, 7, 30), "N1")
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    stamp = owner_sql(url, "SELECT synced_at FROM stations WHERE station_id = 'n1'")
    for sql in TAKING_THE_STAMP:  # each one alone, on its own connection
        try:
            sql_as(n1.upstream, sql)
        except psycopg.Error as exc:
            assert "permission denied" in str(exc) or "must be owner" in str(exc), (sql, exc)
        else:
            pytest.fail(f"a station role ran: {sql}")
    assert owner_sql(url, "SELECT synced_at FROM stations WHERE station_id = 'n1'") == stamp
