"""The education bureau's view against a real PostgreSQL: three schools, five stations. 红旗小学 (two gates)
sends a zero report, 实验小学 (two gates) a confirmed fever and a no-mask refusal, 城南中学 is declared with one
gate that never syncs (late). The bureau's figures equal the schools' own daily reports; the bureau reads through a
read-only role (the README's SQL, run as written) that cannot write."""
import datetime as dt
import itertools
import json
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.cli.common import read_config
from gate.station import Station
from storage import bureau
from storage.log import ScreeningLog, local_day
from storage.upstream import normalise_url
from tests.pg import BIN, unavailable_reason
from tests.support import ROOT, pg_passfile, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
SCHOOLS = {"S-A": "红旗小学", "S-B": "实验小学", "S-C": "城南中学"}
STATIONS = {"a-north": "S-A", "a-south": "S-A", "b-gate1": "S-B", "b-gate2": "S-B", "c-gate": "S-C"}
BUREAU_PASSWORD = "bureau-test-pw"
FEVERS = ("B-P42", "B-P43", "B-P44")  # three pupils of 三年级二班 with a confirmed fever on one day: a cluster
_districts = iter(range(100))


def reading(t: float) -> list[Reading]:
    return [Reading(object_c=t, body_c=t, source="gun-1", ambient_c=21.0)]


def readme_bureau_grants() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- bureau-grants -->")[1].split("<!-- /bureau-grants -->")[0]
    return block.split("```sql")[1].split("```")[0]


@pytest.fixture(scope="module")
def district(pg, tmp_path_factory):
    """The three schools' upstream: each station screens, makes its daily report (gate report daily) and syncs
    (gate sync), except c-gate, which never does; returns (owner url, bureau url, today, the stations' reports)."""
    name = f"bureau_district_{next(_districts)}"  # one per module that uses it, on the run's one server
    url = pg.create_db(name)
    work = tmp_path_factory.mktemp("bureau")
    reports = {}
    # Everything happens inside today's morning check (06:30-08:30), whatever the hour the suite runs at: after 08:30
    # the stations would close the morning and open absence cases for the pupils they screened outside it.
    today = dt.date.fromisoformat(local_day(time.time()))
    ticks = itertools.count()
    clock = lambda: dt.datetime.combine(today, dt.time(7, 30)).timestamp() + next(ticks)  # noqa: E731
    for station, school in STATIONS.items():
        cfg = work / f"{station}.toml"
        cfg.write_text(f'[station]\nid = "{station}"\ndb = "{work / station}.db"\n'
                       f'[school]\nid = "{school}"\nname = "{SCHOOLS[school]}"\n'
                       f'[upstream]\nurl = "{url}"\n', encoding="utf-8")
        if station == "c-gate":
            continue
        if station == "b-gate1":  # its pupils' classes, so that three fevers in one class make a cluster
            roster = work / "b-roster.csv"
            roster.write_text("id,name,class,kind\n" + "".join(
                f"{p},{p},三年级二班,pupil\n" for p in (*FEVERS, *(f"b-gate1-P{i}" for i in range(3)))),
                encoding="utf-8")
            done = run_gate("roster", "import", roster, "--config", cfg, clock=clock)
            assert done.returncode == 0, done.stderr
        with ScreeningLog(work / f"{station}.db") as log:
            st = Station(read_config(cfg), log, clock=clock)
            for i in range(3 if station != "a-south" else 2):
                st.screen(reading(36.4 + i / 10), MaskResult(MaskState.YES), entrant_id=f"{station}-P{i}")
            for pupil in FEVERS if station == "b-gate1" else ():  # fevers confirmed on retest: a class's cluster
                assert st.screen(reading(38.5), MaskResult(MaskState.YES), entrant_id=pupil).decision == "retest"
                clinical = Reading(object_c=38.6, source="manual", operator="li", device_id="clinical-1")
                assert st.screen([clinical], MaskResult(MaskState.YES), entrant_id=pupil).decision == "deny"
            if station == "b-gate2":  # refused for no mask
                st.screen(reading(36.6), MaskResult(MaskState.NO), entrant_id="B-P7")
        out = run_gate("report", "daily", "--config", cfg, "--json", clock=clock)
        assert out.returncode == 0, out.stderr
        reports[station] = json.loads(out.stdout)
        out = run_gate("sync", "--once", "--config", cfg, clock=clock)
        assert out.returncode == 0, out.stderr
    # Each gate syncs once more after the day's last check (nothing left to send): a gate not synced since a check
    # ended keeps its school provisional (storage.provisional), and the bureau here reads the whole day at any hour.
    evening = dt.datetime.combine(today, dt.time(19, 45)).timestamp()
    for station in STATIONS.keys() - {"c-gate"}:
        out = run_gate("sync", "--once", "--config", work / f"{station}.toml", clock=lambda: evening)
        assert out.returncode == 0, out.stderr
    out = run_gate("upstream", "school", "add", "S-C", "--name", SCHOOLS["S-C"], "--stations", "1", "--upstream", url)
    assert out.returncode == 0, out.stderr
    engine = create_engine(normalise_url(url))
    grants = readme_bureau_grants().replace("change-me", BUREAU_PASSWORD).replace("DATABASE screening",
                                                                                   f"DATABASE {name}")
    with engine.begin() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = 'gate_bureau'").first():
            grants = grants.split(";", 1)[1]  # the role exists on this server already (another module made it)
        conn.exec_driver_sql(grants)
    engine.dispose()
    hba = pg.data / "pg_hba.conf"
    if "gate_bureau" not in hba.read_text():
        hba.write_text(f"host all gate_bureau 127.0.0.1/32 scram-sha-256\n{hba.read_text()}")
        pg._run(str(BIN / "pg_ctl"), "-D", str(pg.data), "reload")
    return url, f"postgresql://gate_bureau@127.0.0.1:{pg.port}/{name}", today, reports


@pytest.fixture
def as_bureau(monkeypatch, tmp_path, pg):
    pg_passfile(monkeypatch, tmp_path / "pgpass", f"127.0.0.1:{pg.port}:*:gate_bureau:{BUREAU_PASSWORD}")


def by_school(rows):
    return {r.school_id: r for r in rows}


def test_the_figures_per_school_equal_the_schools_own_reports(district, as_bureau):
    _, url, today, reports = district
    engine = bureau.reader(url)
    rows = by_school(bureau.schools_on(engine, today, now=time.time() + 86400))  # read the day after: past cutoff
    engine.dispose()
    assert list(rows) == ["S-A", "S-B", "S-C"] and rows["S-A"].name == "红旗小学"
    for school in ("S-A", "S-B"):
        mine = [reports[s] for s, sc in STATIONS.items() if sc == school]
        row = rows[school]
        assert row.screened == sum(r["screened"] for r in mine)
        assert row.confirmed_fevers == sum(r["confirmed_fevers"] for r in mine)
        assert row.no_mask_refusals == sum(r["denied_by_reason"].get("no-mask", 0) for r in mine)
        assert row.zero_report == all(r["zero_report"] for r in mine)
        assert row.stations_reported == row.expected_stations == 2 and not row.late
        assert row.last_sync is not None
    assert rows["S-A"].zero_report is True and rows["S-A"].screened == 5 and rows["S-A"].open_cases == 0
    assert rows["S-B"].zero_report is False and rows["S-B"].confirmed_fevers == 3 and rows["S-B"].clusters == 1
    assert rows["S-B"].clusters == sum(len(reports[s]["clusters"]) for s in ("b-gate1", "b-gate2"))
    assert rows["S-B"].no_mask_refusals == 1 and rows["S-B"].open_cases == 4  # three fevers, one no-mask
    assert rows["S-A"].clusters == 0
    late = rows["S-C"]
    assert late.late and late.stations_reported == 0 and late.expected_stations == 1 and late.last_sync is None
    # never invented: what S-C did not send is not reported, not zero
    assert (late.screened, late.confirmed_fevers, late.unscreened, late.open_cases, late.zero_report) == \
        (None, None, None, None, None)


def test_before_the_cutoff_nobody_is_late_and_after_it_the_silent_school_is(district, as_bureau):
    _, url, today, _ = district
    engine = bureau.reader(url)
    early = dt.datetime.combine(today, dt.time(8, 59)).timestamp()
    assert bureau.late(engine, today, early) == []
    after = dt.datetime.combine(today, dt.time(9, 0)).timestamp()
    assert [r["school_id"] for r in bureau.late(engine, today, after)] == ["S-C"]
    assert [r["school_id"] for r in bureau.late(engine, today, after, cutoff=dt.time(9, 30))] == []
    engine.dispose()


def test_from_the_command_line_daily_json_csv_and_late_exit_1(district, as_bureau):
    _, url, today, _ = district
    out = run_gate("bureau", "daily", "--upstream", url, "--date", today.isoformat(), "--json", "--cutoff", "00:00")
    assert out.returncode == 0, out.stderr
    rows = {r["school_id"]: r for r in json.loads(out.stdout)}
    assert rows["S-C"]["late"] is True and rows["S-C"]["screened"] is None and rows["S-B"]["confirmed_fevers"] == 3
    out = run_gate("bureau", "daily", "--upstream", url, "--date", today.isoformat(), "--csv")
    lines = out.stdout.splitlines()
    assert lines[0].startswith("school_id,name,expected_stations") and len(lines) == 4
    assert lines[3].startswith("S-C,城南中学,1,0,,,")  # not reported: empty cells, not zeros
    out = run_gate("bureau", "late", "--upstream", url, "--date", today.isoformat(), "--at", "00:00")
    assert out.returncode == 1 and out.stdout.startswith("S-C  城南中学  last sync never")
    assert "1 school(s) without a daily report" in out.stderr
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    out = run_gate("bureau", "late", "--upstream", url, "--date", yesterday, "--json")
    assert out.returncode == 1 and len(json.loads(out.stdout)) == 3  # nobody reported yesterday


def test_a_school_drill_down_shows_gates_sessions_and_pseudonymised_cases(district, as_bureau):
    _, url, today, _ = district
    engine = bureau.reader(url)
    found = bureau.detail(engine, "S-B", today, time.time())
    assert bureau.detail(engine, "S-X", today, time.time()) is None
    trend = bureau.trend(engine, today)
    engine.dispose()
    assert [g["station_id"] for g in found.gates] == ["b-gate1", "b-gate2"]
    assert found.gates[0]["confirmed_fevers"] == 3 and all(g["reported"] for g in found.gates)
    assert sum(s["screened"] for s in found.sessions) == found.school.screened
    reasons = sorted(c["reason"] for c in found.cases)
    assert reasons == ["fever", "fever", "fever", "no-mask"]
    assert {c["class"] for c in found.cases if c["reason"] == "fever"} == {"三年级二班"}
    shown = json.dumps([c for c in found.cases], ensure_ascii=False)
    assert "B-P42" not in shown and "B-P7" not in shown and all(c["pupil"].startswith("p-") for c in found.cases)
    assert len(trend["S-B"]) == 7 and trend["S-B"][-1]["confirmed_fevers"] == 3 and trend["S-B"][-1]["reported"]
    assert trend["S-C"][-1] == {"day": today.isoformat(), "screened": 0, "confirmed_fevers": 0, "reported": False}


@pytest.mark.parametrize("sql", ["DELETE FROM screenings", "UPDATE schools SET name = 'x'",
                                 "INSERT INTO schools (school_id, name, created_at) VALUES ('x', 'x', 0)",
                                 "DROP TABLE cases"])
def test_the_bureau_role_cannot_write(district, as_bureau, sql):
    _, url, _, _ = district
    engine = create_engine(normalise_url(url))
    with pytest.raises(DBAPIError, match="permission denied|must be owner|read-only"):
        with engine.begin() as conn:
            conn.execute(text(sql))
    engine.dispose()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_a_district_export_is_pseudonymised_signed_verified_and_recorded_upstream(district, as_bureau, tmp_path, fmt):
    owner_url, url, today, _ = district
    key, out = tmp_path / "bureau.key", tmp_path / "export"
    done = run_gate("bureau", "export", "--upstream", url, "--from", today.isoformat(), "--to", today.isoformat(),
                    "--format", fmt, "--out", out, "--key", key)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schools"] == {"S-A": 5, "S-B": 13} and manifest["rows"] == 18 and manifest["pseudonymised"]
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    data = out / f"screenings.{fmt}"
    if fmt != "xlsx":
        content = data.read_text(encoding="utf-8-sig")
        assert "B-P42" not in content and "a-north-P0" not in content and "p-" in content
    assert run_gate("bureau", "verify", out, "--key", key).returncode == 0
    engine = create_engine(normalise_url(owner_url))
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT school_id, rows FROM bureau_exports WHERE export_id = :e ORDER BY 1"),
                                {"e": manifest["export_id"]}).all()
    engine.dispose()
    assert recorded == [("S-A", 5), ("S-B", 13)]
    if fmt == "csv":  # a changed row with the SHA-256 recomputed in the manifest is still caught
        import hashlib
        data.write_text(content.replace("deny", "admit", 1), encoding="utf-8-sig")
        manifest["files"][data.name]["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
        (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        bad = run_gate("bureau", "verify", out, "--key", key)
        assert bad.returncode == 1 and "recomputed" in bad.stdout + bad.stderr


@pytest.mark.parametrize("argv, code, says", [
    (["bureau", "late", "--at", "25:99"], 2, "is not a time of day: use HH:MM"),
    (["bureau", "daily", "--date", "2026-02-30"], 2, "is not a date: use YYYY-MM-DD"),
    (["bureau", "daily", "--cutoff", "9h"], 2, "is not a time of day"),
])
def test_a_wrong_time_or_date_is_one_line(tmp_path, argv, code, says):
    out = run_gate(*argv, "--upstream", f"sqlite:///{tmp_path / 'x.db'}")
    assert out.returncode == code and says in out.stderr and "Traceback" not in out.stderr


def test_an_upstream_without_the_schema_or_out_of_reach_is_one_line(tmp_path):
    empty = run_gate("bureau", "daily", "--upstream", f"sqlite:///{tmp_path / 'empty.db'}")
    assert empty.returncode == 1 and "has schema none" in empty.stderr and "the database's owner upgrades it" in \
        empty.stderr and len(empty.stderr.strip().splitlines()) == 1
    gone = run_gate("bureau", "late", "--upstream", f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")
    assert gone.returncode == 1 and "unreachable" in gone.stderr and "Traceback" not in gone.stderr
