"""Promise 5, the first policy: with PINs on, only an admin stores the log's first screening policy. A duty user who
screens first on a new (or upgraded) log with another --config must not set the threshold and the mask rule."""
import sqlite3

import pytest

from tests.support import count_rows
from .conftest import one_clear_line

OTHER = '[screening]\nthreshold_c = 39.0\nmask_mode = "off"\n'
BOSS, DUTY = b"318274\n", b"536482\n"


@pytest.fixture
def staffed(gate, tmp_path):
    """A new log with an admin (boss) and a duty teacher (dut), no screening yet: no policy stored."""
    db = tmp_path / "n.db"
    assert gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", str(db),
                stdin=BOSS).returncode == 0
    assert gate("users", "add", "dut", "--role", "duty", "--user", "boss", "--pin-stdin", "--db", str(db),
                stdin=BOSS + DUTY).returncode == 0
    other = tmp_path / "other.toml"
    other.write_text(OTHER, encoding="utf-8")
    station = tmp_path / "station.toml"
    station.write_text('[station]\nid = "north"\n', encoding="utf-8")
    return db, other, station


def _refused_for_want_of_a_policy(r):
    assert r.returncode == 1 and b"ADMIT" not in r.stdout
    err = one_clear_line(r)
    assert "no screening policy is stored with this log yet" in err and "gate config apply FILE --user ADMIN" in err
    return err


def _duty_screens_first_and_is_refused(gate, db, other):
    """The duty teacher's fever screened first under another config: refused, nothing stored, no policy set."""
    r = gate("screen", "--config", str(other), "--db", str(db), "--temp", "38.5", "--mask", "no",
             "--user", "dut", "--pin-stdin", stdin=DUTY)
    _refused_for_want_of_a_policy(r)
    assert count_rows(db, "screenings") == 0 and count_rows(db, "station_policy") == 0


def test_duty_user_cannot_set_the_policy_by_screening_first(gate, staffed):
    db, other, _ = staffed
    _duty_screens_first_and_is_refused(gate, db, other)


def test_duty_user_cannot_store_even_the_defaults_first(gate, staffed):
    db, _, _ = staffed
    r = gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes", "--user", "dut", "--pin-stdin",
             stdin=DUTY)
    _refused_for_want_of_a_policy(r)
    assert count_rows(db, "station_policy") == 0


def test_an_old_log_upgraded_with_users_waits_for_an_admin(gate, tmp_path):
    """A log as the release before stored policies left it (schema 0007: users, no station_policy table), upgraded
    when the duty teacher's `gate screen` opens it."""
    from tests.functional.security.conftest import legacy_rows, log_at_revision

    db = tmp_path / "old.db"
    log_at_revision(db, "0007")
    legacy_rows(db, 0, users=(("boss", "admin", "318274"), ("dut", "duty", "536482")))  # PIN hashes as then
    other = tmp_path / "other.toml"
    other.write_text(OTHER, encoding="utf-8")
    _duty_screens_first_and_is_refused(gate, db, other)


def test_after_the_admin_applies_the_station_config_duty_screens_and_another_config_is_refused(gate, staffed):
    db, other, station = staffed
    duty_apply = gate("config", "apply", str(other), "--db", str(db), "--user", "dut", "--pin-stdin", stdin=DUTY)
    assert duty_apply.returncode == 1 and count_rows(db, "station_policy") == 0
    applied = gate("config", "apply", str(station), "--db", str(db), "--user", "boss", "--pin-stdin", stdin=BOSS)
    assert applied.returncode == 0 and b"the station's first screening policy" in applied.stdout
    ok = gate("screen", "--config", str(station), "--db", str(db), "--temp", "38.5", "--mask", "no",
              "--user", "dut", "--pin-stdin", stdin=DUTY)
    assert ok.returncode == 0 and ok.stdout.startswith(b"DENY"), ok.stderr
    r = gate("screen", "--config", str(other), "--db", str(db), "--temp", "38.5", "--mask", "no",
             "--user", "dut", "--pin-stdin", stdin=DUTY)
    assert r.returncode == 1 and "threshold_c (37.3 → 39.0)" in one_clear_line(r)
    trail = sqlite3.connect(db).execute(
        "select actor from audit_events where action = 'policy-applied'").fetchall()
    assert trail == [("boss",)]


def test_without_users_the_first_screening_stores_the_policy_as_before(gate, tmp_path):
    db = tmp_path / "solo.db"
    r = gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 0 and r.stdout.startswith(b"ADMIT")
    assert count_rows(db, "station_policy") == 1
