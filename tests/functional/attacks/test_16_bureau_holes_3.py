"""Holes found by attacker a16 (second round) in issue 16, closed by f16b: the school's report provisional exactly when
the bureau's row is, one "unscreened" figure, a school's name escaped in the bureau's app, an export to a place it
cannot write and a refresh interval typed wrong refused in one line. Against a real PostgreSQL."""
import datetime as dt
import os
import json
import subprocess
import time

import psycopg
import pytest

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.cli.common import read_config
from gate.station import Station
from gate.ui.bureau import build_bureau_app
from storage import bureau
from storage.log import ScreeningLog
from tests.functional.attacks.conftest import PY, ROOT
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.functional.attacks.test_16_bureau_roles import DAY, at, make_gate, province, sql_as, station_role  # noqa: F401
from tests.functional.test_bureau import as_bureau, district  # noqa: F401  (fixtures)
from tests.functional.test_bureau_app import column, late_clock, school_ids
from tests.pg import unavailable_reason
from tests.support import Clock, pilot_wait_until, run_gate, wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


# HOLE H2 (the school's own report says 零报告 where the bureau says provisional). School S-H is declared by the bureau
# with 2 gates (`gate upstream school add S-H --name 和平小学 --stations 2`); gate h1 screens one pupil, makes its
# daily report and syncs; gate h2 never syncs. At 07:00 (no check of the day ended yet):
#   gate school report --upstream URL --school S-H --json   -> "provisional": false, "zero_report": true (零报告)
#   gate bureau daily --upstream URL --json                 -> S-H "provisional": true, "zero_report": null
# The README: "gate school report does the same for the school: … or a gate the bureau expects that never
# registered, makes it provisional". Should: the school report is provisional too (waiting_for names the unregistered
# gate), as the bureau's row is: one school, one answer. (After 14:00 it does say provisional.) The same with both
# gates registered and only x1 reporting (`--stations 1` declared, x1 and x2 synced, x2 made no daily report): the
# bureau says provisional (stations_reported 1 of 2 registered), `gate school report` says 零报告 before 08:30.
def test_hole_the_school_report_is_provisional_like_the_bureau_while_an_expected_gate_never_registered(pg, tmp_path):
    url = pg.create_db("a16_unreg")
    assert run_gate("upstream", "school", "add", "S-H", "--name", "和平小学", "--stations", "2",
                    "--upstream", url).returncode == 0
    h1 = make_gate(tmp_path, "h1", "S-H", "和平小学", url)
    h1.screen_at(at(DAY, 6, 50), "H1")
    assert run_gate("report", "daily", "--config", h1.cfg, "--date", DAY.isoformat(),
                    clock=Clock(at(DAY, 6, 55))).returncode == 0
    assert run_gate("sync", "--once", "--config", h1.cfg).returncode == 0
    row = {r["school_id"]: r for r in json.loads(run_gate("bureau", "daily", "--upstream", url, "--date",
                                                          DAY.isoformat(), "--json").stdout)}["S-H"]
    assert row["provisional"] is True and row["zero_report"] is None  # the bureau: 1 of 2 gates
    school = run_gate("school", "report", "--upstream", url, "--school", "S-H", "--date", DAY.isoformat(), "--json",
                      clock=Clock(at(DAY, 7, 0)))
    mine = json.loads(school.stdout)
    assert (mine["provisional"], mine["zero_report"]) == (True, None), mine


# HOLE H3 (one school day, three different "unscreened"). Gate u1 of school S-U (one gate, absence cases on by default)
# has a roster of three pupils and screens U1 at 07:10 only. At 15:00 `gate report daily --date D --json` says
# "unscreened": 2 (U2, U3: nobody saw them all day) and syncs (the report and the three absence cases go up: U2, U3
# absent from the morning check, U1 from the noon check). Then:
#   gate bureau daily --upstream URL --date D --json      -> S-U "unscreened": 3   (the pupils with an absence case)
#   gate school report --upstream URL --school S-U --date D -> unscreened 0, "seen 0 / 0" (no roster upstream), 零报告
# and on the day itself, before any check ended, the bureau shows "unscreened": 0 beside the gate's 2. The README:
# the bureau's figures equal the schools' own reports; "A figure a school did not send is not reported … never 0".
# Should: the bureau's unscreened is the school's own figure (the sum of its gates' daily reports' unscreened, 2 here),
# or null (not reported) when it cannot be known; never a third number, nor 0 while two pupils were not seen.
def test_hole_the_bureau_shows_no_unscreened_pupils_where_the_schools_report_has_two(pg, tmp_path):
    url = pg.create_db("a16_unscreened")
    u1 = make_gate(tmp_path, "u1", "S-U", "未检小学", url,
                   roster="id,name,class,kind\nU1,甲,一年级一班,pupil\nU2,乙,一年级一班,pupil\nU3,丙,一年级二班,pupil\n")
    u1.screen_at(at(DAY, 7, 10), "U1")
    mine = json.loads(run_gate("report", "daily", "--config", u1.cfg, "--date", DAY.isoformat(), "--json",
                               clock=Clock(at(DAY, 15, 0))).stdout)
    assert mine["unscreened"] == 2
    assert run_gate("sync", "--once", "--config", u1.cfg).returncode == 0
    row = {r["school_id"]: r for r in json.loads(run_gate("bureau", "daily", "--upstream", url, "--date",
                                                          DAY.isoformat(), "--json").stdout)}["S-U"]
    assert row["unscreened"] in (mine["unscreened"], None), row


# HOLE H4 (a school's name written by a station's role reaches the bureau's terminal raw in the app). The station role
# may UPDATE its school's name (README grant); `gate bureau daily`/`late`/`--csv` escape it (held by
# test_16_bureau.py), but `gate bureau app` (and every browser tab of `gate bureau serve`) writes it as it is:
#   psql "postgresql://gate_a@district-db/screening" -c "UPDATE schools SET name = E'A\x1b]0;pwned\x1b[31mRED\u202e'"
#   gate bureau app --upstream postgresql://gate_bureau@district-db/screening
# the terminal receives ESC ]0;pwned (the window title set), ESC [31m and the bidi override U+202E as bytes (checked on
# a pty: b"\x1b]0;pwned" in the output). README: "Nothing reaches a terminal raw … bidi overrides … shown as
# \u001b, \u202e"; "Names and ids are shown as their text". Should: the app shows the name escaped as the CLI does.
async def test_hole_a_school_name_with_escapes_is_shown_escaped_in_the_bureau_app(district, as_bureau):
    owner, url, today, _ = district
    role = station_role(owner, "a16_app_a", "S-A")
    # A station's role may fill its school's empty name only (u0016: never change one), so the name is emptied first
    owner_sql(owner, "UPDATE schools SET name = '' WHERE school_id = 'S-A'")
    with psycopg.connect(role, autocommit=True) as conn:
        assert conn.execute("UPDATE schools SET name = %s WHERE school_id = 'S-A'",
                            ("A\x1b]0;pwned\x1b[31mRED\u202e",)).rowcount == 1
    engine = bureau.reader(url)
    try:
        app = build_bureau_app(engine, today, refresh_s=3600, clock=late_clock(today))
        async with app.run_test(size=(160, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: "S-A" in school_ids(app))
            shown = column(app, "name")[school_ids(app).index("S-A")]
            screen = app.export_screenshot()
        assert "RED" in shown and "\x1b" not in shown and "\u202e" not in shown, ascii(shown)
        assert "\x1b" not in screen and "\u202e" not in screen
    finally:
        engine.dispose()
        owner_sql(owner, "UPDATE schools SET name = '红旗小学' WHERE school_id = 'S-A'")


# HOLE H8 (the bureau's export to a place it cannot write is "a fault in the station's software"). At the office PC:
#   gate bureau export --upstream URL --from D --to D --out /proc/nov     (or --out report.txt/nov, a file's child; or
#       a name of 300 characters; or --key /proc/bureau.key)
# exits 70: "gate: unexpected FileNotFoundError: [Errno 2] No such file or directory: '/proc/nov' (a fault in the
# station's software; details in …/gate-errors.log)" (NotADirectoryError, OSError: File name too long likewise).
# The station's `gate export` to the same places says "gate: cannot make the folder /proc/nov: No such file or
# directory; give --out a new folder you may write to" (exit 2), as the README promises ("Input at the edges":
# "an unwritable place → cannot make the folder …", exit 2; "Every failure is one line … never a traceback").
# Should: the same one line, exit 2, for --out and for --key; nothing recorded upstream (already so).
@pytest.mark.parametrize("where", ["file-child", "long", "proc", "key-in-proc"])
def test_hole_a_bureau_export_to_a_place_it_cannot_write_is_one_line(district, as_bureau, tmp_path, where):
    _, url, today, _ = district
    (tmp_path / "report.txt").write_text("mine")
    out, key = tmp_path / "out", tmp_path / "k"
    if where == "file-child":
        out = tmp_path / "report.txt" / "nov"
    elif where == "long":
        out = tmp_path / ("x" * 300)
    elif where == "proc":
        out = "/proc/a16-nov"
    else:
        key = "/proc/a16-bureau.key"
    d = today.isoformat()
    done = run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--out", out, "--key", key)
    assert done.returncode == 2 and "unexpected" not in done.stderr, (done.returncode, done.stderr)


# HOLE H9 (a refresh interval typed wrong is taken as it is). Every other number of the bureau's commands is checked
# (--stations 0, --keep-days 0, --ahead 100000, --port 70000 are refused in one line), but:
#   gate bureau app --upstream URL --refresh 0.0001     -> runs, and reloads the whole district ~230 times a second
#                                                          (1,842 transactions in 8 s against 10 with the default 30)
#   gate bureau serve --upstream URL --refresh 0.0001   -> every browser tab does the same to the province's database
#   gate bureau app --upstream URL --refresh 0 / -1 / nan -> runs, and never refreshes (the README: "It refreshes by
#                                                          itself (every 30 s)")
# Should: refused in one line (exit 2), e.g. "--refresh 0.0001: give 5 to 3600 seconds", before the app starts.
@pytest.mark.parametrize("refresh", ["0.0001", "0", "-1", "nan"])
def test_hole_a_refresh_interval_typed_wrong_is_refused(district, as_bureau, tmp_path, refresh):
    _, url, _, _ = district
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "dumb",
           "PGPASSFILE": os.environ["PGPASSFILE"]}
    try:
        done = subprocess.run([PY, "-m", "gate.cli", "bureau", "app", "--upstream", url, "--refresh", refresh],
                              capture_output=True, text=True, timeout=20, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gate bureau app --refresh {refresh} started (and ran 20 s) instead of refusing the number")
    assert done.returncode == 2 and "--refresh" in done.stderr


# H4 on a real terminal: `gate bureau app` (what every browser tab of `gate bureau serve` runs) on a pty, the school's
# name edited by a station's role; the process boundary is the point (the bytes the terminal receives).
def test_a_school_name_with_escapes_never_reaches_the_terminal_raw(district, as_bureau, tmp_path):
    import pty

    owner, url, today, _ = district
    role = station_role(owner, "a16_pty_a", "S-A")
    owner_sql(owner, "UPDATE schools SET name = '' WHERE school_id = 'S-A'")  # a role fills an empty name only (u0016)
    with psycopg.connect(role, autocommit=True) as conn:
        assert conn.execute("UPDATE schools SET name = %s WHERE school_id = 'S-A'",
                            ("A\x1b]0;pwned\x07\x1b[31mRED\u202e",)).rowcount == 1
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm-256color",
           "COLUMNS": "160", "LINES": "40", "PGPASSFILE": os.environ["PGPASSFILE"]}
    main, child = pty.openpty()
    os.set_blocking(main, False)
    proc = subprocess.Popen([PY, "-m", "gate.cli", "bureau", "app", "--upstream", url, "--date", today.isoformat()],
                            stdin=child, stdout=child, stderr=child, cwd=ROOT, env=env, close_fds=True)
    os.close(child)
    seen = bytearray()

    def read_until_shown() -> bool:
        try:
            seen.extend(os.read(main, 65536))
        except (BlockingIOError, OSError):
            pass
        return b"RED" in seen and b"S-C" in seen  # the edited name and the last school drawn

    try:
        assert wait_until(read_until_shown, seconds=60), bytes(seen[-400:])
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        os.close(main)
        owner_sql(owner, "UPDATE schools SET name = '红旗小学' WHERE school_id = 'S-A'")
    assert b"\x1b]0;pwned" not in seen and "\u202e".encode() not in seen and b"\x1b[31mRED" not in seen
    assert b"\\u001b]0;pwned" in seen  # shown, escaped, as the CLI's table shows it


# H8, the station's side of the one check: the station's own `gate export` to a name too long is the same one line.
def test_a_station_export_to_a_name_too_long_is_one_line(tmp_path):
    gate = make_gate(tmp_path, "g1", "S-G", "G校", "sqlite:///" + str(tmp_path / "up.db"))
    gate.screen_at(at(DAY, 7, 0), "G1")
    done = run_gate("export", "--config", gate.cfg, "--from", DAY.isoformat(), "--to", DAY.isoformat(),
                    "--out", tmp_path / ("y" * 300))
    assert done.returncode == 2 and "unexpected" not in done.stderr and "--out" in done.stderr, done.stderr


# H8: nothing is left behind or recorded when the key cannot be made: the folder is not made either.
def test_a_bureau_export_whose_key_cannot_be_made_leaves_no_folder(district, as_bureau, tmp_path):
    _, url, today, _ = district
    d = today.isoformat()
    (tmp_path / "report.txt").write_text("mine")
    done = run_gate("bureau", "export", "--upstream", url, "--from", d, "--to", d, "--out", tmp_path / "nov",
                    "--key", tmp_path / "report.txt" / "k")
    assert done.returncode == 2 and "--key" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "nov").exists() and (tmp_path / "report.txt").read_text() == "mine"


# H9, beyond the attacker's four: inf, a word, too long an interval; and serve checks the same before it serves.
@pytest.mark.parametrize("refresh", ["inf", "thirty", "3601", "4.9"])
def test_other_refresh_intervals_are_refused_by_app_and_serve(refresh):
    for command in ("app", "serve"):
        done = run_gate("bureau", command, "--upstream", "postgresql://gate_bureau@127.0.0.1:1/none",
                        "--refresh", refresh)
        assert done.returncode == 2 and "--refresh" in done.stderr and "5 to 3600" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) <= 3 and "Traceback" not in done.stderr


@pytest.mark.parametrize("refresh", ["5", "30", "3600"])
def test_the_allowed_refresh_intervals_are_taken(refresh):
    from gate.cli.bureau import refresh as refresh_type

    assert refresh_type(refresh) == float(refresh)


# H3 at the school's side: with no roster upstream the school's report says unscreened is not known (null, "—"),
# never 0 beside a gate's own figure.
def test_the_school_report_without_a_roster_upstream_does_not_say_nobody_was_unscreened(pg, tmp_path):
    url = pg.create_db("f16b_noroster")
    v1 = make_gate(tmp_path, "v1", "S-V", "无名册小学", url,
                   roster="id,name,class,kind\nV1,甲,一年级一班,pupil\nV2,乙,一年级一班,pupil\n")
    v1.screen_at(at(DAY, 7, 10), "V1")
    assert run_gate("sync", "--once", "--config", v1.cfg).returncode == 0  # share_roster is off: no roster upstream
    mine = json.loads(run_gate("school", "report", "--upstream", url, "--school", "S-V", "--date", DAY.isoformat(),
                               "--json", clock=Clock(at(DAY, 15, 0))).stdout)
    assert mine["roster_shared"] is False and mine["unscreened"] is None
    text = run_gate("school", "report", "--upstream", url, "--school", "S-V", "--date", DAY.isoformat(),
                    clock=Clock(at(DAY, 15, 0))).stdout
    assert "seen — (no roster upstream)" in text and "seen 0 / 0" not in text


# H8 at verify: a --key no file can be at (a name too long) is one line, exit 2, not "a fault in the software".
def test_bureau_verify_with_a_key_name_too_long_is_one_line(tmp_path):
    (tmp_path / "nov").mkdir()
    done = run_gate("bureau", "verify", tmp_path / "nov", "--key", tmp_path / ("k" * 300))
    assert done.returncode == 2 and "unexpected" not in done.stderr and "--key" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
