"""Issue 16 G3 (a16d), against a real PostgreSQL, on a current schema: what a pupil with a station role's password
holds open — the old migration lock's number (exclusive or shared), an insert's lock on the schools, a read of them —
holds up none of the owner's everyday commands (a sync, declaring a school, maintain); a row lock on the version
table is refused to it."""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, station_role, west_synced
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

HOLDS = ["SELECT pg_advisory_lock(73173)", "SELECT pg_advisory_lock_shared(73173)",
         "LOCK TABLE schools IN ROW EXCLUSIVE MODE", "SELECT * FROM schools"]


def test_what_a_pupil_holds_open_holds_up_none_of_the_owners_commands(pg, tmp_path):
    url, west = west_synced(pg, tmp_path, "a16d_goes_on")
    pupil = station_role(url, "a16d_goes_on_p", "S-N")
    with pytest.raises(psycopg.Error, match="permission denied"):
        with psycopg.connect(pupil) as conn:
            conn.execute("SELECT * FROM gate_upstream_version FOR SHARE")
    for i, hold in enumerate(HOLDS):
        west.screen_at(at(DAY, 7, 40 + i), f"W{i}")
        held = psycopg.connect(pupil)
        try:
            held.execute(hold)  # never ended
            for cmd in (("sync", "--once", "--config", west.cfg),
                        ("upstream", "school", "add", f"S-Q{i}", "--name", "q", "--stations", "1", "--upstream", url),
                        ("upstream", "maintain", "--upstream", url, "--ahead", "1", "--lock-wait", "1")):
                # the hold is never released: a command that needed what it holds would give up after its lock
                # wait (exit 1, one line), so a clean exit 0 is the proof (no timing asserted: bench/ does timing)
                done = run_gate(*cmd)
                assert done.returncode == 0 and not done.stderr, (hold, cmd, done.stderr)
        finally:
            held.close()
