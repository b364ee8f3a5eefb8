"""Issue 13's fever cases tried from a shell: `gate screen`, `gate clearance`, `gate run --headless` through the
real entry point on real files (and a real pty for the simulated thermometer)."""
import dataclasses
import json
import sqlite3
from pathlib import Path

from sim.scenarios import SCENARIOS
from tests.support import run_gate as gate


def screen(db, temp, *extra, duty_pin=None):
    """One screening of P42; with PINs on, the duty teacher li signs in (``duty_pin``)."""
    signed = ("--user", "li", "--pin-stdin") if duty_pin else ()
    out = gate("screen", "--db", db, "--entrant", "P42", "--temp", temp, "--mask", "yes", "--json", *extra, *signed,
               input=duty_pin and duty_pin + "\n")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def clearances(db):
    return sqlite3.connect(db).execute("select entrant_id, cleared_by, role, note from clearances").fetchall()


def test_the_reproduction_now_gives_retest_deny_refused_and_admit_after_a_clearance(db_path):
    first, second, third = (screen(db_path, t) for t in ("38.5", "38.4", "36.9"))
    assert (first["decision"], second["decision"], third["decision"]) == ("retest", "deny", "deny")
    assert second["follows"] == first["id"] and "fever-confirmed" in second["reasons"]
    assert third["reasons"][0] == "fever-not-cleared" and "已确认发热——已送回家" in third["message"]
    waiting = gate("clearance", "list", "--db", db_path)
    assert waiting.returncode == 0 and "waiting  P42" in waiting.stdout
    cleared = gate("clearance", "add", "P42", "--note", "doctor's note, 2 Dec", "--db", db_path)
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared P42" in cleared.stdout and "doctor's note, 2 Dec" in cleared.stdout
    after = screen(db_path, "36.9")
    assert after["decision"] == "admit" and after["reasons"] == ["normal"]
    listed = [json.loads(line) for line in gate("clearance", "list", "--db", db_path, "--json").stdout.splitlines()]
    assert [(c["state"], c["entrant_id"], c["fever_screening_id"]) for c in listed] == [
        ("cleared", "P42", second["id"])]
    assert gate("verify", "--db", db_path).returncode == 0


def test_the_refusal_is_said_in_english_too(tmp_path, db_path):
    cfg = tmp_path / "gate.toml"
    cfg.write_text('[station]\nlanguage = "en"\n', encoding="utf-8")
    for t in ("38.5", "38.4"):
        screen(db_path, t, "--config", cfg)
    refused = screen(db_path, "36.9", "--config", cfg)
    assert refused["decision"] == "deny" and refused["message"].startswith("Fever confirmed at ")
    assert "— sent home" in refused["message"]


def users(db):
    """An admin, the school nurse (health) and a duty teacher, with their PINs."""
    steps = [(["boss", "--role", "admin"], "318274\n318274\n"),
             (["nurse", "--role", "health", "--user", "boss"], "318274\n427351\n427351\n"),
             (["li", "--role", "duty", "--user", "boss"], "318274\n536482\n536482\n"),
             (["wu", "--role", "auditor", "--user", "boss"], "318274\n645913\n645913\n")]
    for args, pins in steps:
        out = gate("users", "add", *args, "--pin-stdin", "--db", db, input=pins)
        assert out.returncode == 0, out.stderr
    # With PINs on, only an admin stores the first screening policy (here: the built-in defaults, from an empty file).
    station = Path(db).parent / "station.toml"
    station.write_text("", encoding="utf-8")
    out = gate("config", "apply", station, "--db", db, "--user", "boss", "--pin-stdin", input="318274\n")
    assert out.returncode == 0 and "the station's first screening policy" in out.stdout, out.stderr


def test_a_clearance_needs_the_health_officer_or_an_admin_signed_in(db_path):
    users(db_path)
    for t in ("38.5", "38.4"):
        screen(db_path, t, duty_pin="536482")
    add = ("clearance", "add", "P42", "--note", "doctor's note, 2 Dec", "--db", db_path)
    duty = gate(*add, "--user", "li", "--pin-stdin", input="536482\n")
    assert duty.returncode == 1 and "li is duty; clearance-add needs admin or health" in duty.stderr
    nobody = gate(*add)
    assert nobody.returncode == 2 and "needs a signed-in user" in nobody.stderr
    wrong = gate(*add, "--user", "nurse", "--pin-stdin", input="999999\n")
    assert wrong.returncode == 1 and "wrong PIN" in wrong.stderr
    assert clearances(db_path) == []
    assert screen(db_path, "36.6", duty_pin="536482")["decision"] == "deny"
    ok = gate(*add, "--user", "nurse", "--pin-stdin", input="427351\n")
    assert ok.returncode == 0, ok.stderr
    assert clearances(db_path) == [("P42", "nurse", "health", "doctor's note, 2 Dec")]
    assert screen(db_path, "36.6", duty_pin="536482")["decision"] == "admit"
    # A later fever, cleared by an admin standing in for the nurse.
    for t in ("38.9", "38.7"):
        screen(db_path, t, duty_pin="536482")
    assert gate(*add, "--user", "boss", "--pin-stdin", input="318274\n").returncode == 0
    assert clearances(db_path)[-1][:3] == ("P42", "boss", "admin")
    events = sqlite3.connect(db_path).execute(
        "select actor, action from audit_events where action in ('fever-cleared', 'refused') order by seq").fetchall()
    assert events == [("li", "refused"), ("(not signed in)", "refused"), ("nurse", "fever-cleared"),
                      ("boss", "fever-cleared")]
    assert gate("clearance", "list", "--db", db_path, "--user", "li", "--pin-stdin", input="536482\n").returncode == 1
    listed = gate("clearance", "list", "--db", db_path, "--json", "--user", "wu", "--pin-stdin", input="645913\n")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2


def test_a_wrong_id_or_a_bad_note_clears_nobody(db_path):
    for t in ("38.5", "38.4"):
        screen(db_path, t)
    wrong_id = gate("clearance", "add", "P24", "--note", "doctor's note", "--db", db_path)
    assert wrong_id.returncode == 1 and "P24 has no confirmed fever waiting" in wrong_id.stderr
    for note in ("", "   ", "x" * 501, "ok\x1b[2J"):
        out = gate("clearance", "add", "P42", "--note", note, "--db", db_path)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    missing = gate("clearance", "add", "P42", "--db", db_path)
    assert missing.returncode == 2 and "--note" in missing.stderr
    assert clearances(db_path) == []


def run_headless(sim_factory, db, cfg, ids, count, offset_c=0.0, ok=True):
    """`gate run --headless` on a simulated thermometer (as `gate sim --seed 5 --pace 3 --noise 0.02 --offset X`),
    the ids scanned on standard input; with ``ok=False`` the finished command, whatever its exit code."""
    scenario = dataclasses.replace(SCENARIOS["normal-morning"], noise_c=0.02, offset_c=offset_c)
    sim = sim_factory("gy-mcu90614", scenario, seed=5, pace=3)
    out = gate("run", "--url", sim.path, "--protocol", "gy-mcu90614", "--headless", "--count", count,
               "--entrants-stdin", "--db", db, "--config", cfg, input="".join(f"{i}\n" for i in ids))
    sim.stop()
    if not ok:
        return out
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()], out.stderr


def test_gate_run_headless_with_users_and_no_policy_refuses_at_start(sim_factory, tmp_path, db_path):
    steps = [(["boss", "--role", "admin"], "318274\n318274\n"),
             (["li", "--role", "duty", "--user", "boss"], "318274\n536482\n536482\n")]
    for args, pins in steps:
        assert gate("users", "add", *args, "--pin-stdin", "--db", db_path, input=pins).returncode == 0
    cfg = tmp_path / "gate.toml"
    cfg.write_text('[screening]\nthreshold_c = 39.0\nmask_mode = "off"\n', encoding="utf-8")
    out = run_headless(sim_factory, db_path, cfg, ["P42"], 1, offset_c=2.0, ok=False)
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert "no screening policy is stored with this log yet" in out.stderr
    assert sqlite3.connect(db_path).execute("select count(*) from screenings").fetchone() == (0,)


def test_gate_run_headless_links_confirms_refuses_and_admits_after_the_clearance(sim_factory, tmp_path, db_path):
    cfg = tmp_path / "gate.toml"
    cfg.write_text('[station]\nlanguage = "en"\n[screening]\nmask_mode = "off"\n', encoding="utf-8")
    # A sensor reading 2 °C high: everyone it sees is at or above the threshold.
    hot, errors = run_headless(sim_factory, db_path, cfg, ["P42", "P\x1b[2J42", "p42", "P42"], 3, offset_c=2.0)
    assert [d["decision"] for d in hot] == ["retest", "deny", "deny"]
    assert all(d["entrant_id"] == "P42" for d in hot)  # the garbled scan went with nobody; p42 is P42
    assert '"error": "entrant-id"' in errors
    assert hot[1]["follows"] == hot[0]["id"] and "fever-confirmed" in hot[1]["reasons"]
    assert hot[2]["message"].startswith("Fever confirmed at")
    assert gate("clearance", "add", "P42", "--note", "doctor's note", "--db", db_path).returncode == 0
    well, _ = run_headless(sim_factory, db_path, cfg, ["p42"], 1)
    assert well[0]["decision"] == "admit" and well[0]["entrant_id"] == "P42"
