"""HOLE (issue 16 G3, a16d): the owner's schema migration behind a pupil's open read of `stations` (any station
role may SELECT it, and leave the transaction open) gives up without naming who holds it or how to end it.

    # pupil, with the station role's password from the gate's config:
    psql "postgresql://gate_north@district-db/screening" -c 'BEGIN' -c 'SELECT * FROM stations' (left open)
    # owner, after upgrading gate-station (one migration more, u0018 alters stations):
    gate upstream maintain --upstream postgresql://owner@district-db/screening --lock-wait 1

Today: exit 1, `gate: migrating the upstream's schema: the upstream's schema is held by another session, waited 1 s:
nothing changed: run the command again later` — no pid, no role, no since-when, no pg_terminate_backend; and
"again later" never helps while the pupil keeps the transaction open (every run fails the same way).
Should: one line naming the holder as the advisory-lock and maintain messages do (`pid N, role gate_north, idle in
transaction since …`) and `SELECT pg_terminate_backend(N)`.

The owner's own sync, which migrates first (`gate sync --once --config owner-gate.toml`), behind the same open read
(here by the bureau's read-only role), says today: `gate: upstream postgresql+psycopg://postgres@…/… unreachable:
canceling statement due to lock timeout` (exit 1): "unreachable" is wrong (the server answered), and neither who
holds what nor what to do is said. Should: the same one line as above (holder's pid, role, since when,
pg_terminate_backend), not "unreachable".

Run:
     ./.venv/bin/pytest -q tests/functional/attacks/test_16_migration_holder.py
"""
import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, bureau_role, make_gate, station_role
from tests.functional.attacks.test_16_owner_locks import head_and_before, migrate_to, revision
from tests.functional.attacks.test_16_station_role_days import one_line
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
# The owner's upgrade starts before u0018, which alters `stations` (the newest migration, u0019, only replaces a
# function, which an open read of `stations` does not hold up): the upgrade must take the table the pupil reads.
STATIONS_ALTERED_NEXT = "u0017"


def before_stations_change() -> tuple[str, str]:
    head, _ = head_and_before()
    return head, STATIONS_ALTERED_NEXT


def test_a_migration_held_by_a_pupils_open_read_of_stations_names_the_holder_and_how_to_end_it(pg):
    url = pg.create_db("a16d_mig")
    head, before = before_stations_change()
    migrate_to(url, before)  # the owner's next release brings one migration more
    pupil = station_role(url, "a16d_mig_pupil", "S-N")
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT * FROM stations")  # never ended
        pid = held.info.backend_pid
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0", "--lock-wait", "1")
        line = one_line(done.stderr)
        assert done.returncode == 1 and revision(url) == before, line
        # today: "... the upstream's schema is held by another session, waited 1 s: nothing changed: run the
        # command again later"
        assert f"pid {pid}, role a16d_mig_pupil" in line, line
        assert f"SELECT pg_terminate_backend({pid})" in line, line
    finally:
        held.close()
    assert run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0").returncode == 0
    assert revision(url) == head


def test_an_owners_sync_that_migrates_behind_an_open_read_of_stations_names_the_holder_not_unreachable(pg, tmp_path):
    url = pg.create_db("a16d_mig_sync")
    head, before = before_stations_change()
    migrate_to(url, before)
    pupil = bureau_role(url, "a16d_mig_sync_b")
    gate = make_gate(tmp_path, "o1", "S-O", "O", url)  # the owner's role, as the README's first sync
    with gate.cfg.open("a", encoding="utf-8") as f:
        f.write("lock_wait_s = 1\n")  # [upstream] is the config's last table
    gate.screen_at(at(DAY, 7, 30), "X")
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT * FROM stations")  # never ended
        pid = held.info.backend_pid
        done = run_gate("sync", "--once", "--config", gate.cfg)
        line = one_line(done.stderr)
        assert done.returncode == 1 and revision(url) == before, line
        # today: "gate: upstream postgresql+psycopg://postgres@…/a16d_mig_sync unreachable: canceling statement due
        # to lock timeout"
        assert "unreachable" not in line, line
        assert f"pid {pid}, role a16d_mig_sync_b" in line and f"pg_terminate_backend({pid})" in line, line
    finally:
        held.close()
    assert run_gate("sync", "--once", "--config", gate.cfg).returncode == 0 and revision(url) == head
