"""Holes found by attacker a16 in issue 16 (the bureau's view, the province's upstream), now closed. Each test asserts
what the README promises; each failed before its fix (the HOLE notes say what happened then)."""
import datetime as dt
import socket

import pytest
from sqlalchemy import create_engine, text

from gate.ui.bureau import build_bureau_app
from storage import bureau
from storage.upstream import normalise_url
from tests.functional.attacks.test_16_bureau import gate_config, owner_sql, screen
from tests.functional.test_bureau import as_bureau, district  # noqa: F401  (fixtures)
from tests.functional.test_bureau_app import bureau_pilot, late_clock, school_ids
from tests.support import pilot_wait_until, run_gate


def one_line(done, code):
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "unexpected" not in done.stderr and "fault in the station's software" not in done.stderr


# HOLE 1. `gate bureau daily --upstream URL --date 0001-01-01` (also 9999-12-31, and `gate bureau late --date
# 0001-01-01`) exits 70: "gate: unexpected ValueError: year 0 is out of range (a fault in the station's software ...)"
# / "unexpected OverflowError: date value out of range". Should: exit 2, "'0001-01-01' is out of range: ..." (or
# answer "not reported" for every school), like the 2026-02-30 refusal.
@pytest.mark.parametrize("argv", [["bureau", "daily", "--date", "0001-01-01"],
                                  ["bureau", "daily", "--date", "9999-12-31"],
                                  ["bureau", "late", "--date", "0001-01-01"]])
def test_hole_a_date_at_the_calendar_edge_is_one_line(district, as_bureau, argv):
    _, url, _, _ = district
    done = run_gate(*argv, "--upstream", url)
    assert done.returncode in (0, 1, 2) and "unexpected" not in done.stderr


# HOLE 2. The bureau's read-only role running `gate upstream school add S-X --name x --stations 1 --upstream
# postgresql://gate_bureau@...` exits 70: "gate: unexpected ProgrammingError: (psycopg.errors.InsufficientPrivilege)
# permission denied for table schools [SQL: INSERT ...] (a fault in the station's software ...)". Should: exit 1
# with one line naming the refusal ("this role may not declare schools: the database's owner does"), as `gate
# upstream maintain` under the same role already does (exit 1).
def test_hole_the_bureau_role_declaring_a_school_is_a_clean_refusal(district, as_bureau):
    _, url, _, _ = district
    one_line(run_gate("upstream", "school", "add", "S-X", "--name", "x", "--stations", "1", "--upstream", url), 1)


# HOLE 3. `gate bureau serve --upstream URL --port P` with P already in use prints the textual-serve banner ("Serving
# ... on http://127.0.0.1:P") and then exits 70: "gate: unexpected OSError: [Errno 98] error while attempting to bind
# on address ('127.0.0.1', P): address already in use (a fault in the station's software ...)". Should: exit 1 with
# "port P on 127.0.0.1 is already in use: stop what holds it or give --port", before claiming to serve.
def test_hole_serve_on_a_port_in_use_is_one_line(district, as_bureau):
    _, url, _, _ = district
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        done = run_gate("bureau", "serve", "--upstream", url, "--port", busy.getsockname()[1])
    finally:
        busy.close()
    one_line(done, 1)
    assert "Serving" not in done.stdout


# HOLE 4. A school named `=1+2` (a station's config `[school] name = "=1+2"`, printable, accepted; or `gate upstream
# school add S-G --name '=1+2'`) reaches `gate bureau daily --csv` as the raw cell `S-G,=1+2,...`: a formula when the
# cron mail's CSV is opened in Excel (a school id `=1+2`, accepted by `school add`, starts its line raw too). Should: `'=1+2`, as the station's export and `gate bureau export` neutralise
# formulas (OWASP), since that CSV is made for a spreadsheet.
def test_hole_a_formula_school_name_is_neutralised_in_the_daily_csv(district, as_bureau):
    owner, url, today, _ = district
    assert run_gate("upstream", "school", "add", "S-G", "--name", "=1+2", "--stations", "1",
                    "--upstream", owner).returncode == 0
    done = run_gate("bureau", "daily", "--upstream", url, "--date", today.isoformat(), "--csv")
    assert "S-G,'=1+2," in done.stdout and "S-G,=1+2," not in done.stdout


# HOLE 5. A school name `[/] [` (printable, accepted: `gate upstream school add S-M --name '[/] [' --stations 1`, or written by
# whoever holds a station's password, which may UPDATE its school's name) crashes the Textual bureau app (and so
# every browser tab of `gate bureau serve`): rich.errors.MarkupError: closing tag '[/]' at position 0 has nothing to
# close, from the schools' DataTable. A name `[b]x[/b] [link=http://evil]y[/link]` is rendered as markup (bold, a
# link) instead of its text. Should: names (and station ids) shown as plain text (rich Text / escape), no crash.
async def test_hole_a_school_name_with_markup_does_not_crash_the_bureau_app(district, as_bureau):
    owner, url, today, _ = district
    owner_sql(owner, "INSERT INTO schools (school_id, name, expected_stations, created_at) VALUES "
                     "('S-M1', '[/] [', 1, 0), ('S-M2', '[b]x[/b] [link=http://evil]y[/link]', 1, 0)")
    engine = bureau.reader(url)
    try:
        app = build_bureau_app(engine, today, refresh_s=3600, clock=late_clock(today))
        async with app.run_test(size=(160, 40)) as pilot:
            assert await pilot_wait_until(pilot, lambda: {"S-M1", "S-M2"} <= set(school_ids(app)))
            await pilot.pause()
            assert app.is_running and "[/] [" in [str(app.table.get_cell(r.key, "name")) for r in app.table.ordered_rows]
    finally:
        engine.dispose()
        owner_sql(owner, "DELETE FROM schools WHERE school_id IN ('S-M1', 'S-M2')")


# HOLE 6. One station, two schools. A gate of school X (its log, its key) synced once as `[school] id = "S-X"`, then
# its config is swapped for school Y's (a teacher copied the wrong gate.toml): `gate sync --once` says "sent 2,
# quarantined 0" and the upstream now registers the same key as `x-gate` of S-X AND `x-gate` of S-Y; its earlier
# screenings stay counted under S-X, the new ones under S-Y, and both schools show the gate. Should (README: "One id,
# one station", a key fingerprint per station): refuse before sending, naming that this key is registered as
# x-gate of S-X ("restore that station's config, or give this station its own key").
def test_hole_one_station_key_is_not_registered_under_a_second_school(district, tmp_path):
    owner, _, _, _ = district
    as_x = gate_config(tmp_path / "x.toml", "x-gate", "S-X", "X校", owner)
    screen(as_x, "X1")
    assert run_gate("sync", "--once", "--config", as_x).returncode == 0
    as_y = gate_config(tmp_path / "y.toml", "x-gate", "S-Y", "Y校", owner, db=tmp_path / "x.db")
    screen(as_y, "X2")
    done = run_gate("sync", "--once", "--config", as_y)
    assert done.returncode == 1 and "S-X" in done.stderr
    assert owner_sql(owner, "SELECT count(*) FROM stations WHERE station_id = 'x-gate'") == [(1,)]


# HOLE 7 (soft). `gate upstream school add S-A --name other --stations 9` on an id that already names 红旗小学 says
# only "school S-A (other): 9 station(s) expected" and silently renames the school and changes its expected gates (a
# tired clerk's wrong id rewrites another school). Should: refuse ("S-A is 红旗小学 already: give --replace to rename
# it") or at least say what it changed ("renamed 红旗小学 → other, expected 2 → 9").
def test_hole_declaring_a_school_over_another_says_what_it_replaced(district):
    owner, _, _, _ = district
    done = run_gate("upstream", "school", "add", "S-A", "--name", "other", "--stations", "9", "--upstream", owner)
    try:
        assert done.returncode != 0 or "红旗小学" in done.stdout + done.stderr
    finally:
        owner_sql(owner, "UPDATE schools SET name = '红旗小学', expected_stations = 2 WHERE school_id = 'S-A'")



# Around the fixes: what they must still let through, and the same holes by another door.
def test_replace_says_what_it_replaced_and_the_same_declaration_again_is_no_change(district):
    owner, _, _, _ = district
    try:
        again = run_gate("upstream", "school", "add", "S-A", "--name", "红旗小学", "--stations", "2", "--upstream", owner)
        assert again.returncode == 0 and "replaced" not in again.stdout, again.stderr
        done = run_gate("upstream", "school", "add", "S-A", "--name", "other", "--stations", "9", "--replace",
                        "--upstream", owner)
        assert done.returncode == 0 and "name 红旗小学 → other" in done.stdout and "2 → 9" in done.stdout
        assert owner_sql(owner, "SELECT name, expected_stations FROM schools WHERE school_id = 'S-A'") == [("other", 9)]
    finally:
        owner_sql(owner, "UPDATE schools SET name = '红旗小学', expected_stations = 2 WHERE school_id = 'S-A'")


def test_a_station_that_was_its_own_school_may_join_its_real_school(district, tmp_path):
    owner, _, _, _ = district
    alone = tmp_path / "alone.toml"
    alone.write_text(f'[station]\nid = "lone-gate"\ndb = "{tmp_path / "lone.db"}"\n[upstream]\nurl = "{owner}"\n',
                     encoding="utf-8")
    screen(alone, "L1")
    assert run_gate("sync", "--once", "--config", alone).returncode == 0
    joined = gate_config(tmp_path / "joined.toml", "lone-gate", "S-L", "L校", owner, db=tmp_path / "lone.db")
    screen(joined, "L2")
    done = run_gate("sync", "--once", "--config", joined)
    assert done.returncode == 0, done.stderr
    assert owner_sql(owner, "SELECT school_id FROM stations WHERE station_id = 'lone-gate' ORDER BY 1") == \
        [("S-L",), ("lone-gate",)]


async def test_markup_or_the_calendar_edge_typed_in_the_day_picker_is_refused_and_kept(district, as_bureau):
    _, url, today, _ = district
    async with bureau_pilot(url, today) as (app, pilot):
        assert await pilot_wait_until(pilot, lambda: len(school_ids(app)) >= 3)
        for typed in ("[/] [", "0001-01-01", "9999-12-31"):
            app.day_input.value = typed
            app.day_input.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert app.is_running and app.day == today, typed
