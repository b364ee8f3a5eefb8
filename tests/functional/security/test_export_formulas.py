"""Issue 14, exports: a roster name, an id or an operator written as a spreadsheet formula stays text in every
export (CSV: a leading single quote; XLSX: a string cell), identified and pseudonymised alike."""
import csv
import io
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from gate.auth import Auth, User
from storage.export import FORMULA_STARTS, _neutral_sql, _string_cells, neutral
from storage.log import ScreeningLog, local_day
from tests.functional.security.cli import run_gate
from tests.support import Clock, log_from_template, today_at

AUDITOR_PIN, DUTY_PIN = "581302", "640219"
LINK = '=HYPERLINK("http://x","a")'
ROSTER = ('id,name,class,kind\n'
          '"=HYPERLINK(""http://x"",""a"")","=HYPERLINK(""http://x"",""a"")",+1,pupil\n'
          'P2,@SUM(A1:A2),-2,pupil\n'
          'P3,"=1+1",\uff1d1+1,pupil\n')
AT = today_at(10)  # the screenings' time: their day is DAY even when the run crosses midnight
DAY = local_day(AT)


@pytest.fixture
def station(tmp_path):
    return log_from_template(tmp_path / "gate.db", formulas)  # made once a run: the PIN hashes are slow on purpose


def formulas(db):
    """A log whose roster names, classes and ids are formulas, three screenings by an operator named `=1+1`."""
    (db.parent / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert run_gate(None, None, "roster", "import", db.parent / "roster.csv", "--db", db)[0] == 0
    for entrant, temp in ((LINK, 36.5), ("P2", 38.5), ("P3", 36.6)):
        code, _, err = run_gate(None, None, "screen", "--db", db, "--temp", temp, "--mask", "yes",
                                "--entrant", entrant, "--operator", "=1+1", clock=Clock(AT))
        assert code == 0, err
    with ScreeningLog(db) as log:
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", "902741", None)
        auth.add_user("wu", "auditor", AUDITOR_PIN, User("admin", "admin"))


def export(capsys, monkeypatch, db, out, fmt, identified):
    code, _, err = run_gate(capsys, monkeypatch, "export", "--db", db, "--from", DAY, "--to", DAY, "--out", out,
                            "--format", fmt, "--user", "wu", "--pin-stdin", *(["--identified"] if identified else []),
                            stdin=AUDITOR_PIN + "\n")
    assert code == 0, err
    return out / f"screenings.{fmt}"


@pytest.mark.parametrize("identified", [True, False], ids=["identified", "pseudonymised"])
def test_no_csv_cell_starts_a_formula(station, tmp_path, capsys, monkeypatch, identified):
    path = export(capsys, monkeypatch, station, tmp_path / "out", "csv", identified)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert len(rows) == 4
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in FORMULA_STARTS]
    assert "'=1+1" in cells  # the operator, quoted, in both kinds of export
    if identified:
        assert {"'" + LINK, "'@SUM(A1:A2)", "'+1", "'-2"} <= set(cells)
        # P3's class ＝1+1 (full-width) is filed as =1+1 by the roster's one class spelling, and quoted like the rest:
        # the operator on three rows, P3's name and P3's class
        assert cells.count("'=1+1") == 5 and "\uff1d1+1" not in "".join(cells)
    else:
        assert not {c for c in cells if "HYPERLINK" in c or "SUM" in c}  # no names, no ids in a pseudonymised one
    code, out, _ = run_gate(capsys, monkeypatch, "export", "verify", path.parent, "--db", station)
    assert code == 0 and "signature checked" in out


@pytest.mark.parametrize("identified", [True, False], ids=["identified", "pseudonymised"])
def test_no_xlsx_cell_is_a_formula_and_formula_text_stays_text(station, tmp_path, capsys, monkeypatch, identified):
    path = export(capsys, monkeypatch, station, tmp_path / "out", "xlsx", identified)
    ws = load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert "=1+1" in texts  # the operator, as typed, as text
    if identified:
        assert {LINK, "@SUM(A1:A2)", "+1", "-2"} <= texts
    # and in the file itself: no <f> element anywhere (what Excel and LibreOffice would run)
    import zipfile
    with zipfile.ZipFile(path) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")


text_cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(text_cells)
@settings(max_examples=300, deadline=None)
def test_neutral_in_sql_and_python_agree_and_never_start_a_formula(text):
    con = sqlite3.connect(":memory:")
    in_sql = con.execute(f"SELECT {_neutral_sql('?1')}", (text,)).fetchone()[0]
    assert in_sql == neutral(text)
    assert neutral(text)[:1] not in FORMULA_STARTS
    assert neutral(text) in (text, "'" + text)


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12))
@settings(max_examples=60, deadline=None)
def test_any_text_written_to_xlsx_comes_back_as_the_same_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(_string_cells(ws, (text, "=" + text)))
    wb.save(path)
    row = next(load_workbook(path).active.iter_rows())
    assert [c.data_type for c in row] == ["s", "s"] and [c.value for c in row] == [text, "=" + text]
