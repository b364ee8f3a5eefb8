"""Exports with manifests, the daily (zero) report, the roster and visitors, purge, and the audit trail."""
import csv
import io
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from drivers.base import Reading
from gate.config import Config
from domain import Decision, MaskResult, MaskState
from gate.station import Station
from storage import audit, reports
from storage.export import ExportError, export, manifest_key, purge_older_than, verify_export
from storage.log import ScreeningLog, local_day
from storage.roster import RosterError, Visitor, add_visitor, import_roster, parse_roster, unscreened
from tests.support import Clock, pilot_wait_until, run_gate, today_at, typing_goes_to

ROSTER = "id,name,class,kind\nS1,张三,一年级1班,pupil\nS2,李四,一年级1班,学生\nT1,王老师,教务处,staff\n".encode()
# The station's clock stands at 10:00 of the day this module was loaded: the day the tests report, export and
# approve visitors for is the day they screened on, even when the run crosses midnight.
AT = today_at(10)
TODAY = local_day(AT)


def hand(v):
    return Reading(object_c=v, body_c=v, source="manual", operator="li", device_id="clinical-1")


@pytest.fixture
def school(db_path):
    log = ScreeningLog(db_path)
    import_roster(log, ROSTER, station_id="north", actor="admin")
    yield log, Station(Config(station_id="north"), log, clock=Clock(AT))
    log.close()


def test_daily_report_counts_outcomes_and_zero_report(school):
    log, st = school
    st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="S1")
    first = st.screen([hand(37.9)], MaskResult(MaskState.YES), entrant_id="S2")
    st.retest(first, hand(37.0))  # retest normal: admitted
    st.screen([hand(36.6)], MaskResult(MaskState.NO), entrant_id="T1")
    r = reports.daily(log, TODAY, "north")
    assert (r["screened"], r["admitted"], r["denied"]) == (3, 2, 1)
    assert r["denied_by_reason"] == {"no-mask": 1} and r["no_mask"] == 1
    assert r["retests"] == {"total": 1, "admitted": 1, "denied": 0, "open": 0}
    assert r["confirmed_fevers"] == 0 and r["zero_report"] is True and r["unscreened"] == 0
    fever = st.screen([hand(38.4)], MaskResult(MaskState.YES))
    st.retest(fever, hand(38.6))
    r = reports.daily(log, TODAY, "north")
    assert r["confirmed_fevers"] == 1 and r["zero_report"] is False
    assert r["denied_by_reason"] == {"fever-confirmed": 1, "no-mask": 1}


def test_a_gate_without_a_roster_says_unscreened_is_not_known_never_0(db_path):
    from storage.bureau import report_figures

    with ScreeningLog(db_path) as log:
        station = Station(Config(station_id="east"), log, clock=Clock(AT))  # on TODAY, even past midnight
        station.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="S1")
        r = reports.daily(log, TODAY, "east")
    assert (r["unscreened"], r["unscreened_ids"], r["roster"]) == (None, [], 0)  # before: "unscreened": 0
    done = run_gate("report", "daily", "--db", db_path, "--date", TODAY, "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["unscreened"] is None
    assert "\nunscreened: — (no roster)\n" in run_gate("report", "daily", "--db", db_path, "--date", TODAY).stdout
    rows = dict(csv.reader(io.StringIO(run_gate("report", "daily", "--db", db_path, "--date", TODAY, "--csv").stdout)))
    assert rows["unscreened"] == "" and rows["screened"] == "1"  # an empty cell, as the bureau's CSV says it
    assert report_figures(json.dumps(r))["unscreened"] is None  # the bureau reads it as not reported
    # A roster imported afterwards: the figure is known again, and counts the one nobody saw
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER, station_id="east", actor="admin")
        again = reports.daily(log, TODAY, "east")
    assert again["unscreened"] == 2 and again["roster"] == 3


def test_an_open_fever_retest_is_not_a_zero_report(school):
    log, st = school
    st.screen([hand(38.0)], MaskResult(MaskState.YES), entrant_id="S1")
    r = reports.daily(log, TODAY, "north")
    assert r["retests"]["open"] == 1 and r["zero_report"] is False
    assert r["unscreened_ids"] == ["S2", "T1"]


def test_report_cli_json_csv_and_stored_for_sync(school, db_path):
    log, st = school
    st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="S1")
    base = ["report", "daily", "--db", str(db_path)]
    d = json.loads(run_gate(*base, "--json", clock=Clock(AT)).stdout)
    assert d["zero_report"] is True and d["screened"] == 1 and d["day"] == TODAY
    out = run_gate(*base, "--csv", clock=Clock(AT)).stdout
    assert "zero_report,True" in out
    with log.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from outbox where kind='daily_report'").scalar() == 2
    bad = run_gate(*base, "--date", "yesterday")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_unscreened_roster_members(school):
    log, st = school
    st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="T1")
    assert [e.roster_id for e in unscreened(log, TODAY)] == ["S1", "S2"]


def test_visitors_are_refused_unless_pre_approved(school):
    log, st = school
    s = st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="V-100")
    assert s.decision is Decision.DENY and "visitor-not-approved" in s.reasons
    add_visitor(log, Visitor("V-100", "赵先生", "138 0000 1234", "parents' meeting", "王老师", TODAY),
                station_id="north", actor="guard")
    s = st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="V-100")
    assert s.decision is Decision.ADMIT
    add_visitor(log, Visitor("V-200", "钱女士", "139 0000 5678", "delivery", "后勤处", "2020-01-01"),
                station_id="north", actor="guard")
    assert st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="V-200").decision is Decision.DENY
    with pytest.raises(RosterError, match="phone"):
        add_visitor(log, Visitor("V-3", "x", "12", "r", "h", None), station_id="north", actor="guard")
    approvals = [e["detail"]["visitor_id"] for e in audit.events(log) if e["action"] == "visitor-approved"]
    assert approvals == ["V-200", "V-100"]


def test_without_a_roster_ids_are_not_checked(db_path):
    with ScreeningLog(db_path) as log:
        s = Station(Config(), log).screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="anyone")
        assert s.decision is Decision.ADMIT


@pytest.mark.parametrize("content, says", [
    ("name,class,kind\nx,y,pupil\n", "no `id` column"),
    ("id,name,class,kind\nS1,,1班,pupil\n", "line 2, field name"),
    ("id,name,class,kind\nS1,a,1班,alien\n", "line 2, field kind"),
    ("id,name,class,kind\nS1,a,1班,pupil\nS1,b,1班,pupil\n", "line 3, field id: S1 is already on line 2"),
    ("id,name,class,kind\nS1,a\n", "line 2: 2 fields"),
    ("", "empty"),
    ("id,name,class,kind\n", "no people"),
])
def test_roster_errors_name_line_and_field_and_import_nothing(db_path, content, says):
    with ScreeningLog(db_path) as log:
        with pytest.raises(RosterError) as err:
            import_roster(log, content.encode("utf-8"), station_id="n", actor="a")
        assert says in str(err.value)
        from storage.roster import roster_size
        assert roster_size(log) == 0


def test_roster_with_bom_and_chinese_headers():
    data = "\ufeff编号,姓名,班级,类型\nS9,孙七,二年级3班,学生\n".encode("utf-8")
    (e,) = parse_roster(data)
    assert (e.roster_id, e.name, e.group, e.kind.value) == ("S9", "孙七", "二年级3班", "pupil")
    with pytest.raises(RosterError, match="UTF-8"):
        parse_roster("id,name,class,kind\nS1,张三,1,pupil\n".encode("gbk"))


@settings(max_examples=300)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: ("id,name,class,kind\n" + t).encode()))
def test_roster_parser_never_crashes(data):
    try:
        people = parse_roster(data)
    except RosterError as exc:
        assert exc.problems
    else:
        assert people and all(p.roster_id and p.name for p in people)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_export_is_pseudonymised_by_default_and_verifiable(school, tmp_path, fmt):
    log, st = school
    st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="S1")
    st.screen([hand(36.7)], MaskResult(MaskState.YES), entrant_id="S1")
    st.screen([hand(36.8)], MaskResult(MaskState.YES), entrant_id="T1")
    out = tmp_path / "exp"
    m = export(log, date_from=TODAY, date_to=TODAY, fmt=fmt, out_dir=out, identified=False, actor="auditor-wu",
               station_id="north")
    assert m["rows"] == 3 and m["pseudonymised"] and m["chain_head"] == log.verify().head and m["chain_rows"] == 3
    data = (out / f"screenings.{fmt}").read_bytes()
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows needs the BOM
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0][0] == "记录编号 (id)" and len(rows) == 4
        entrants = [r[3] for r in rows[1:]]
    elif fmt == "jsonl":
        entrants = [json.loads(x)["entrant"] for x in data.decode().splitlines()]
    else:
        ws = load_workbook(out / "screenings.xlsx").active
        entrants = [r[3] for r in ws.iter_rows(min_row=2, values_only=True)]
    text = data.decode("utf-8", errors="ignore") if fmt != "xlsx" else "".join(map(str, entrants))
    for name in ("张三", "王老师", "一年级1班"):
        assert name not in text
    assert not {"S1", "T1"} & set(entrants)
    assert entrants[0] == entrants[1] != entrants[2] and entrants[0].startswith("p-")
    assert verify_export(out, manifest_key(log)) == []
    ev = audit.events(log, 1)[0]
    assert ev["action"] == "export" and ev["actor"] == "auditor-wu" and ev["detail"]["rows"] == 3


def test_identified_export_has_ids_and_names_and_tampering_is_caught(school, tmp_path, db_path):
    log, st = school
    st.screen([hand(36.5)], MaskResult(MaskState.YES), entrant_id="S1")
    out = tmp_path / "idexp"
    export(log, date_from=TODAY, date_to=TODAY, fmt="csv", out_dir=out, identified=True, actor="wu", station_id="n")
    text = (out / "screenings.csv").read_text(encoding="utf-8-sig")
    assert "S1" in text and "张三" in text and "一年级1班" in text
    data = (out / "screenings.csv").read_bytes()
    (out / "screenings.csv").write_bytes(data.replace(b"36.5", b"35.6"))
    assert any("changed" in p for p in verify_export(out))
    cli = run_gate("export", "verify", out, "--db", db_path)
    assert cli.returncode == 1 and "CHANGED" in cli.stderr


@pytest.mark.parametrize("kw, says", [
    ({"date_from": "2026-13-01"}, "not a date"),
    ({"date_from": "2026-11-30", "date_to": "2026-11-01"}, "after"),
    ({"fmt": "pdf"}, "format"),
])
def test_bad_export_ranges_are_refused(school, tmp_path, kw, says):
    log, _ = school
    args = {"date_from": "2026-11-01", "date_to": "2026-11-30", "fmt": "csv", "out_dir": tmp_path / "e",
            "identified": False, "actor": "a", "station_id": "n", **kw}
    with pytest.raises(ExportError, match=says):
        export(log, **args)


def test_export_refuses_a_folder_with_files_in_it(school, tmp_path):
    log, _ = school
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x.csv").write_text("x")
    with pytest.raises(ExportError, match="not empty"):
        export(log, date_from=TODAY, date_to=TODAY, fmt="csv", out_dir=tmp_path / "old", identified=False,
               actor="a", station_id="n")


def test_purge_keeps_the_chain_verifiable_and_is_recorded(school):
    log, st = school
    old = [st.screen([hand(36.5)], MaskResult(MaskState.YES)) for _ in range(5)]
    recent = [st.screen([hand(36.6)], MaskResult(MaskState.YES)) for _ in range(3)]
    with log.engine.begin() as conn:  # age the first five by 40 days (a real station would simply wait)
        conn.exec_driver_sql("update screenings set created_at = created_at - 40*86400 where seq <= 5")
    # Changing created_at breaks those rows' hashes: rebuild the chain as if they had been written 40 days ago.
    from tests.support import relink_screenings
    with log.engine.begin() as conn:
        relink_screenings(log, conn)
    assert log.verify().ok
    result = purge_older_than(log, 30, station_id="north", actor="admin")
    assert result["rows"] == 5
    assert log.ids() == {s.id for s in recent} and not (log.ids() & {s.id for s in old})
    v = log.verify()
    assert v.ok and v.rows == 3
    assert audit.events(log, 1)[0]["action"] == "purge" and audit.verify(log).ok
    # Purging everything left, then screening again: the new row links to the anchor and the chain verifies.
    purge_older_than(log, 1, station_id="north", actor="admin", now=time.time() + 5 * 86400)
    assert log.count() == 0 and log.verify().ok
    st.screen([hand(36.6)], MaskResult(MaskState.YES))
    assert log.verify().ok and log.verify().rows == 1


def test_purge_never_deletes_what_the_upstream_has_not_received(school, tmp_path):
    log, st = school
    for _ in range(4):
        st.screen([hand(36.5)], MaskResult(MaskState.YES))
    from storage.retention import UpstreamCheck
    from storage.sync import Sync

    sync = Sync(log, f"sqlite:///{tmp_path / 'district.db'}", batch_size=5)
    sync.once(max_batches=1)  # the roster import's audit event, then two screenings with their manual-entry events
    result = purge_older_than(log, 1, station_id="north", actor="admin", now=time.time() + 3 * 86400,
                              upstream=UpstreamCheck(sync))
    sync.close()
    assert result["rows"] == 2 and result["kept_unsynced"] == 2 and log.verify().ok
    assert result["kept"] == {"not-confirmed": 2}


async def test_the_duty_screen_registers_a_refused_visitor(db_path):
    from gate.ui.app import build_app
    from gate.ui.screens.visitor import VisitorForm

    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER, station_id="north", actor="admin")
        app = build_app(Config(language="en", mask_mode="off", station_id="north"), log, operator="guard-wang")
        async with app.run_test(size=(100, 30)) as pilot:
            duty = app.duty

            async def screen_v77() -> None:
                await pilot.press(*"V-77", "enter", "f2")
                assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "manual-temp"))
                await pilot.press(*"36.5", "enter")

            await screen_v77()
            assert await pilot_wait_until(  # the visitor form, offered at once
                pilot, lambda: isinstance(app.screen, VisitorForm) and typing_goes_to(app, "v-name"))
            assert duty.latest.decision is Decision.DENY
            await pilot.press(*"Zhao", "enter", *"13800001234", "enter", *"meeting", "enter", *"Teacher Li",
                              "enter")
            assert await pilot_wait_until(
                pilot, lambda: any(e["action"] == "visitor-approved" for e in audit.events(log)))
            refused = duty.latest
            await screen_v77()
            assert await pilot_wait_until(pilot, lambda: duty.latest is not refused)
            assert duty.latest.decision is Decision.ADMIT and duty.latest.entrant_id == "V-77"
            ev = next(e for e in audit.events(log) if e["action"] == "visitor-approved")
            assert ev["actor"] == "guard-wang" and ev["detail"]["visitor_id"] == "V-77"
