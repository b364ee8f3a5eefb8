"""Attacks on the bureau's view (issue 16), second round, against a real PostgreSQL: a curious pupil with a station's
database URL (the README's station role, one role per gate), the bureau's staff at an office PC typing dates, times
and folders wrong, and the bureau's figures set beside each school's own reports (a school with two gates where one
never synced, a day across midnight, a school with only visitors). Every attempt here is refused or detected as the
README promises."""
import datetime as dt
import hashlib
import json
import os

import psycopg
import pytest

from storage.partitions import name_of
from tests.functional.attacks.bureau_roles_setup import (  # noqa: F401  (province: a fixture)
    DAY, Gate, at, make_gate, province, readme_sql, sql_as, station_role)
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.functional.test_bureau import as_bureau, district  # noqa: F401  (fixtures)
from tests.functional.test_bureau_app import bureau_pilot, school_ids
from tests.pg import unavailable_reason
from tests.support import Clock, pilot_wait_until, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ONE = dt.timedelta(days=1)
LATER = DAY + dt.timedelta(days=40)  # a day ahead of any maintain's 14 days


# --- the pupil with a station's database URL -------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SET ROLE postgres", "SET ROLE a16_west", "SET SESSION AUTHORIZATION postgres",
    f"CREATE TABLE {name_of(LATER)} PARTITION OF screenings FOR VALUES FROM ('{LATER}') TO ('{LATER + ONE}')",
    "CREATE TABLE mine (a int)",
    f"DROP TABLE {name_of(DAY)}",
    f"ALTER TABLE screenings DETACH PARTITION {name_of(DAY)}",
    "TRUNCATE screenings_default",
    "SELECT gate_roll_up()",
    "UPDATE school_days SET screened = 0",
    f"INSERT INTO bureau_exports VALUES ('S-W', 'e1', '{DAY}', '{DAY}', 0, 'csv', 'x', 'bureau', 0)",
    "INSERT INTO schools (school_id, name, created_at) VALUES ('S-Z', 'forged', 0)",
    "INSERT INTO daily_reports (id, station_id, day, created_at, school_id, content) "
    f"VALUES ('f1', 'w1', '{DAY}', 0, 'S-W', '{{}}')",
    "INSERT INTO daily_reports (id, station_id, day, created_at, school_id, content) "
    f"VALUES ('f2', 'n2', '{DAY}', 0, 'S-N', '{{}}')",  # bound to n1: not under its school's other gate
    "DELETE FROM bureau_exports",
])
def test_a_station_role_cannot_become_another_role_make_tables_or_write_for_others(province, sql):
    _, north, _ = province
    with pytest.raises(psycopg.Error, match="permission denied|must be owner|row-level security|does not exist"):
        sql_as(north, sql)


@pytest.mark.parametrize("table", ["screenings", "daily_reports", "bureau_exports", "school_days", "stations",
                                   "schools", "audit_events"])
def test_a_station_role_reads_nothing_of_another_school(province, table):
    _, north, _ = province
    assert sql_as(north, f"SELECT count(*) FROM {table} WHERE school_id <> 'S-N'") == [(0,)]


def test_a_daily_report_whose_content_names_another_gate_counts_for_no_other_gate(province):
    url, _, west = province
    before = json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json").stdout)
    content = owner_sql(url, "SELECT content FROM daily_reports WHERE station_id = 'w1'")[0][0]
    forged = json.loads(content) | {"station_id": "w2"}
    sql_as(west, "INSERT INTO daily_reports (id, station_id, day, created_at, school_id, content) "
                 "VALUES ('f0000000-0000-0000-0000-0000000000a1', 'w1', %s, 1, 'S-W', %s)",
           (DAY.isoformat(), json.dumps(forged)))
    after = json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json").stdout)
    by = lambda rows: {r["school_id"]: r["stations_reported"] for r in rows}  # noqa: E731
    assert by(after) == by(before) == {"S-N": 1, "S-W": 1}


def test_the_bureaus_role_may_neither_make_a_day_nor_touch_the_registry(district, as_bureau):
    _, url, _, _ = district
    for sql in ("SELECT gate_make_day(CURRENT_DATE + 3)", "UPDATE stations SET last_seq = 0",
                "SET ROLE postgres", "BEGIN; LOCK TABLE screenings IN SHARE UPDATE EXCLUSIVE MODE"):
        with pytest.raises(Exception, match="permission denied|does not exist"):  # no one but the owner makes a day
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql)


# --- the bureau's staff at an office PC ------------------------------------------------------------------------

NOT_DATES = ["2026-13-01", "29/11/2026", "tomorrow", "２０２６-１１-２９", " 2026-11-29"]
NOT_TIMES = ["9:00", "25:00", "08:60", "09:00+08:00", "01:00Z", "9am"]


@pytest.mark.parametrize("argv, says", [
    *[(["bureau", "daily", "--date", d], "is not a date: use YYYY-MM-DD") for d in NOT_DATES],
    *[(["bureau", "late", "--at", t], "is not a time of day: use HH:MM") for t in NOT_TIMES],
    (["bureau", "daily", "--cutoff", "09:00:00"], "is not a time of day: use HH:MM"),
])
def test_a_date_or_time_typed_wrong_is_one_line(tmp_path, argv, says):
    done = run_gate(*argv, "--upstream", f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("out", ["file", "/dev/null"])
def test_an_export_into_a_file_is_refused(district, as_bureau, tmp_path, out):
    _, url, today, _ = district
    target = tmp_path / "afile" if out == "file" else out
    if out == "file":
        target.write_text("mine")
    d = today.isoformat()
    done = run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--out", target,
                    "--key", tmp_path / "k")
    # the station export's one check now says it (storage.export.check_out), in the station's words
    assert done.returncode == 2 and "is a file, not a folder: give --out a new folder" in done.stderr
    if out == "file":
        assert target.read_text() == "mine"


@pytest.mark.parametrize("edit", ["resaved", "edited"])
def test_an_xlsx_export_opened_and_saved_again_fails_verify(district, as_bureau, tmp_path, edit):
    import openpyxl

    _, url, today, _ = district
    out, key, d = tmp_path / "x", tmp_path / "k", today.isoformat()
    assert run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--format", "xlsx", "--out", out,
                    "--key", key).returncode == 0
    sheet = out / "screenings.xlsx"
    book = openpyxl.load_workbook(sheet)
    if edit == "edited":
        cell = next(c for row in book.active.iter_rows() for c in row if c.value == "deny")
        cell.value = "admit"
    book.save(sheet)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["screenings.xlsx"] |= {"sha256": hashlib.sha256(sheet.read_bytes()).hexdigest(),
                                             "bytes": os.path.getsize(sheet)}
    (out / "manifest.json").write_text(json.dumps(manifest))
    done = run_gate("bureau", "verify", out, "--key", key)
    assert done.returncode == 1 and "screenings.xlsx: changed since export" in done.stdout
    assert "manifest was edited" in done.stdout


def test_bidi_and_zero_width_in_a_school_name_are_escaped_in_the_table_the_late_list_and_csv(district, as_bureau):
    owner, url, today, _ = district
    owner_sql(owner, "INSERT INTO schools (school_id, name, expected_stations, created_at) "
                     "VALUES ('S-BIDI', :n, 1, 0)", n="School\u202eA-S\u200b")
    d = today.isoformat()
    try:
        for argv in (("bureau", "daily", "--upstream", url, "--date", d),
                     ("bureau", "daily", "--upstream", url, "--date", d, "--csv"),
                     ("bureau", "late", "--upstream", url, "--date", d, "--at", "00:00")):
            done = run_gate(*argv)
            assert "S-BIDI" in done.stdout and "\\u202e" in done.stdout
            assert "\u202e" not in done.stdout and "\u200b" not in done.stdout
        rows = json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", d, "--json").stdout)
        assert {r["school_id"]: r["name"] for r in rows}["S-BIDI"] == "School\u202eA-S\u200b"  # JSON: as recorded
    finally:
        owner_sql(owner, "DELETE FROM schools WHERE school_id = 'S-BIDI'")


async def test_a_school_with_no_stations_opens_in_the_app_with_no_gates(district, as_bureau):
    from textual.widgets import DataTable

    _, url, today, _ = district
    async with bureau_pilot(url, today, size=(160, 50)) as (app, pilot):
        assert await pilot_wait_until(pilot, lambda: "S-C" in school_ids(app))
        app.table.focus()
        app.table.move_cursor(row=school_ids(app).index("S-C"))
        await pilot.press("enter")
        assert await pilot_wait_until(pilot, lambda: app.screen.query("#gates"))
        assert app.is_running and app.screen.query_one("#gates", DataTable).row_count == 0
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


# --- the figures beside each school's own reports --------------------------------------------------------------

@pytest.fixture(scope="module")
def figures(pg, tmp_path_factory):
    """S-T: two gates declared, t1 screens (a fever confirmed on retest, one pupil at 23:59:30 of DAY and one at
    00:00:30 the day after), t2 never syncs; S-V: only approved visitors. Each gate's daily reports for DAY and the
    day after are made at 23:59:50 / the next evening and synced."""
    work = tmp_path_factory.mktemp("a16figures")
    url = pg.create_db("a16_figures")
    assert run_gate("upstream", "school", "add", "S-T", "--name", "双门小学", "--stations", "2",
                    "--upstream", url).returncode == 0
    t1 = make_gate(work, "t1", "S-T", "双门小学", url)
    make_gate(work, "t2", "S-T", "双门小学", url)
    t1.screen_at(at(DAY, 7, 20), "T1")
    assert t1.screen_at(at(DAY, 7, 21), "T2", temp=38.5).decision == "retest"
    assert t1.screen_at(at(DAY, 7, 31), "T2", temp=38.6).decision == "deny"
    t1.screen_at(at(DAY, 23, 59, 30), "T3")
    nxt = DAY + dt.timedelta(days=1)
    t1.screen_at(at(nxt, 0, 0, 30), "T4")
    v1 = make_gate(work, "v1", "S-V", "访客小学", url, roster="id,name,class,kind\nV-P1,甲,一年级一班,pupil\n")
    done = run_gate("roster", "visitor", "add", "V-1", "--name", "王师傅", "--phone", "13800138000", "--reason",
                    "repair", "--host", "office", "--date", DAY.isoformat(), "--config", v1.cfg)
    assert done.returncode == 0, done.stderr
    v1.screen_at(at(DAY, 9, 0), "V-1")
    v1.screen_at(at(DAY, 9, 1), "V-2")  # not approved: refused
    reports = {}
    for name, gate in (("t1", t1), ("v1", v1)):
        for day, now in ((DAY, at(DAY, 23, 59, 50)), (nxt, at(nxt, 18, 0))):
            done = run_gate("report", "daily", "--config", gate.cfg, "--date", day.isoformat(), "--json",
                            clock=Clock(now))
            assert done.returncode == 0, done.stderr
            reports[name, day] = json.loads(done.stdout)
        assert run_gate("sync", "--once", "--config", gate.cfg).returncode == 0
    return url, reports


def bureau_row(url, day, school):
    done = run_gate("bureau", "daily", "--upstream", url, "--date", day.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    return {r["school_id"]: r for r in json.loads(done.stdout)}[school]


@pytest.mark.parametrize("day", [DAY, DAY + dt.timedelta(days=1)])
def test_a_two_gate_school_with_one_silent_gate_equals_its_gates_report_across_midnight(figures, day):
    url, reports = figures
    mine, row = reports["t1", day], bureau_row(url, day, "S-T")
    assert (row["screened"], row["confirmed_fevers"], row["no_mask_refusals"]) == \
        (mine["screened"], mine["confirmed_fevers"], mine["no_mask"])
    assert (row["stations_reported"], row["expected_stations"]) == (1, 2)
    assert row["provisional"] is True and row["zero_report"] is (False if mine["confirmed_fevers"] else None)
    assert mine["screened"] == (3 if day == DAY else 1)  # 23:59:30 on its day, 00:00:30 on the next


def test_a_school_with_only_visitors_equals_its_gates_report(figures):
    url, reports = figures
    mine, row = reports["v1", DAY], bureau_row(url, DAY, "S-V")
    assert (row["screened"], row["confirmed_fevers"], row["stations_reported"], row["provisional"]) == \
        (mine["screened"], 0, 1, False)
    assert row["zero_report"] is mine["zero_report"] is True


def test_the_late_list_exits_1_for_cron_naming_the_school_with_no_report(figures):
    url, _ = figures
    late = run_gate("bureau", "late", "--upstream", url, "--date", (DAY - dt.timedelta(days=1)).isoformat())
    assert late.returncode == 1 and {line.split()[0] for line in late.stdout.splitlines()} == {"S-T", "S-V"}
    done = run_gate("bureau", "late", "--upstream", url, "--date", DAY.isoformat())
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout


# --- more of the same, by other doors --------------------------------------------------------------------------

def test_a_station_role_declaring_or_redeclaring_a_school_is_refused_in_one_line(province):
    _, north, _ = province
    for argv in (["upstream", "school", "add", "S-N", "--name", "x", "--stations", "3", "--replace"],
                 ["upstream", "school", "add", "S-Q", "--name", "x", "--stations", "1"]):
        done = run_gate(*argv, "--upstream", north)
        assert done.returncode == 1 and done.stderr.startswith("gate: refused: this role may not declare schools")
        assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_a_station_role_writes_into_its_rows_are_text_in_the_district_export(province, tmp_path, fmt):
    import openpyxl

    url, north, _ = province
    sql_as(north, "INSERT INTO screenings (school_id, id, station_id, seq, created_at, day, entrant_id, decision, "
                  "reasons, message, threshold_c, mask, readings, prev_hash, row_hash, session, follows) VALUES "
                  "('S-N', %s, 'n1', %s, 1, %s, '=cmd|calc', '=1+2', %s, '', 37.3, '{}', '[]', 'x', 'y', '-2+3', "
                  "'@SUM(1)')", (f"inj-{fmt}", 500000 + len(fmt), DAY, json.dumps(['=HYPERLINK("http://e","x")'])))
    out = tmp_path / "out"
    done = run_gate("bureau", "export", "--upstream", url, "--from", DAY.isoformat(), "--to", DAY.isoformat(),
                    "--format", fmt, "--out", out, "--key", tmp_path / "k")
    assert done.returncode == 0, done.stderr
    if fmt == "csv":
        text = (out / "screenings.csv").read_text(encoding="utf-8-sig")
        row = next(line for line in text.splitlines() if f",{500000 + len(fmt)}," in line)
        assert ",'-2+3," in row and ",'=1+2," in row and "'=HYPERLINK" in row and row.endswith(",'@SUM(1)")
        assert "=cmd" not in text  # the pupil's id is pseudonymised
    else:
        cells = [c for row in openpyxl.load_workbook(out / "screenings.xlsx").active.iter_rows() for c in row]
        assert not [c for c in cells if c.data_type == "f"]
        assert {"=1+2", "-2+3", "@SUM(1)"} <= {c.value for c in cells if c.data_type == "s"}


@pytest.mark.parametrize("make", ["file", "missing", "not-json", "a-list", "escaping-entry", "dev-zero", "fifo"])
def test_bureau_verify_of_a_folder_that_is_no_export_is_a_finding_not_a_fault(district, as_bureau, tmp_path, make):
    _, url, today, _ = district
    out, key, d = tmp_path / "x", tmp_path / "k", today.isoformat()
    assert run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--out", out,
                    "--key", key).returncode == 0
    if make == "file":
        out = tmp_path / "a-file"
        out.write_text("x")
    elif make == "missing":
        out = tmp_path / "nothing-here"
    elif make == "not-json":
        (out / "manifest.json").write_text("{not json")
    elif make == "a-list":
        (out / "manifest.json").write_text("[1, 2]")
    elif make == "escaping-entry":
        (out / "manifest.json").write_text(json.dumps({"files": {"../../etc/passwd": {"sha256": "0", "rows": 1}}}))
    elif make == "dev-zero":
        (out / "screenings.csv").unlink()
        (out / "screenings.csv").symlink_to("/dev/zero")
    else:
        (out / "screenings.csv").unlink()
        os.mkfifo(out / "screenings.csv")
    done = run_gate("bureau", "verify", out, "--key", key)
    assert done.returncode == 1 and "the export is not as it was made" in done.stderr
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("argv, says", [(["--port", "70000"], "use 1 to 65535"),
                                        (["--host", "no.such.host.invalid"], "give an address of this machine")])
def test_serve_on_an_impossible_port_or_host_is_one_line(district, as_bureau, argv, says):
    _, url, _, _ = district
    done = run_gate("bureau", "serve", "--upstream", url, *argv)
    assert done.returncode == 2 and says in done.stderr and "Serving" not in done.stdout


def test_the_csv_the_json_and_the_terminal_table_say_the_same_for_every_school(district, as_bureau):
    import csv
    import io

    _, url, today, _ = district
    d = today.isoformat()
    rows = {r["school_id"]: r for r in json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", d,
                                                          "--json", "--cutoff", "00:00").stdout)}
    sheet = {r["school_id"]: r for r in csv.DictReader(io.StringIO(run_gate(
        "bureau", "daily", "--upstream", url, "--date", d, "--csv", "--cutoff", "00:00").stdout))}
    table = run_gate("bureau", "daily", "--upstream", url, "--date", d, "--cutoff", "00:00").stdout
    assert set(rows) == set(sheet) and all(f"school_id={s} " in table for s in rows)
    for school, row in rows.items():
        line = next(x for x in table.splitlines() if x.startswith(f"school_id={school} "))
        for key in ("screened", "confirmed_fevers", "no_mask_refusals", "unscreened", "open_cases", "clusters",
                    "stations_reported", "expected_stations"):
            value = row[key]
            assert sheet[school][key] == ("" if value is None else str(value)), (school, key)
            assert f" {key}={'not reported' if value is None else value} " in f" {line} ", (school, key, line)
        for key in ("late", "provisional"):
            assert sheet[school][key] == ("yes" if row[key] else "no") and f"{key}={sheet[school][key]}" in line
        zero = {True: "yes", False: "no", None: ""}[row["zero_report"]]
        assert sheet[school]["zero_report"] == zero
