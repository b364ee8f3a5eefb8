"""Roles and PINs: lockout that survives a restart, refusals with reasons, an audit row for every attempt."""
import json
import subprocess
import time

import pytest

from gate.auth import Auth, AuthError, Policy, User, hash_pin, pin_matches
from gate.config import Config
from domain import Decision, MaskState
from storage import audit
from storage.log import ScreeningLog
from tests.support import (GATE, Clock, apply_policy, env_with_root, log_from_template, pilot_wait_until, run_gate,
                           typing_goes_to)
from tests.functional.duty_pilot import type_slowly

ADMIN = User("admin", "admin")


def staff(db):
    """An admin, a duty teacher, an auditor and a maintenance worker, with their PINs."""
    with ScreeningLog(db) as log:
        auth = Auth(log, "north")
        auth.add_user("admin", "admin", "900001", None)
        for name, role, pin in (("zhang", "duty", "318274"), ("wu", "auditor", "427351"), ("li", "maintenance",
                                                                                             "536482")):
            auth.add_user(name, role, pin, ADMIN)
        apply_policy(log)  # with PINs on, only an admin stores the first screening policy


@pytest.fixture
def people(db_path):
    log = ScreeningLog(log_from_template(db_path, staff))
    auth = Auth(log, "north")
    yield log, auth
    log.close()


def actions(log, n=50):
    return [(e["actor"], e["action"]) for e in audit.events(log, n)]


def test_pins_are_salted_peppered_scrypt_hashes():
    pepper, other = b"p" * 32, b"q" * 32
    a, b = hash_pin("581302", pepper), hash_pin("581302", pepper)
    assert a != b and a.startswith("scrypt-hmac$") and "581302" not in a
    assert pin_matches("581302", a, pepper) and not pin_matches("581303", a, pepper)
    assert not pin_matches("581302", "garbage", pepper)
    assert not pin_matches("581302", a, other)  # without the station key's pepper the hash proves nothing


@pytest.mark.parametrize("pin", ["12345", "abcdef", "12 3456", "", "１２３４５６"])
def test_short_or_non_digit_pins_are_refused(people, pin):
    _, auth = people
    with pytest.raises(AuthError, match="6 to 32 digits"):
        auth.add_user("x", "duty", pin, ADMIN)


def test_ten_wrong_pins_lock_and_a_restart_does_not_unlock(people, db_path):
    log, auth = people
    for i in range(9):
        with pytest.raises(AuthError, match="tries left"):
            auth.check("zhang", "000000", "override")
    with pytest.raises(AuthError, match="locked until"):
        auth.check("zhang", "000000", "override")
    log.close()
    with ScreeningLog(db_path) as again:  # a restart
        auth2 = Auth(again, "north")
        with pytest.raises(AuthError, match=r"locked until \d\d:\d\d"):
            auth2.check("zhang", "318274", "override")  # even the right PIN
        assert auth2.check("zhang", "318274", "override", now=time.time() + 31 * 60).name == "zhang"
        names = [a for _, a in actions(again)]
        assert names.count("login-failed") == 9 and "lockout" in names and "login-refused" in names
        assert names[0] == "login"


def test_lockout_is_configurable(db_path):
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "n", Policy(lockout_failures=3, lockout_minutes=1))
        auth.add_user("admin", "admin", "900001", None)
        for _ in range(2):
            with pytest.raises(AuthError, match="tries left"):
                auth.check("admin", "1", "manage-users")
        with pytest.raises(AuthError, match="locked"):
            auth.check("admin", "1", "manage-users")


@pytest.mark.parametrize("name, pin, action, allowed", [
    ("zhang", "318274", "override", True),
    ("zhang", "318274", "manual-entry", True),
    ("zhang", "318274", "calibrate", False),
    ("zhang", "318274", "export-identified", False),
    ("zhang", "318274", "purge", False),
    ("li", "536482", "calibrate", True),
    ("li", "536482", "purge", False),
    ("wu", "427351", "export-identified", True),
    ("wu", "427351", "purge", True),
    ("wu", "427351", "manage-users", False),
    ("admin", "900001", "manage-users", True),
])
def test_every_action_needs_its_role_and_leaves_an_audit_row(people, name, pin, action, allowed):
    log, auth = people
    if allowed:
        assert auth.check(name, pin, action).name == name
        assert actions(log, 1)[0] == (name, "login")
    else:
        with pytest.raises(AuthError, match="needs"):
            auth.check(name, pin, action)
        ev = audit.events(log, 1)[0]
        assert (ev["actor"], ev["action"], ev["detail"]["action"]) == (name, "refused", action)


def test_user_management_needs_an_admin_and_the_first_user_is_one(db_path):
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "n")
        with pytest.raises(AuthError, match="first user must be an admin"):
            auth.add_user("zhang", "duty", "318274", None)
        auth.add_user("admin", "admin", "900001", None)
        with pytest.raises(AuthError, match="needs an admin"):
            auth.add_user("zhang", "duty", "318274", User("wu", "auditor"))
        auth.add_user("zhang", "duty", "318274", ADMIN)
        auth.disable("zhang", ADMIN)
        with pytest.raises(AuthError, match="no active user"):
            auth.check("zhang", "318274", "override")
        auth.reset_pin("admin", "900002", ADMIN)
        assert auth.check("admin", "900002", "manage-users")


def gate(*args, stdin=""):
    return run_gate(*args, input=stdin)


def test_cli_identified_export_needs_an_auditor(people, db_path, tmp_path):
    log, _ = people
    from drivers.base import Reading
    from domain import MaskResult
    from gate.station import Station

    Station(Config(station_id="north"), log).screen(
        [Reading(object_c=36.5, body_c=36.5, source="manual", operator="z")], MaskResult(MaskState.YES),
        entrant_id="S1")
    base = ["export", "--from", "2000-01-01", "--to", "2100-01-01", "--db", db_path]
    no_user = gate(*base, "--out", tmp_path / "a", "--identified")
    assert no_user.returncode == 2 and "--user" in no_user.stderr
    duty = gate(*base, "--out", tmp_path / "b", "--identified", "--user", "zhang", "--pin-stdin", stdin="318274\n")
    assert duty.returncode == 1 and "needs auditor" in duty.stderr and not (tmp_path / "b" / "manifest.json").exists()
    wrong = gate(*base, "--out", tmp_path / "c", "--identified", "--user", "wu", "--pin-stdin", stdin="000000\n")
    assert wrong.returncode == 1 and "wrong PIN" in wrong.stderr and "Traceback" not in wrong.stderr
    ok = gate(*base, "--out", tmp_path / "d", "--identified", "--user", "wu", "--pin-stdin", stdin="427351\n")
    assert ok.returncode == 0, ok.stderr
    assert "S1" in (tmp_path / "d" / "screenings.csv").read_text(encoding="utf-8-sig")
    trail = actions(log, 10)
    assert ("wu", "export") in trail and ("wu", "login") in trail and ("zhang", "refused") in trail
    assert ("wu", "login-failed") in trail


def test_cli_purge_and_users_commands(people, db_path):
    refused = gate("purge", "--older-than", "30", "--db", db_path, "--user", "zhang", "--pin-stdin",
                   stdin="318274\n")
    assert refused.returncode == 1 and "needs auditor" in refused.stderr
    ok = gate("purge", "--older-than", "30", "--db", db_path, "--user", "wu", "--pin-stdin", stdin="427351\n")
    assert ok.returncode == 0 and "chain verifies" in ok.stdout
    add = gate("users", "add", "chen", "--role", "duty", "--db", db_path, "--user", "admin", "--pin-stdin",
               stdin="900001\n645913\n")
    assert add.returncode == 0, add.stderr
    nobody = gate("users", "list", "--json", "--db", db_path)
    assert nobody.returncode == 2 and "users-list needs a signed-in user" in nobody.stderr and nobody.stdout == ""
    listed = [json.loads(x) for x in gate("users", "list", "--json", "--db", db_path, "--user", "admin",
                                          "--pin-stdin", stdin="900001\n").stdout.splitlines()]
    assert {"chen", "zhang", "wu", "li", "admin"} == {u["name"] for u in listed}
    assert all("pin_hash" not in u for u in listed)  # PIN hashes never leave the database
    by_duty = gate("users", "add", "eve", "--role", "admin", "--db", db_path, "--user", "zhang", "--pin-stdin",
                   stdin="318274\n754026\n")
    assert by_duty.returncode == 1 and "needs admin" in by_duty.stderr


def test_cli_lock_persists_across_processes(people, db_path, tmp_path):
    for _ in range(10):
        gate("purge", "--db", db_path, "--user", "wu", "--pin-stdin", stdin="999999\n")
    # The right PIN from a new `gate` process: the lock is in the log, not in the memory of whoever counted.
    locked = subprocess.run([GATE, "purge", "--db", str(db_path), "--user", "wu", "--pin-stdin"], input="427351\n",
                            capture_output=True, text=True, env=env_with_root(), timeout=120)
    assert locked.returncode == 1 and "locked until" in locked.stderr


def test_a_lockout_ends_by_the_clock_the_command_is_given_not_the_machines(people, db_path):
    """gate.cli.main's clock decides when a lockout began and ends, as it decides the day: at any hour the suite
    runs, the lock holds for 30 minutes of that clock and is over after them."""
    clock = Clock(time.mktime((2026, 12, 1, 7, 40, 0, 0, 0, -1)))
    for _ in range(10):
        run_gate("purge", "--db", db_path, "--user", "wu", "--pin-stdin", input="999999\n", clock=clock)
    clock.advance(29 * 60)
    locked = run_gate("purge", "--db", db_path, "--user", "wu", "--pin-stdin", input="427351\n", clock=clock)
    assert locked.returncode == 1 and "locked until 08:10" in locked.stderr  # 07:40 + 30 min, on the given clock
    listed = run_gate("users", "list", "--db", db_path, "--user", "admin", "--pin-stdin", input="900001\n",
                      clock=clock)
    assert "wu" in listed.stdout and "locked until 08:10" in listed.stdout
    clock.advance(2 * 60)
    opened = run_gate("purge", "--db", db_path, "--user", "wu", "--pin-stdin", input="427351\n", clock=clock)
    assert opened.returncode == 0 and "purged 0 screenings" in opened.stdout, opened.stderr  # signed in again


async def sign_in(pilot, name: str, pin: str) -> None:
    await type_slowly(pilot, name)
    await type_slowly(pilot, pin)  # at a person's pace: keys at a scanner's speed in the PIN field are a card


async def test_duty_screen_asks_for_a_pin_before_an_override(people):
    log, _ = people
    from gate.ui.app import build_app
    from gate.ui.screens.manual import ManualEntry
    from gate.ui.screens.signin import SignIn

    clock = Clock()
    app = build_app(Config(language="en", station_id="north"), log, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        duty = app.duty
        assert await pilot_wait_until(pilot, lambda: app.users_exist), "the users"
        assert await pilot_wait_until(pilot, lambda: "not signed in" in str(app.query_one("#status").render()))
        await pilot.press("f2")
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        await sign_in(pilot, "zhang", "000000")
        assert await pilot_wait_until(pilot, lambda: not isinstance(app.screen, SignIn)), "the refusal"
        assert app.user is None and not isinstance(app.screen, ManualEntry)
        await pilot.press("f2")
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        await sign_in(pilot, "zhang", "318274")
        assert await pilot_wait_until(pilot, lambda: app.user is not None), "the sign-in"
        assert app.user == User("zhang", "duty")
        assert "zhang (duty)" in str(duty.query_one("#status").render())
        assert await pilot_wait_until(  # the action goes on after the sign-in
            pilot, lambda: typing_goes_to(app, "manual-temp"))
        await pilot.press(*"36.6", "enter")
        assert await pilot_wait_until(pilot, lambda: duty.latest is not None)
        assert duty.latest.operator == "zhang"
        await pilot.press("f3")
        assert await pilot_wait_until(pilot, lambda: duty.latest.mask.state is MaskState.YES)
        assert duty.latest.decision is Decision.ADMIT and duty.latest.mask.operator == "zhang"
        trail = actions(log, 10)
        assert ("zhang", "override") in trail and ("zhang", "manual-entry") in trail
        assert ("zhang", "login-failed") in trail
        clock.advance(10 * 60)  # ten quiet minutes later
        assert await pilot_wait_until(pilot, lambda: app.user is None), "the idle sign-out"
        assert "not signed in" in str(duty.query_one("#status").render())


def test_old_audit_events_are_purged_and_the_audit_chain_still_verifies(people):
    from storage.export import purge_audit_older_than

    log, auth = people
    for _ in range(3):
        auth.check("zhang", "318274", "override")
    before = len(audit.events(log, 1000))
    result = purge_audit_older_than(log, 30, station_id="north", actor="wu", now=time.time() + 40 * 86400)
    assert result["rows"] == before and audit.verify(log).ok
    assert [e["action"] for e in audit.events(log)] == ["purge-audit"]


def test_a_changed_config_file_is_recorded_once(db_path, tmp_path):
    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "north"\n', encoding="utf-8")
    with ScreeningLog(db_path) as log:
        assert audit.record_config(log, "north", str(cfg), cfg.read_bytes(), "root")
        assert not audit.record_config(log, "north", str(cfg), cfg.read_bytes(), "root")
        cfg.write_text('[station]\nid = "north"\n[screening]\nthreshold_c = 37.0\n', encoding="utf-8")
        assert audit.record_config(log, "north", str(cfg), cfg.read_bytes(), "root")
        changes = [e for e in audit.events(log) if e["action"] == "config-changed"]
        assert len(changes) == 2 and changes[0]["detail"]["previous"] == changes[1]["detail"]["sha256"]


async def test_the_duty_screen_refuses_a_role_the_table_does_not_allow(people):
    """Maintenance staff may calibrate but not type a reading at the gate: the duty screen asks gate.roles too."""
    log, _ = people
    from gate.roles import may
    from gate.ui.app import build_app
    from gate.ui.screens.manual import ManualEntry
    from gate.ui.screens.signin import SignIn

    assert not may("maintenance", "manual-entry")
    app = build_app(Config(language="en", station_id="north"), log, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        assert await pilot_wait_until(pilot, lambda: app.users_exist), "the users"
        await pilot.press("f2")
        assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "signin-name"))
        await sign_in(pilot, "li", "536482")
        assert await pilot_wait_until(pilot, lambda: not isinstance(app.screen, SignIn)), "the refusal"
        assert app.user is None and not isinstance(app.screen, ManualEntry) and app.duty.latest is None
        ev = audit.events(log, 1)[0]
        assert (ev["actor"], ev["action"], ev["detail"]["action"]) == ("li", "refused", "manual-entry")
