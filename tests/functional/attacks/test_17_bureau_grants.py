"""HOLE (a17s, issue 16, the bureau): a bureau role that may not read one of the tables it reads (a table a later
upstream migration added, when ALTER DEFAULT PRIVILEGES was run by another role than the one that creates the tables,
e.g. the superuser ran the README's bureau-grants and gate_owner migrates; or a REVOKE) makes `gate bureau daily` /
`late` end as a fault of the station's own software:
    REVOKE SELECT ON school_days FROM gate_bureau;   -- or daily_reports, stations, schools, cases
    gate bureau daily --upstream postgresql://gate_bureau@district-db/screening --date 2026-11-27
    -> gate: unexpected ProgrammingError: (psycopg.errors.InsufficientPrivilege) permission denied for table
       school_days [SQL: SELECT school_days.school_id, ...]  exit 70, and a traceback appended to gate-errors.log
(`late` the same for daily_reports, stations, schools.) What should happen: one line naming the table and what the
database's owner grants (GRANT SELECT ON school_days TO gate_bureau, as the README's bureau-grants say), exit 1,
like every other upstream failure; no SQL text on the terminal. Copy into tests/functional/attacks/ to run."""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import bureau_role
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
DAY = "2026-11-27"


@pytest.fixture(scope="module")
def district(pg):
    url = pg.create_db("a17s_bureau_grants", migrated=True)
    assert run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--upstream", url).returncode == 0
    return url, bureau_role(url, "a17s_bur_grants")


@pytest.mark.parametrize("command,table", [("daily", "school_days"), ("daily", "cases"), ("late", "daily_reports"),
                                           ("late", "stations"), ("daily", "schools")])
def test_a_table_the_bureau_may_not_read_is_named_in_one_line(district, command, table):
    owner, url = district
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
