"""Issue 12, "every storage failure surfaces as one error type the station handles", attacked by a pupil with
`sqlite3 g.db` editing the schema, not the rows: a table dropped or renamed, a trigger that refuses or rewrites the
station's writes. `gate screen` says `log failure:` (exit 3) and stores nothing, never admits; a trigger that rewrites
what the station wrote is caught by `gate verify` (exit 1). (A dropped table that `gate verify` does not name: a12d's
H10, kept out of this file.)"""
import os
import sqlite3

import pytest

from tests.support import count_rows, edit_by_hand, run_gate


@pytest.fixture
def log(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "GATE_LOG_DIR": str(home / "log")}
    db = tmp_path / "g.db"
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP1,A b,1,pupil\n", encoding="utf-8")
    assert run_gate("roster", "import", str(roster), "--db", str(db), env=env).returncode == 0
    return db, env


@pytest.mark.parametrize("statement, says", [
    ("DROP TABLE entrants", "cannot read the roster"),
    ("ALTER TABLE entrants RENAME TO x", "cannot read the roster"),
    ("DROP TABLE audit_events", "no such table: audit_events"),
    ("DROP TABLE outbox", "no such table: outbox"),
    ("DROP TABLE chain_anchors", "no such table: chain_anchors"),
    ("DROP TABLE seals", "looks older than its station key"),
    ("CREATE TRIGGER t BEFORE INSERT ON screenings BEGIN SELECT RAISE(ABORT, 'nope'); END", "was not saved"),
    ("CREATE TRIGGER t BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'nope'); END", "not saved"),
])
def test_a_schema_edited_by_hand_is_a_log_failure_never_an_admit(log, statement, says):
    db, env = log
    edit_by_hand(db, statement)
    r = run_gate("screen", "--temp", "36.6", "--mask", "yes", "--entrant", "P1", "--db", str(db), env=env)
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "" and r.stderr.startswith("gate: log failure:") and says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    try:
        assert count_rows(db) == 0
    except sqlite3.OperationalError:
        pass  # the table the count needs is the one dropped


@pytest.mark.parametrize("trigger, names", [
    ("CREATE TRIGGER t AFTER INSERT ON screenings BEGIN "
     "UPDATE screenings SET decision = 'admit' WHERE id = NEW.id; END", "BROKEN: screenings: row 1"),
    ("CREATE TRIGGER t AFTER INSERT ON audit_events BEGIN DELETE FROM audit_events WHERE seq = NEW.seq; END",
     "BROKEN: audit events: rows were removed"),
])
def test_a_trigger_that_rewrites_the_stations_writes_is_named_by_verify(log, trigger, names):
    db, env = log
    edit_by_hand(db, trigger)
    r = run_gate("screen", "--temp", "38.0", "--mask", "yes", "--entrant", "P1", "--db", str(db), env=env)
    assert r.returncode == 0 and r.stdout.startswith("RETEST")  # what the station decided and showed
    v = run_gate("verify", "--db", str(db), env=env)
    assert v.returncode == 1 and names in v.stdout + v.stderr, (v.stdout, v.stderr)
