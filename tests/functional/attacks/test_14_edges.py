"""Issue 14 attacks (a14): a 70 KB or ANSI-escaped name through roster import, names edited into the file shown by
`gate report unscreened` and `gate audit list`, formula names in the unscreened CSV and in a pseudonymised export,
the wrong-PIN counter cleared in the file, trivial PINs through users add and reset-pin."""
import csv
import io
import sqlite3

import pytest

from tests.support import log_from_template, run_gate

ADMIN_PIN = "583920"


def formula_roster(db):
    f = db.with_name("r.csv")
    f.write_text('id,name,class,kind\nP1,"=HYPERLINK(""http://x"",""a"")",=1+1,pupil\nP2,@SUM(A1:A2),+3-2,pupil\n'
                 'P3,-2+3,3-2,pupil\n', encoding="utf-8")
    assert run_gate("roster", "import", "--db", db, f).returncode == 0


@pytest.fixture
def roster_db(tmp_path):
    """A log whose roster (names and classes that look like formulas) `gate roster import` stored: imported once a run
    and copied into each test."""
    return log_from_template(tmp_path / "gate.db", formula_roster)


def test_a_70kb_name_is_refused_naming_line_and_field_and_nothing_is_imported(roster_db, tmp_path):
    f = tmp_path / "big.csv"
    f.write_text("id,name,class,kind\nP9," + "A" * 70_000 + ",3-2,pupil\n", encoding="utf-8")
    r = run_gate("roster", "import", "--db", roster_db, f)
    assert r.returncode == 2 and "line 2, field name" in r.stderr and "at most 128" in r.stderr
    assert "A" * 200 not in r.stderr  # the value is never echoed back
    assert "P9" not in run_gate("roster", "list", "--db", roster_db).stdout


@pytest.mark.parametrize("name", ["Li \x1b[2J\x1b[31mLei", "\"a\rFAKE\"", "Li\u202eieL", "Li\x07Lei"])
def test_an_escaped_name_is_refused_at_import(roster_db, tmp_path, name):
    f = tmp_path / "esc.csv"
    f.write_text(f"id,name,class,kind\nP8,{name},3-2,pupil\n", encoding="utf-8", newline="")
    r = run_gate("roster", "import", "--db", roster_db, f)
    assert r.returncode == 2 and "nothing was changed" in r.stderr and "\x1b" not in r.stderr
    assert "P8" not in run_gate("roster", "list", "--db", roster_db).stdout


def test_names_edited_into_the_file_are_shown_escaped_by_unscreened_and_audit_list(roster_db):
    with sqlite3.connect(roster_db) as c:
        c.execute("update entrants set name = 'Li'||char(27)||'[2J'||char(13)||'FAKE'||char(8238) "
                  "where roster_id = 'P3'")
        c.execute("update audit_events set actor = 'x'||char(27)||'[31m'||char(13)||'admin' where rowid = 1")
    for argv in (["report", "unscreened"], ["report", "unscreened", "--csv"], ["audit", "list"], ["roster", "list"]):
        r = run_gate(*argv, "--db", roster_db, newline="")
        shown = r.stdout + r.stderr
        assert "\x1b" not in shown and "\u202e" not in shown, argv
        assert "\rFAKE" not in shown and "\radmin" not in shown, argv
    assert "\\u001b" in run_gate("report", "unscreened", "--db", roster_db).stdout
    assert run_gate("verify", "--db", roster_db).returncode == 1  # the edit itself is named


def test_formula_names_are_neutral_in_the_unscreened_csv(roster_db):
    r = run_gate("report", "unscreened", "--db", roster_db, "--csv", newline="")
    assert r.returncode == 0
    for row in list(csv.reader(io.StringIO(r.stdout)))[1:]:
        for cell in row:
            assert not cell[:1] in ("=", "+", "-", "@", "\t", "\r"), row


def test_a_pseudonymised_export_of_formula_ids_and_operators_is_neutral(roster_db, tmp_path):
    f = tmp_path / "r2.csv"
    f.write_text('id,name,class,kind\n=1+1,"=HYPERLINK(""http://x"",""a"")",=1+1,pupil\n', encoding="utf-8")
    assert run_gate("roster", "import", "--db", roster_db, f, "--add").returncode == 0
    assert run_gate("screen", "--db", roster_db, "--temp", "38.6", "--entrant", "=1+1", "--operator", "=2+2",
                    "--mask", "yes").returncode == 0
    assert run_gate("screen", "--db", roster_db, "--temp", "36.6", "--entrant=@SUM(A1:A2)", "--operator=-op",
                    "--mask", "yes").returncode in (0, 2)
    out = tmp_path / "exp"
    r = run_gate("export", "create", "--db", roster_db, "--from", "2000-01-01", "--to", "2100-01-01", "--out", out,
                 newline="")
    assert r.returncode == 0, r.stderr
    text = (out / "screenings.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    assert "HYPERLINK" not in text  # pseudonymised: no names


def test_the_wrong_pin_counter_cleared_in_the_file_refuses_every_sign_in(tmp_path):
    db = tmp_path / "gate.db"
    assert run_gate("users", "add", "boss", "--role", "admin", "--db", db, "--pin-stdin",
                    input=f"{ADMIN_PIN}\n").returncode == 0
    r = run_gate("users", "list", "--db", db, "--user", "boss", "--pin-stdin", input="000001\n")
    assert r.returncode == 1 and "9 tries left" in r.stderr
    with sqlite3.connect(db) as c:
        c.execute("update users set failures = 0")
    r = run_gate("users", "list", "--db", db, "--user", "boss", "--pin-stdin", input=f"{ADMIN_PIN}\n")
    assert r.returncode == 1 and "changed or added outside the station" in r.stderr
    assert run_gate("verify", "--db", db).returncode == 1


@pytest.mark.parametrize("pin", ["123456", "000000", "654321", " 123456", "123456 ", "1234567890", "0000000000000000",
                                 "11223344", "123321", "101010", "24682468", "147369", "159753", "012345678",
                                 "１２３４５６", "٣٣٣٣٣٣", "12345", ""])
def test_a_trivial_or_odd_pin_is_refused_at_add_and_at_reset(tmp_path, pin):
    db = tmp_path / "gate.db"
    assert run_gate("screen", "--db", db, "--temp", "36.5", "--mask", "yes", "--operator", "t").returncode == 0
    assert run_gate("users", "add", "boss", "--role", "admin", "--db", db, "--pin-stdin",
                    input=f"{ADMIN_PIN}\n").returncode == 0
    r = run_gate("users", "add", "zz", "--role", "duty", "--db", db, "--user", "boss", "--pin-stdin",
                 input=f"{ADMIN_PIN}\n{pin}\n")
    assert r.returncode in (1, 2) and "added" not in r.stdout and "Traceback" not in r.stderr
    assert run_gate("users", "add", "zz", "--role", "duty", "--db", db, "--user", "boss", "--pin-stdin",
                    input=f"{ADMIN_PIN}\n739184\n").returncode == 0
    r = run_gate("users", "reset-pin", "zz", "--db", db, "--user", "boss", "--pin-stdin",
                 input=f"{ADMIN_PIN}\n{pin}\n")
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr
    # the old PIN still signs in: the refused reset changed nothing
    r = run_gate("screen", "--db", db, "--temp", "36.5", "--mask", "yes", "--user", "zz", "--pin-stdin",
                 input="739184\n")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("raw, says", [(b"id,name,class,kind\nP1,Jos\xe9,3-2,pupil\n", "not UTF-8 text"),
                                       (b"\xff\xfei\x00d\x00", "not UTF-8 text"),
                                       (b"id,name,class,kind\nP1,Li\x00Lei,3-2,pupil\n", "control or invisible")])
def test_a_roster_in_another_encoding_or_with_a_nul_is_one_line_and_imports_nothing(roster_db, tmp_path, raw, says):
    f = tmp_path / "odd.csv"
    f.write_bytes(raw)
    r = run_gate("roster", "import", "--db", roster_db, f)
    assert r.returncode == 2 and says in r.stderr and "nothing was changed" in r.stderr
    assert "Jos" not in run_gate("roster", "list", "--db", roster_db).stdout
