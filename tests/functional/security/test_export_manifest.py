"""Issue 14, exports: `gate export verify` catches a changed row even when the SHA-256 in manifest.json was
recomputed (the manifest and each file are signed with the station key), and a dropped row by the row counts."""
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.export import manifest_key, verify_export
from storage.export_manifest import MANIFEST
from storage.log import ScreeningLog, local_day
from tests.functional.security.cli import run_gate
from tests.support import Clock, today_at

AT = today_at(10)  # the screenings' time: their day is DAY even when the run crosses midnight
DAY = local_day(AT)


@pytest.fixture
def exported(tmp_path, capsys, monkeypatch):
    """A log with three screenings and its CSV export (PINs off: a station without users)."""
    db = tmp_path / "gate.db"
    for temp in (36.5, 38.5, 36.7):
        assert run_gate(capsys, monkeypatch, "screen", "--db", db, "--temp", temp, "--mask", "yes", clock=Clock(AT))[0] == 0
    out = tmp_path / "out"
    assert run_gate(capsys, monkeypatch, "export", "--db", db, "--from", DAY, "--to", DAY, "--out", out)[0] == 0
    return db, out


def recompute_sha(out, data: bytes, rows: int | None = None) -> None:
    """What a forger does: rewrite the file and put its new SHA-256 (and size, and row count) in the manifest."""
    (out / "screenings.csv").write_bytes(data)
    m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    meta = m["files"]["screenings.csv"]
    meta.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    if rows is not None:
        meta["rows"] = m["rows"] = rows
    (out / MANIFEST).write_text(json.dumps(m, ensure_ascii=False, indent=2), encoding="utf-8")


def verify(capsys, monkeypatch, db, out, *extra):
    return run_gate(capsys, monkeypatch, "export", "verify", out, "--db", db, *extra)


def test_a_fever_changed_to_an_admit_with_the_sha256_recomputed_is_caught(exported, capsys, monkeypatch):
    db, out = exported
    data = (out / "screenings.csv").read_bytes()
    assert b"retest" in data
    recompute_sha(out, data.replace(b"retest", b"admit").replace(b"38.5", b"36.5"))
    code, _, err = verify(capsys, monkeypatch, db, out)
    assert code == 1
    assert "keyed digest differs" in err and "signature does not match" in err


def test_a_dropped_row_is_caught_by_the_row_count(exported, capsys, monkeypatch):
    db, out = exported
    lines = (out / "screenings.csv").read_bytes().splitlines(keepends=True)
    recompute_sha(out, b"".join(lines[:-1]))
    code, _, err = verify(capsys, monkeypatch, db, out)
    assert code == 1 and "2 rows, the manifest says 3 (rows were removed)" in err
    # even checked without the key, the count in a manifest the forger forgot to change says so
    code, _, err = verify(capsys, monkeypatch, db, out, "--unsigned")
    assert code == 1 and "2 rows, the manifest says 3" in err


def test_a_dropped_row_with_the_count_also_changed_is_caught_by_the_signature(exported, capsys, monkeypatch):
    db, out = exported
    lines = (out / "screenings.csv").read_bytes().splitlines(keepends=True)
    recompute_sha(out, b"".join(lines[:-1]), rows=2)
    code, _, err = verify(capsys, monkeypatch, db, out)
    assert code == 1 and "signature does not match" in err
    code, out_text, _ = verify(capsys, monkeypatch, db, out, "--unsigned")  # what the key buys: this is not caught
    assert code == 0 and "signature not checked" in out_text


def test_an_export_signed_by_another_station_is_named_so(exported, tmp_path, capsys, monkeypatch):
    db, out = exported
    other = tmp_path / "other.db"
    assert run_gate(capsys, monkeypatch, "screen", "--db", other, "--temp", 36.5, "--mask", "yes", clock=Clock(AT))[0] == 0
    assert run_gate(capsys, monkeypatch, "export", "--db", other, "--from", DAY, "--to", DAY,
                    "--out", tmp_path / "o2")[0] == 0
    code, _, err = verify(capsys, monkeypatch, db, tmp_path / "o2")
    assert code == 1 and "signed with another key" in err


def test_a_manifest_without_a_signature_is_refused(exported, capsys, monkeypatch):
    db, out = exported
    m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    del m["signature"]
    (out / MANIFEST).write_text(json.dumps(m), encoding="utf-8")
    code, _, err = verify(capsys, monkeypatch, db, out)
    assert code == 1 and "not signed" in err


def test_verify_without_a_log_says_how_to_check_without_the_key(exported, tmp_path, capsys, monkeypatch):
    _, out = exported
    code, _, err = verify(capsys, monkeypatch, tmp_path / "nowhere.db", out)
    assert code == 2 and "no log at" in err
    code, _, err = run_gate(capsys, monkeypatch, "export", "verify", tmp_path / "gate.db", "--unsigned")
    assert code == 2 and "not a folder" in err


def test_an_unchanged_export_verifies_with_the_key(exported):
    db, out = exported
    with ScreeningLog(db) as log:
        key = manifest_key(log)
    assert verify_export(out, key) == []


@pytest.mark.parametrize("name", ["../gate.db", "/etc/passwd", "sub/x.csv", ".", MANIFEST])
def test_a_manifest_naming_files_outside_its_folder_is_refused(exported, name):
    _, out = exported
    m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    m["files"] = {name: {"sha256": "0" * 64, "rows": 0}}
    (out / MANIFEST).write_text(json.dumps(m), encoding="utf-8")
    problems = verify_export(out)
    assert len(problems) == 1 and "not a file of this folder" in problems[0]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids,
                                                                                      max_size=3), max_leaves=8)


@given(raw=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                     st.dictionaries(st.text(max_size=10), json_values, max_size=4).map(
                         lambda d: json.dumps({"files": d}).encode())))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_manifest_bytes_give_problems_never_a_crash(tmp_path, raw):
    (tmp_path / MANIFEST).write_bytes(raw)
    problems = verify_export(tmp_path, b"k" * 32)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
