"""Holes a16 found (second round) in the upstream's roles and maintenance, against a real PostgreSQL, held closed:
a station role's open transaction makes the syncs, the bureau's export and `gate upstream maintain` give up in one
line instead of hanging (H1, H1b); far-future forged rows make no partitions (H7); a mistyped --today detaches
nothing, and a detached day is repaired by maintain (H10); a station role forges no export record (H5) and renames no
named school (H6). a16's tests are kept as written (their names start test_hole_); the others go further."""
import datetime as dt
import subprocess

import psycopg
import pytest

from tests.functional.attacks.conftest import PY, ROOT
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.functional.attacks.bureau_roles_setup import (  # noqa: F401  (province: a fixture)
    DAY, at, make_gate, province, sql_as, station_role, west_synced)
from storage.partitions import name_of
from tests.pg import unavailable_reason
from tests.support import run_gate, today_at

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def upstream_ids(url: str, school: str) -> set[str]:
    return {r[0] for r in owner_sql(url, "SELECT entrant_id FROM screenings WHERE school_id = :s", s=school)}


# H1 (a16): a pupil with one station's password holds gate_make_day open; another school's sync must not hang.
# Since u0017 no station role makes a day (the function is gone): what the pupil can still hold open is a read (every
# partition, the default one included) and the advisory lock the day makers used to take.
def hold_what_a_pupil_can(pupil: str) -> psycopg.Connection:
    held = psycopg.connect(pupil)
    with pytest.raises(psycopg.errors.UndefinedFunction):
        held.execute("SELECT gate_make_day(CURRENT_DATE + 20)")
    held.rollback()
    held.execute("SELECT count(*) FROM screenings")  # ACCESS SHARE on every partition, and never ends
    held.execute("SELECT pg_advisory_xact_lock(73174)")  # the number the day makers waited on before u0017
    return held


def test_hole_a_station_role_holding_gate_make_day_open_blocks_another_schools_sync(pg, tmp_path):
    url, other = west_synced(pg, tmp_path, "a16_lock")  # the owner makes the schema
    pupil = station_role(url, "a16_lock_n1", "S-N")
    other.screen_at(at(DAY, 7, 31), "W2")
    held = hold_what_a_pupil_can(pupil)
    try:
        try:
            done = subprocess.run([PY, "-m", "gate.cli", "sync", "--once", "--config", str(other.cfg)],
                                  capture_output=True, text=True, timeout=60, cwd=ROOT,
                                  env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        except subprocess.TimeoutExpired:
            pytest.fail("gate sync --once of school S-W hung 60 s behind school S-N's open gate_make_day")
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    finally:
        held.rollback()
        held.close()


def test_an_owners_sync_that_must_make_a_day_behind_a_pupils_open_read_sends_to_the_default_partition(pg, tmp_path):
    """Before u0017 the pupil held gate_make_day open and this sync gave up after 10 s (nothing sent). Now it waits
    2 s for the day's lock, sends the day's rows to the default partition, and maintain files them later."""
    url, west = west_synced(pg, tmp_path, "f16a_lock")
    pupil = station_role(url, "f16a_lock_n1", "S-N")
    later = DAY + dt.timedelta(days=1)  # no partition yet: the owner's sync would make it
    west.screen_at(at(later, 7, 30), "W2")
    held = hold_what_a_pupil_can(pupil)
    try:
        done = run_gate("sync", "--once", "--config", west.cfg)
        assert done.returncode == 0 and "pending 0" in done.stdout, done.stderr
        line = one_line(done.stderr)
        assert f"no day partition upstream for {later.isoformat()}" in line and "nothing lost" in line, line
        assert owner_sql(url, "SELECT entrant_id FROM screenings_default") == [("W2",)]
    finally:
        held.rollback()
        held.close()
    assert upstream_ids(url, "S-W") == {"W1", "W2"}
    done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0")
    assert done.returncode == 0, done.stderr
    assert owner_sql(url, "SELECT count(*) FROM screenings_default") == [(0,)]  # W2 filed in its day's partition
    assert owner_sql(url, f"SELECT entrant_id FROM screenings_p{later:%Y%m%d}") == [("W2",)]


def test_a_station_role_can_neither_make_a_day_nor_hold_up_the_owners_day_makers(pg, tmp_path):
    url, west = west_synced(pg, tmp_path, "f16a_lock_made")
    pupil = station_role(url, "f16a_lock_n2", "S-N")
    later = DAY + dt.timedelta(days=40)  # a day ahead of any maintain's 14 days
    for sql in ("LOCK TABLE screenings IN SHARE UPDATE EXCLUSIVE MODE",  # the day makers' one-at-a-time lock
                "LOCK TABLE screenings_default IN ACCESS EXCLUSIVE MODE",
                f"CREATE TABLE {name_of(later)} PARTITION OF screenings FOR VALUES FROM ('{later}') "
                f"TO ('{later + dt.timedelta(days=1)}')"):
        with pytest.raises(psycopg.Error, match="permission denied"):
            sql_as(pupil, f"BEGIN; {sql}")
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT pg_advisory_xact_lock(73174)")  # before: every day maker waited on this number
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "21")
        assert done.returncode == 0, done.stderr
        assert sql_as(url, "SELECT to_regclass(%s) IS NOT NULL",
                      (f"screenings_p{dt.date.today() + dt.timedelta(days=21):%Y%m%d}",)) == [(True,)]
    finally:
        held.rollback()
        held.close()


def test_an_owners_sync_making_a_day_waits_for_another_maker_no_longer_than_two_seconds(pg, tmp_path):
    url, west = west_synced(pg, tmp_path, "f16a_make_day_wait")
    later = DAY + dt.timedelta(days=2)
    west.screen_at(at(later, 7, 30), "W3")
    owner = psycopg.connect(url)
    try:
        owner.execute("LOCK TABLE screenings IN SHARE UPDATE EXCLUSIVE MODE")  # maintain at work, not letting go
        done = run_gate("sync", "--once", "--config", west.cfg)
        assert done.returncode == 0 and f"no day partition upstream for {later.isoformat()}" in done.stderr
    finally:
        owner.rollback()
        owner.close()
    assert owner_sql(url, "SELECT entrant_id FROM screenings_default") == [("W3",)]


# H1b (a16): a station role's open read; maintain must give up instead of waiting (and queueing every sync).
def test_hole_a_station_roles_open_read_makes_maintain_and_every_sync_wait(pg, tmp_path):
    url, west = west_synced(pg, tmp_path, "a16_read_lock")
    pupil = station_role(url, "a16_reader", "S-W")
    held = psycopg.connect(pupil)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    try:
        held.execute("SELECT count(*) FROM screenings")  # and the pupil never ends the transaction
        try:
            done = subprocess.run([PY, "-m", "gate.cli", "upstream", "maintain", "--upstream", url, "--ahead", "25"],
                                  capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail("gate upstream maintain waited 60 s behind a station role's open read")
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    finally:
        held.rollback()
        held.close()


def test_maintain_behind_an_open_read_names_the_holder_in_one_line_and_runs_later(pg, tmp_path):
    url, west = west_synced(pg, tmp_path, "f16a_read_lock")
    pupil = station_role(url, "f16a_reader", "S-W")
    held = psycopg.connect(pupil)
    try:
        held.execute("SELECT count(*) FROM screenings")
        pid = held.info.backend_pid
        # the hole's test above gives up after the default wait; this one reads what the line says
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "3", "--lock-wait", "0.5")
        line = one_line(done.stderr)
        assert done.returncode == 1, done.stdout
        assert f"pid {pid}, role f16a_reader" in line and "maintain again later" in line, line
        assert f"pg_terminate_backend({pid})" in line
    finally:
        held.rollback()
        held.close()
    again = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "3")
    assert again.returncode == 0, again.stderr
    west.screen_at(at(DAY, 7, 40), "W2")
    assert run_gate("sync", "--once", "--config", west.cfg).returncode == 0
    assert upstream_ids(url, "S-W") == {"W1", "W2"}


# H5 (a16)
def test_hole_a_station_role_cannot_forge_its_schools_bureau_export_record(province):
    url, north, _ = province
    try:
        with pytest.raises(psycopg.Error, match="permission denied|row-level security"):
            sql_as(north, "INSERT INTO bureau_exports VALUES ('S-N', 'e0000000-0000-0000-0000-0000000000f5', "
                          f"'{DAY.replace(month=1, day=1)}', '{DAY}', 9999, 'csv', 'ab', 'bureau', 0)")
    finally:
        owner_sql(url, "DELETE FROM bureau_exports WHERE export_id = 'e0000000-0000-0000-0000-0000000000f5'")


# H6 (a16)
def test_hole_a_station_role_cannot_rename_its_already_named_school(province):
    url, north, _ = province
    try:
        with pytest.raises(psycopg.Error, match="permission denied|row-level security|refused"):
            if sql_as(north, "UPDATE schools SET name = '西校' WHERE school_id = 'S-N'") == 0:
                raise psycopg.Error("refused: no row updated")
        assert owner_sql(url, "SELECT name FROM schools WHERE school_id = 'S-N'") == [("北校",)]
    finally:
        owner_sql(url, "UPDATE schools SET name = '北校' WHERE school_id = 'S-N'")


def test_a_station_role_still_fills_its_schools_empty_name_once(province):
    url, north, _ = province
    try:
        owner_sql(url, "UPDATE schools SET name = '' WHERE school_id = 'S-N'")
        assert sql_as(north, "UPDATE schools SET name = '北校' WHERE school_id = 'S-N'") == 1
        assert sql_as(north, "UPDATE schools SET name = 'A\x1b]0;pwned' WHERE school_id = 'S-N'") == 0
        assert owner_sql(url, "SELECT name FROM schools WHERE school_id = 'S-N'") == [("北校",)]
    finally:
        owner_sql(url, "UPDATE schools SET name = '北校' WHERE school_id = 'S-N'")


# H7 (a16)
def test_hole_rows_sent_with_far_days_do_not_make_maintain_create_a_partition_each(province):
    url, north, _ = province
    sql_as(north, "INSERT INTO screenings (school_id, id, station_id, seq, created_at, day, decision, reasons, message, "
                  "threshold_c, mask, readings, prev_hash, row_hash) SELECT 'S-N', 'junk-' || n, 'n1', 100000 + n, 0, "
                  "DATE '2200-01-01' + n, 'admit', '[]', '', 37.3, '{}', '[]', 'x', 'y' FROM generate_series(0, 59) n")
    done = run_gate("upstream", "maintain", "--upstream", url)
    assert done.returncode in (0, 1), done.stderr
    made = owner_sql(url, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'screenings'::regclass "
                          "AND inhrelid::regclass::text LIKE 'screenings_p22%'")
    assert made == [(0,)], made


def test_maintain_names_the_far_days_left_in_the_default_partition_and_still_files_a_near_one(province):
    url, north, _ = province
    near = dt.date.today() - dt.timedelta(days=300)
    try:
        sql_as(north, "INSERT INTO screenings (school_id, id, station_id, seq, created_at, day, decision, reasons, "
                      "message, threshold_c, mask, readings, prev_hash, row_hash) SELECT 'S-N', 'far-' || n, 'n1', "
                      "200000 + n, 0, DATE '2300-01-01' + n * 7, 'admit', '[]', '', 37.3, '{}', '[]', 'x', 'y' "
                      "FROM generate_series(0, 2) n UNION ALL SELECT 'S-N', 'near-1', 'n1', 200100, 0, %s, 'admit', "
                      "'[]', '', 37.3, '{}', '[]', 'x', 'y'", (near,))
        done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0")
        assert done.returncode == 0, done.stderr
        left = one_line([line for line in done.stdout.splitlines() if line.startswith("left ")][0])
        assert "to 2300-01-15 in the default partition" in left and "a forged row" in left, left  # H7's rows too
        assert owner_sql(url, "SELECT count(*) FROM screenings_default WHERE id LIKE 'far-%'") == [(3,)]
        assert owner_sql(url, "SELECT tableoid::regclass::text FROM screenings WHERE id = 'near-1'") == \
            [(f"screenings_p{near:%Y%m%d}",)]
    finally:
        owner_sql(url, "DELETE FROM screenings WHERE id LIKE 'far-%' OR id = 'near-1'")


# H10 (a16)
def test_hole_maintain_with_a_mistyped_year_detaches_nothing_and_the_syncs_go_on(pg, tmp_path):
    url = pg.create_db("a16_today")
    gate = make_gate(tmp_path, "m1", "S-M", "M校", url)
    noon = today_at(12)
    clock = lambda: noon  # noqa: E731
    today = dt.date.fromtimestamp(noon)
    gate.screen_at(noon - 60, "M1")
    assert run_gate("sync", "--once", "--config", gate.cfg, clock=clock).returncode == 0
    typo = today.replace(year=today.year + 36)
    done = run_gate("upstream", "maintain", "--upstream", url, "--today", typo.isoformat(), "--keep-days", "180",
                    clock=clock)
    detached = "detached screenings_p" in done.stdout + done.stderr
    gate.screen_at(noon, "M2")
    again = run_gate("sync", "--once", "--config", gate.cfg, clock=clock)
    assert (done.returncode, detached, again.returncode) == (2, False, 0), (done.stdout, done.stderr, again.stderr)


def test_a_mistyped_today_is_refused_in_one_line_by_the_clock_given(pg):
    url = pg.create_db("f16a_today_clock", migrated=True)
    now = at(DAY, 6, 0)
    done = run_gate("upstream", "maintain", "--upstream", url, "--today", (DAY + dt.timedelta(days=1)).isoformat(),
                    clock=lambda: now)
    assert done.returncode == 2 and f"is after today ({DAY})" in one_line(done.stderr)
    assert run_gate("upstream", "maintain", "--upstream", url, "--today", DAY.isoformat(), "--ahead", "0",
                    clock=lambda: now).returncode == 0


def test_a_detached_day_inside_the_days_kept_is_repaired_by_maintain_and_the_syncs_go_on(pg, tmp_path):
    url = pg.create_db("f16a_detached", migrated=True)
    gate = make_gate(tmp_path, "m1", "S-M", "M校", url)
    noon = today_at(12)  # the three screenings on one day, whatever the hour the suite runs at (midnight too)
    clock = lambda: noon  # noqa: E731
    today = dt.date.fromtimestamp(noon)
    name = f"screenings_p{today:%Y%m%d}"
    gate.screen_at(noon - 60, "M1")
    assert run_gate("sync", "--once", "--config", gate.cfg, clock=clock).returncode == 0
    owner_sql(url, f"ALTER TABLE screenings DETACH PARTITION {name}")  # what the typo's maintain left behind
    gate.screen_at(noon, "M2")
    sent = run_gate("sync", "--once", "--config", gate.cfg, clock=clock)
    assert sent.returncode == 0 and "pending 0" in sent.stdout, sent.stderr  # in the default partition, not lost
    assert f"no day partition upstream for {today}" in sent.stderr
    done = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "1", clock=clock)
    assert done.returncode == 0, done.stderr
    assert f"reattached {name}" in done.stdout
    assert owner_sql(url, f"SELECT entrant_id FROM {name} ORDER BY 1") == [("M1",), ("M2",)]
    assert owner_sql(url, "SELECT count(*) FROM screenings_default") == [(0,)]
    gate.screen_at(noon + 60, "M3")
    assert run_gate("sync", "--once", "--config", gate.cfg, clock=clock).returncode == 0
    assert upstream_ids(url, "S-M") == {"M1", "M2", "M3"}


def test_retention_counted_from_a_past_today_detaches_only_days_past_it(pg, tmp_path):
    url = pg.create_db("f16a_keep", migrated=True)
    gate = make_gate(tmp_path, "m1", "S-M", "M校", url)
    gate.screen_at(at(DAY, 7, 0), "M1")
    assert run_gate("sync", "--once", "--config", gate.cfg).returncode == 0
    now = at(DAY + dt.timedelta(days=20), 6, 0)
    kept = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0", "--keep-days", "30", clock=lambda: now)
    assert kept.returncode == 0 and "detached 0" in kept.stdout, kept.stdout
    gone = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0", "--keep-days", "10",
                    clock=lambda: now)
    assert gone.returncode == 0 and f"detached screenings_p{DAY:%Y%m%d}" in gone.stdout, gone.stdout
    # a late row of a day past retention waits in the default partition: maintain does not bring the day back
    owner_sql(url, "INSERT INTO screenings SELECT * FROM screenings_p" + f"{DAY:%Y%m%d}")
    again = run_gate("upstream", "maintain", "--upstream", url, "--ahead", "0", clock=lambda: now)
    assert again.returncode == 0 and "reattached" not in again.stdout, again.stdout
    assert owner_sql(url, "SELECT count(*) FROM screenings_default") == [(1,)]


def test_the_bureaus_export_over_days_without_a_partition_is_read_beside_a_pupils_open_transaction(pg, tmp_path):
    """Before u0017 the pupil's open gate_make_day held the default partition and this export gave up (one line, no
    half export, nothing recorded). A station role can no longer make a day: what it holds is a read, and the
    export of days with no partition (the default partition) is read beside it and recorded."""
    url, west = west_synced(pg, tmp_path, "f16a_export_lock")
    pupil = station_role(url, "f16a_export_n1", "S-N")
    span = ("--from", (DAY - dt.timedelta(days=3)).isoformat(), "--to", DAY.isoformat())  # days with no partition:
    out = tmp_path / "export"  # the default partition is read
    held = hold_what_a_pupil_can(pupil)
    try:
        done = run_gate("bureau", "export", "--upstream", url, *span, "--out", out, "--key", tmp_path / "bureau.key")
        assert done.returncode == 0 and "exported 1 screening(s) of 1 school(s)" in done.stdout, done.stderr
    finally:
        held.rollback()
        held.close()
    assert owner_sql(url, "SELECT count(*) FROM bureau_exports") == [(1,)]


def test_u0017_drops_the_day_maker_and_a_downgrade_brings_it_back_callable_by_nobody(pg):
    from alembic import command

    from storage import upstream as up

    url = pg.create_db("f16a_u0017")
    engine = up.make_upstream_engine(url)
    try:
        up.upgrade(engine)
        exists = "SELECT count(*) FROM pg_proc WHERE proname = 'gate_make_day'"
        assert sql_as(url, exists) == [(0,)]
        cfg = up._alembic()
        for target in ("u0016", "head"):
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                (command.downgrade if target == "u0016" else command.upgrade)(cfg, target)
            if target == "u0016":
                assert sql_as(url, exists) == [(1,)]
                assert sql_as(url, "SELECT has_function_privilege('public', 'gate_make_day(date)', 'EXECUTE')") \
                    == [(False,)]
        assert sql_as(url, exists) == [(0,)]
    finally:
        engine.dispose()
