"""Promise 1 under two more attacks: the same id typed in another case (p42 for P42), and the log edited in the
SQLite file (the fever rows deleted, or set to 'admit'). Each is refused, from a shell, as a teacher would type it."""
import json
import sqlite3

from storage import chain
from storage.records import row_content
from tests.support import edit_by_hand
from .conftest import one_clear_line
from .test_fever import _copy, _with_roster, fever_db  # noqa: F401

EDITED = "the log was edited outside the station"


def _refused_as_edited(gate, db, entrant="P42"):
    r = gate("screen", "--db", str(db), "--json", "--entrant", entrant, "--temp", "36.9", "--mask", "yes")
    assert r.returncode == 3 and b'"admit"' not in r.stdout and not r.stdout.strip()
    err = one_clear_line(r)
    assert EDITED in err and "run gate verify; an auditor must check before" in err
    return err


def _audited(db):
    rows = sqlite3.connect(db).execute(
        "select actor, detail from audit_events where action = 'log-edited'").fetchall()
    return [(actor, json.loads(detail)["entrant_id"]) for actor, detail in rows]


# -- one person, any spelling ----------------------------------------------------------------------------------------
def test_lowercase_id_is_the_same_person(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", "p42", "--temp", "36.9", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]
    assert v["entrant_id"] == "P42"  # stored as the person's earlier screenings spell it


def test_fullwidth_lowercase_id_is_the_same_person(gate, fever_db, tmp_path):
    v = gate.screen_json(_copy(fever_db, tmp_path), "--entrant", "\uff50\uff14\uff12", "--temp", "36.9", "--mask", "yes")
    assert v["decision"] == "deny" and "fever-not-cleared" in v["reasons"]


def test_a_lowercase_retest_links_to_the_open_retest(gate, tmp_path):
    db = tmp_path / "r.db"
    first = gate.screen_json(db, "--entrant", "P7", "--temp", "38.5", "--mask", "yes")
    second = gate.screen_json(db, "--entrant", "p7", "--temp", "38.6", "--mask", "yes")
    assert first["decision"] == "retest" and second["decision"] == "deny" and second["follows"] == first["id"]


def test_with_a_roster_the_lowercase_id_is_the_rosters_pupil_and_still_refused(gate, fever_db, tmp_path):
    db = _with_roster(gate, fever_db, tmp_path, "pupil")
    v = gate.screen_json(db, "--entrant", "p42", "--temp", "36.6", "--mask", "yes")
    assert v["decision"] == "deny" and v["reasons"][0] == "fever-not-cleared" and v["entrant_id"] == "P42"
    assert "visitor-not-approved" not in v["reasons"]


def test_a_clearance_typed_in_lowercase_clears_the_pupil(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    assert gate("clearance", "add", "p42", "--note", "doctor's note, 2 Dec", "--db", str(db)).returncode == 0
    listed = gate("clearance", "list", "--db", str(db), "--json")
    assert listed.returncode == 0 and '"P42"' in listed.stdout.decode()
    assert sqlite3.connect(db).execute("select entrant_id from clearances").fetchall() == [("P42",)]
    assert gate.screen_json(db, "--entrant", "P42", "--temp", "36.6", "--mask", "yes")["decision"] == "admit"


def test_a_roster_with_two_ids_differing_only_by_case_is_refused(gate, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP42,Li Lei,1A,pupil\np42,Han Meimei,1B,pupil\n", encoding="utf-8")
    r = gate("roster", "import", str(roster), "--db", str(tmp_path / "g.db"))
    assert r.returncode == 2
    assert "line 3, field id: p42 is already on line 2 (as P42" in one_clear_line(r)


def test_a_roster_respelling_an_id_keeps_the_pupil_a_pupil(gate, tmp_path):
    db = tmp_path / "g.db"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("id,name,class,kind\nP42,Li Lei,1A,pupil\n", encoding="utf-8")
    second.write_text("id,name,class,kind\np42,Li Lei,1A,pupil\n", encoding="utf-8")
    assert gate("roster", "import", str(first), "--db", str(db)).returncode == 0
    r = gate("roster", "import", str(second), "--db", str(db))
    assert r.returncode == 0 and b"0 added, 1 changed, 0 removed" in r.stdout
    v = gate.screen_json(db, "--entrant", "P42", "--temp", "36.6", "--mask", "yes")
    assert v["decision"] == "admit" and v["entrant_id"] == "p42"


# -- the log edited in the file: fail closed ------------------------------------------------------------------------
def test_deleting_the_fever_rows_does_not_admit(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    edit_by_hand(db, "delete from screenings where entrant_id='P42'")
    err = _refused_as_edited(gate, db)
    assert "rows were removed" in err or "was removed" in err
    assert _audited(db) == [("station", "P42")]
    verify = gate("verify", "--db", str(db))
    assert verify.returncode == 1 and "removed" in verify.stderr.decode() + verify.stdout.decode()


def test_setting_the_fever_to_admit_does_not_admit(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    edit_by_hand(db, "update screenings set decision='admit', reasons='[\"normal\"]' where entrant_id='P42'")
    assert "its content does not match its hash" in _refused_as_edited(gate, db)
    assert gate("verify", "--db", str(db)).returncode == 1


def test_deleting_fever_rows_in_the_middle_of_the_log_does_not_admit(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    for i in range(3):  # other pupils after P42: the fever rows are no longer the newest
        gate.screen_json(db, "--entrant", f"S{i}", "--temp", "36.5", "--mask", "yes")
    edit_by_hand(db, "delete from screenings where entrant_id='P42'")
    assert "were removed" in _refused_as_edited(gate, db)
    assert "were removed" in _refused_as_edited(gate, db, "S9")  # nobody with an id is admitted on a cut log


def test_a_fever_row_rewritten_with_a_recomputed_hash_does_not_admit(gate, fever_db, tmp_path):
    """A pupil who knows the chain's digest rewrites the fever as an admit and recomputes its hash: the next row no
    longer links to it. (With the station's keyed chains the recomputed hash does not even match.)"""
    db = _copy(fever_db, tmp_path)
    gate.screen_json(db, "--entrant", "S1", "--temp", "36.5", "--mask", "yes")
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("select * from screenings where entrant_id='P42' and decision='deny'").fetchone())
    row.update(decision="admit", reasons='["normal"]')
    forged = chain.link(row["prev_hash"], row_content(row))
    con.execute("update screenings set decision='admit', reasons='[\"normal\"]', row_hash=? where seq=?",
                (forged, row["seq"]))
    con.commit()
    con.close()
    _refused_as_edited(gate, db)


def test_editing_only_the_key_column_hides_nothing(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    edit_by_hand(db, "update screenings set entrant_key='x99' where entrant_id='P42'")
    assert "entrant_key" in _refused_as_edited(gate, db)


def test_an_anonymous_screening_still_works_on_an_edited_log(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    edit_by_hand(db, "delete from screenings where entrant_id='P42'")
    v = gate.screen_json(db, "--temp", "36.6", "--mask", "yes")
    assert v["decision"] == "admit" and v["entrant_id"] is None


def test_a_clearance_on_an_edited_log_is_refused(gate, fever_db, tmp_path):
    db = _copy(fever_db, tmp_path)
    edit_by_hand(db, "update screenings set decision='admit' where entrant_id='P42'")
    r = gate("clearance", "add", "P42", "--note", "doctor's note", "--db", str(db))
    assert r.returncode == 3 and EDITED in one_clear_line(r)
