"""Issue 14, input at the edges: nothing from the log reaches a terminal raw. A pupil who edits the SQLite file to put
ESC sequences, a carriage return, a C1 CSI or a bidi override into an audit event gets them shown escaped by `gate
audit list` (and every other listing: all of a command's output goes through one escaping stream); --json stays
valid JSON that gives the original text back."""
import json
import sqlite3
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identifiers import escaped
from tests.functional.security.cli import run_gate

FORGED = "wu\x1b[2J\x1b[32mADMIT\rzhang\x9b31m\u202eevil"
HIDDEN = ("\x1b", "\r", "\x9b", "\u202e")


def test_audit_list_shows_forged_control_characters_escaped(tmp_path, capsys, monkeypatch):
    db = tmp_path / "gate.db"
    assert run_gate(capsys, monkeypatch, "screen", "--db", db, "--temp", 36.5, "--mask", "yes")[0] == 0
    con = sqlite3.connect(db)  # what a pupil with the file can do
    con.execute("update audit_events set actor = ?, action = ?", (FORGED, "x\x07\x1b]0;title\x07"))
    con.commit()
    con.close()
    code, out, err = run_gate(capsys, monkeypatch, "audit", "list", "--db", db)
    assert code == 0, err
    assert not any(h in out for h in HIDDEN) and "\x07" not in out
    assert "wu\\u001b[2J\\u001b[32mADMIT\\u000dzhang\\u009b31m\\u202eevil" in out
    assert len(out.strip().splitlines()) == 2  # the CR forged no line: one line per event
    code, out, _ = run_gate(capsys, monkeypatch, "audit", "list", "--db", db, "--json")
    assert code == 0 and not any(h in out for h in HIDDEN)
    assert FORGED in [json.loads(line)["actor"] for line in out.splitlines()]


def test_an_edited_roster_name_is_listed_escaped(tmp_path, capsys, monkeypatch):
    db = tmp_path / "gate.db"
    (tmp_path / "r.csv").write_text("id,name,class,kind\nP1,Li,1A,pupil\n", encoding="utf-8")
    assert run_gate(capsys, monkeypatch, "roster", "import", tmp_path / "r.csv", "--db", db)[0] == 0
    con = sqlite3.connect(db)
    con.execute("update entrants set name = ?", (FORGED,))
    con.commit()
    con.close()
    code, out, err = run_gate(capsys, monkeypatch, "roster", "list", "--db", db)
    assert not any(h in out + err for h in HIDDEN)
    assert code != 0 or "\\u001b[2J" in out  # refused as edited (a sealed roster), or shown escaped


def test_csv_line_endings_pass_and_a_lone_carriage_return_does_not(tmp_path, capsys, monkeypatch):
    db = tmp_path / "gate.db"
    assert run_gate(capsys, monkeypatch, "screen", "--db", db, "--temp", 36.5, "--mask", "yes")[0] == 0
    code, out, _ = run_gate(capsys, monkeypatch, "report", "daily", "--db", db, "--csv")
    assert code == 0 and out.count("\r\n") >= 3 and out.replace("\r\n", "").count("\r") == 0


@given(st.text())
@settings(max_examples=500, deadline=None)
def test_escaped_text_hides_nothing_and_json_gives_it_back(text):
    shown = escaped(text)
    assert not [c for c in shown if unicodedata.category(c)[0] == "C" or c in "\u2028\u2029"]
    assert json.loads(escaped(json.dumps(text, ensure_ascii=False))) == text
