"""Promise 1: a confirmed fever is never admitted until a health/admin clearance."""
import sqlite3

import pytest

from tests.support import copy_log
from .conftest import Gate, faketime_prefix, one_clear_line


@pytest.fixture(scope="module")
def fever_db(tmp_path_factory):
    base = tmp_path_factory.mktemp("fever")
    g = Gate(base / "home")
    db = base / "fever.db"
    first = g.screen_json(db, "--entrant", "P42", "--temp", "38.5", "--mask", "yes")
    second = g.screen_json(db, "--entrant", "P42", "--temp", "38.4", "--mask", "yes")
    assert first["decision"] == "retest"
    assert second["decision"] == "deny"
    return db


def _copy(fever_db, tmp_path):
    return copy_log(fever_db, tmp_path / "g.db")  # with its station key, which the log's chains need


def _with_roster(gate, fever_db, tmp_path, kind):
    """A copy of the fever's log after a roster import that lists P42 as `kind`."""
    db = _copy(fever_db, tmp_path)
    roster = tmp_path / "r.csv"
    roster.write_text(f"id,name,class,kind\nP42,Pupil,1A,{kind}\n", encoding="utf-8")
    assert gate("roster", "import", str(roster), "--db", str(db)).returncode == 0
    return db


def test_normal_reading_after_fever_is_denied_not_cleared(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", "P42", "--temp", "36.9", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_leading_space_and_comma_reading_still_denied(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", " P42", "--temp", "36,9", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_a_full_width_id_is_the_same_person(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", "Ｐ４２", "--temp", "36.9", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"] and v["entrant_id"] == "P42"


def test_fahrenheit_manual_reading_still_denied(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", "P42", "--temp", "98.0F",
                         "--source", "manual", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_next_day_reading_still_denied(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", "P42", "--temp", "36.6", "--mask", "yes",
                         prefix=faketime_prefix("+1d"))
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_roster_reimport_does_not_forget_the_fever(gate, fever_db, tmp_path):
    db = _with_roster(gate, fever_db, tmp_path, "student")
    v = gate.screen_json(db, "--entrant", "P42", "--temp", "36.6", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_clearance_slipped_into_the_file_does_not_count(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    con = sqlite3.connect(db)
    fever_id, fever_at = con.execute(
        "select id, created_at from screenings where entrant_id='P42' and decision='deny'").fetchone()
    con.execute("insert into clearances(id,station_id,entrant_id,fever_screening_id,fever_at,note,cleared_by,"
                "role,at,prev_hash,row_hash) values('forged','gate-1','P42',?,?,'note','doc','health',?,?,?)",
                (fever_id, fever_at, fever_at + 60, "0" * 64, "ab" * 32))
    con.commit()
    con.close()
    v = gate.screen_json(db, "--entrant", "P42", "--temp", "36.6", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_clearance_with_empty_note_or_wrong_id_clears_nobody(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    r = gate("clearance", "add", "P42", "--note", "", "--db", str(db))
    assert r.returncode == 2
    one_clear_line(r)
    r = gate("clearance", "add", "P24", "--note", "doctor's note", "--db", str(db))
    assert r.returncode == 1
    one_clear_line(r)
    v = gate.screen_json(db, "--entrant", "P42", "--temp", "36.6", "--mask", "yes")
    assert v["decision"] == "deny"
