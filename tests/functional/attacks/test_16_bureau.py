"""Attacks on the education bureau's view and the province's upstream (issue 16), against a real PostgreSQL: the
three-school district of tests/functional/test_bureau.py, read through the README's read-only role. Each attempt is
the `gate` command line as the district's owner, a school's gate PC or the bureau would type it."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.cli.common import read_config
from gate.station import Station
from storage.log import ScreeningLog
from storage.upstream import normalise_url
from tests.functional.attacks.conftest import PY, ROOT, faketime_prefix
from tests.functional.test_bureau import as_bureau, district  # noqa: F401  (fixtures)
from tests.pg import unavailable_reason
from tests.support import run_gate, upstream_sql

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def gate_config(path, station, school, name, url, db=None):
    path.write_text(f'[station]\nid = "{station}"\ndb = "{db or path.with_suffix(".db")}"\n'
                    f'[school]\nid = "{school}"\nname = "{name}"\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
    return path


def screen(config, *entrants):
    for who in entrants:
        done = run_gate("screen", "--config", config, "--temp", "36.5", "--mask", "yes", "--entrant", who)
        assert done.returncode == 0, done.stderr


owner_sql = upstream_sql  # the bureau's attack files import it from here


def clean_refusal(done, code, says):
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert says in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_a_second_station_under_an_id_already_registered_sends_nothing(district, tmp_path):
    owner, _, _, _ = district
    before = owner_sql(owner, "SELECT count(*) FROM screenings WHERE station_id = 'a-north'")
    impostor = gate_config(tmp_path / "impostor.toml", "a-north", "S-A", "红旗小学", owner)
    screen(impostor, "IMP-1")
    clean_refusal(run_gate("sync", "--once", "--config", impostor), 1, "is already registered upstream by another")
    assert owner_sql(owner, "SELECT count(*) FROM screenings WHERE station_id = 'a-north'") == before
    assert owner_sql(owner, "SELECT count(*) FROM screenings WHERE entrant_id = 'IMP-1'") == [(0,)]


def test_a_sync_replayed_after_a_crash_before_the_checkpoint_makes_no_duplicate(district, tmp_path):
    owner, _, _, _ = district
    config = gate_config(tmp_path / "z.toml", "z-gate", "S-Z1", "重放小学", owner)
    screen(config, "Z0", "Z1", "Z2")
    shutil.copy(tmp_path / "z.db", tmp_path / "z.bak")  # the log as it was before the sync's checkpoint moved
    assert run_gate("sync", "--once", "--config", config).returncode == 0
    shutil.copy(tmp_path / "z.bak", tmp_path / "z.db")
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"z.db{suffix}").unlink(missing_ok=True)
    again = run_gate("sync", "--once", "--config", config)
    assert again.returncode == 0, again.stderr
    assert owner_sql(owner, "SELECT count(*), count(DISTINCT id), count(DISTINCT seq) FROM screenings "
                            "WHERE station_id = 'z-gate'") == [(3, 3, 3)]


def test_escapes_in_a_school_name_written_upstream_reach_no_terminal_or_csv_raw(district, as_bureau):
    owner, url, today, _ = district
    # whoever holds a station's password may UPDATE its school's name (the README's grants)
    owner_sql(owner, "INSERT INTO schools (school_id, name, expected_stations, created_at) "
                     "VALUES ('S-ESC', :n, 1, 0)", n="\x1b[2J\x1b]0;pwned\x07校")
    d = today.isoformat()
    for argv in (("bureau", "daily", "--upstream", url, "--date", d),
                 ("bureau", "daily", "--upstream", url, "--date", d, "--csv"),
                 ("bureau", "late", "--upstream", url, "--date", d, "--at", "00:00"),
                 ("upstream", "school", "list", "--upstream", owner)):
        done = run_gate(*argv)
        assert "S-ESC" in done.stdout and "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
    owner_sql(owner, "DELETE FROM schools WHERE school_id = 'S-ESC'")


@pytest.mark.parametrize("argv, says", [
    (["upstream", "school", "add", "S-Q", "--name", "红\x1b[31m旗", "--stations", "1"], "control or invisible"),
    (["upstream", "school", "add", "S-Q", "--name", "q", "--stations", "0"], "must be 1 or more"),
    (["upstream", "school", "add", "S-Q", "--name", "q", "--stations", "-3"], "must be 1 or more"),
    (["upstream", "maintain", "--keep-days", "0"], "must be 1 or more"),
    (["upstream", "maintain", "--keep-days", "-1"], "must be 1 or more"),
    (["upstream", "maintain", "--ahead", "100000"], "--ahead must be 0 to 366 days"),
    (["bureau", "late", "--at", "24:00"], "is not a time of day"),
    (["bureau", "late", "--at", "9:0"], "is not a time of day"),
    (["bureau", "export", "--from", "2026-11-29", "--to", "2020-01-01", "--out", "x"], "is after --to"),
])
def test_a_wrong_number_time_or_range_is_refused_in_one_line(district, argv, says):
    owner, _, _, _ = district
    clean_refusal(run_gate(*argv, "--upstream", owner), 2, says)


def test_a_school_name_with_control_characters_in_a_station_config_is_refused(district, tmp_path):
    owner, _, _, _ = district
    config = gate_config(tmp_path / "e.toml", "e-gate", "S-E", "\\u001b[31mRED", owner)
    clean_refusal(run_gate("sync", "--once", "--config", config), 2, "control or invisible characters")
    assert owner_sql(owner, "SELECT count(*) FROM schools WHERE school_id = 'S-E'") == [(0,)]


def test_the_bureau_role_cannot_make_partitions(district, as_bureau):
    _, url, _, _ = district
    done = run_gate("upstream", "maintain", "--upstream", url)
    assert done.returncode == 1 and "permission denied" in done.stderr and "Traceback" not in done.stderr


def test_a_day_with_no_partition_is_not_reported_never_zero(district, as_bureau):
    _, url, _, _ = district
    done = run_gate("bureau", "daily", "--upstream", url, "--date", "2099-01-01", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and all(r["screened"] is None and r["zero_report"] is None and r["stations_reported"] == 0
                        for r in rows)


def test_an_export_into_a_used_folder_is_refused(district, as_bureau, tmp_path):
    _, url, today, _ = district
    out = tmp_path / "used"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    d = today.isoformat()
    clean_refusal(run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--out", out,
                           "--key", tmp_path / "k"), 2, "is not empty: give a new folder")  # the station's check
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.fixture
def exported(district, as_bureau, tmp_path):
    _, url, today, _ = district
    key, out = tmp_path / "bureau.key", tmp_path / "export"
    d = today.isoformat()
    done = run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--out", out, "--key", key)
    assert done.returncode == 0, done.stderr
    return out, key


def _lines(out):
    return (out / "screenings.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)


@pytest.mark.parametrize("tamper, says", [
    (lambda ls: ls[:-1], "rows were removed"),
    (lambda ls: ls + [ls[-1]], "rows differ"),
    (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], "changed since export"),
])
def test_an_edited_district_export_fails_verify_even_with_the_sha256_recomputed(exported, tamper, says):
    out, key = exported
    data, manifest_file = out / "screenings.csv", out / "manifest.json"
    data.write_text("".join(tamper(_lines(out))), encoding="utf-8-sig")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    manifest["files"][data.name]["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    done = run_gate("bureau", "verify", out, "--key", key)
    assert done.returncode == 1 and says in done.stdout


@pytest.mark.parametrize("edit, says", [
    (lambda out: (out / "manifest.json").write_text(json.dumps(
        {**json.loads((out / "manifest.json").read_text()), "rows": 999})), "manifest was edited"),
    (lambda out: (out / "screenings.csv").unlink(), "screenings.csv: missing"),
    (lambda out: (out / "extra.csv").write_text("x"), "extra.csv: not part of the export"),
])
def test_a_district_export_with_its_manifest_edited_a_file_gone_or_added_fails_verify(exported, edit, says):
    out, key = exported
    edit(out)
    done = run_gate("bureau", "verify", out, "--key", key)
    assert done.returncode == 1 and says in done.stdout


# a gate sends a zero report at 07:30, then confirms a fever: the bureau does not keep showing the zero report
def test_a_zero_report_made_early_then_a_fever_is_not_a_zero_report_upstream(district, as_bureau, tmp_path):
    owner, url, today, _ = district
    cfg = gate_config(tmp_path / "r.toml", "r-gate", "S-R", "早报小学", owner)
    screen(cfg, "R1")
    first = json.loads(run_gate("report", "daily", "--config", cfg, "--json").stdout)
    with ScreeningLog(tmp_path / "r.db") as log:
        st = Station(read_config(cfg), log)
        gun = Reading(object_c=38.5, body_c=38.5, source="gun-1", ambient_c=21.0)
        assert st.screen([gun], MaskResult(MaskState.YES), entrant_id="R2").decision == "retest"
        clinical = Reading(object_c=38.6, source="manual", operator="li", device_id="clinical-1")
        assert st.screen([clinical], MaskResult(MaskState.YES), entrant_id="R2").decision == "deny"
    assert run_gate("sync", "--once", "--config", cfg).returncode == 0
    daily = run_gate("bureau", "daily", "--upstream", url, "--date", today.isoformat(), "--json")
    row = {r["school_id"]: r for r in json.loads(daily.stdout)}["S-R"]
    mine = json.loads(run_gate("report", "daily", "--config", cfg, "--json").stdout)
    assert first["zero_report"] is True and mine["zero_report"] is False
    assert (row["screened"], row["confirmed_fevers"], row["zero_report"]) == \
        (mine["screened"], mine["confirmed_fevers"], False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_school_and_station_ids_are_text_in_the_district_export(district, as_bureau, tmp_path, fmt):
    import openpyxl

    owner, url, today, _ = district
    station = f"=2+{len(fmt)}"  # one station id per format: a second key under one id is refused
    config = gate_config(tmp_path / "f.toml", station, "=1+2", "=HYPERLINK(1)", owner)
    screen(config, "=cmd|calc")
    assert run_gate("sync", "--once", "--config", config).returncode == 0
    out, d = tmp_path / "out", today.isoformat()
    done = run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--format", fmt, "--out", out,
                    "--key", tmp_path / "k")
    assert done.returncode == 0, done.stderr
    if fmt == "csv":
        rows = (out / "screenings.csv").read_text(encoding="utf-8-sig").splitlines()
        assert any(r.startswith(f"'=1+2,'{station},") for r in rows) and not any(r.startswith("=") for r in rows)
    else:
        cells = [c for ws in openpyxl.load_workbook(out / "screenings.xlsx") for row in ws.iter_rows() for c in row]
        assert {c.value for c in cells if c.data_type == "s"} >= {"=1+2", station}
        assert not [c for c in cells if c.data_type == "f"]


def test_a_pupils_name_from_the_roster_is_in_no_table_the_bureau_role_can_read(district, as_bureau, tmp_path):
    owner, url, _, _ = district
    config = gate_config(tmp_path / "n.toml", "n-gate", "S-N", "名字小学", owner)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,class,kind\nN-1,张三丰,一年级一班,pupil\n", encoding="utf-8")
    assert run_gate("roster", "import", roster, "--config", config).returncode == 0
    screen(config, "N-1")
    assert run_gate("report", "daily", "--config", config).returncode == 0
    assert run_gate("sync", "--once", "--config", config).returncode == 0
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        seen = "".join(str(conn.execute(text(f'SELECT * FROM "{t}"')).all()) for t in tables)
    engine.dispose()
    assert "N-1" in seen and "张三丰" not in seen  # the gate's records went up; the name did not


def test_a_gate_whose_clock_is_years_ahead_is_counted_on_that_day_not_lost(district, as_bureau, tmp_path):
    owner, url, _, _ = district
    config = gate_config(tmp_path / "t.toml", "t-gate", "S-T", "钟偏小学", owner)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("FAKETIME", None)
    for args in (["screen", "--config", str(config), "--temp", "36.5", "--mask", "yes", "--entrant", "T1"],
                 ["report", "daily", "--config", str(config)]):
        done = subprocess.run([*faketime_prefix("@2031-03-03 07:30:00"), PY, "-m", "gate.cli", *args],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
    assert run_gate("sync", "--once", "--config", config).returncode == 0
    assert run_gate("upstream", "maintain", "--upstream", owner).returncode == 0
    daily = run_gate("bureau", "daily", "--upstream", url, "--date", "2031-03-03", "--json")
    row = {r["school_id"]: r for r in json.loads(daily.stdout)}["S-T"]
    assert (row["screened"], row["stations_reported"], row["zero_report"]) == (1, 1, True)
