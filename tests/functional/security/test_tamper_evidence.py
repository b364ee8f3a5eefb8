"""Issue 14's tampering, tried on the SQLite file: each is reported by `gate verify` (exit 1, naming what changed)
and, for users, refused at sign-in. The chains are HMACs now: recomputing SHA-256 by hand no longer hides a change."""
import json
import time
import sqlite3

import pytest

from storage import chain
from storage.log import ScreeningLog, row_content
from tests.functional.security.conftest import sql
from tests.support import log_from_template, run_gate

ADMIN, DUTY, AUDITOR = "902741", "640219", "581302"


def staffed_station(db):
    """A log with an admin, a duty user and an auditor, a fever, two admits, a roster and a clearance; made once a
    run through the command line (the PIN hashes are slow on purpose) and copied into every test."""
    def gate(*argv, stdin=""):
        r = run_gate(*argv, input=stdin, newline="")
        return r.returncode, r.stdout, r.stderr

    assert gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", db, stdin=f"{ADMIN}\n")[0] == 0
    for name, role, pin in (("zhang", "duty", DUTY), ("wu", "auditor", AUDITOR), ("nurse", "health", "470315")):
        code, _, err = gate("users", "add", name, "--role", role, "--user", "boss", "--pin-stdin", "--db", db,
                            stdin=f"{ADMIN}\n{pin}\n")
        assert code == 0, err
    roster = db.parent / "roster.csv"
    roster.write_text("id,name,class,kind\nP42,Li Ming,3A,pupil\nP43,Wang Fang,3A,pupil\n", encoding="utf-8")
    assert gate("roster", "import", roster, "--db", db, "--user", "boss", "--pin-stdin", stdin=f"{ADMIN}\n")[0] == 0
    policy = db.parent / "station.toml"  # with PINs on, only an admin stores the first screening policy
    policy.write_text("", encoding="utf-8")
    assert gate("config", "apply", policy, "--db", db, "--user", "boss", "--pin-stdin", stdin=f"{ADMIN}\n")[0] == 0
    for temp in ("38.5", "38.4", "36.6"):
        gate("screen", "--db", db, "--entrant", "P42", "--temp", temp, "--mask", "yes", "--user", "zhang",
             "--pin-stdin", stdin=f"{DUTY}\n")


@pytest.fixture
def station(tmp_path, gate):
    db = log_from_template(tmp_path / "gate.db", staffed_station)
    code, _, err = gate("verify", "--db", db)
    assert code == 0, err
    return db


def verify(gate, db) -> tuple[int, str]:
    code, out, err = gate("verify", "--db", db)
    assert "Traceback" not in err
    return code, out + err


def test_a_fever_changed_to_admit_with_the_sha256_recomputed_by_hand_is_caught(station, gate):
    con = sqlite3.connect(station)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM screenings ORDER BY seq")]
    prev = rows[0]["prev_hash"]
    for r in rows:  # the old attack: change the row and re-link the whole chain with plain SHA-256
        if r["decision"] == "deny":
            r.update(decision="admit", message="ok")
        r["prev_hash"], r["row_hash"] = prev, chain.link(prev, row_content(r))
        con.execute("UPDATE screenings SET decision=?, message=?, prev_hash=?, row_hash=? WHERE seq=?",
                    (r["decision"], r["message"], r["prev_hash"], r["row_hash"], r["seq"]))
        prev = r["row_hash"]
    con.commit()
    con.close()
    code, text = verify(gate, station)
    assert code == 1 and "BROKEN: screenings: row 1" in text and "does not match its hash" in text


def test_a_deleted_audit_event_is_caught(station, gate):
    sql(station, "DELETE FROM audit_events WHERE seq = 3")
    code, text = verify(gate, station)
    assert code == 1 and "BROKEN: audit events: row 4" in text and "removed or reordered" in text


@pytest.mark.parametrize("table, what", [("screenings", "screenings"), ("audit_events", "audit events")])
def test_deleting_the_last_rows_is_caught(station, gate, table, what):
    sql(station, f"DELETE FROM {table} WHERE seq >= (SELECT max(seq) - 1 FROM {table})")
    code, text = verify(gate, station)
    assert code == 1 and f"BROKEN: {what}: rows were removed" in text


def test_a_forged_purge_of_the_first_rows_is_caught(station, gate):
    """Delete the oldest rows and write the anchor a real purge would have left: the chain links, the seal counts."""
    con = sqlite3.connect(station)
    seq, h = con.execute("SELECT seq, row_hash FROM screenings ORDER BY seq LIMIT 1").fetchone()
    con.execute("DELETE FROM screenings WHERE seq = ?", (seq,))
    con.execute("INSERT INTO chain_anchors VALUES ('screenings', ?, ?, 0)", (seq, h))
    con.commit()
    con.close()
    code, text = verify(gate, station)
    assert code == 1 and "rows were removed" in text


def test_the_follow_up_case_chain_is_sealed_too(station, gate):
    sql(station, "UPDATE seals SET rows = rows + 1 WHERE name = 'chain:cases'")
    code, text = verify(gate, station)
    assert code == 1 and "follow-up cases: its seal was edited" in text


def test_a_removed_or_edited_seal_is_caught(station, gate):
    sql(station, "UPDATE seals SET rows = rows - 1 WHERE name = 'chain:audit'")
    code, text = verify(gate, station)
    assert code == 1 and "audit events: its seal was edited" in text
    sql(station, "DELETE FROM seals WHERE name = 'chain:audit'")
    assert "its seal was removed" in verify(gate, station)[1]


def test_an_edited_clearance_is_caught(station, gate):
    code, _, err = gate("clearance", "add", "P42", "--note", "doctor's note", "--db", station, "--user", "nurse",
                        "--pin-stdin", stdin="470315\n")
    assert code == 0, err
    sql(station, "UPDATE clearances SET note = 'forged'")
    code, text = verify(gate, station)
    assert code == 1 and "BROKEN: clearances: row 1" in text


def test_a_role_changed_in_the_file_is_reported_and_refused_at_sign_in(station, gate, tmp_path):
    sql(station, "UPDATE users SET role = 'auditor' WHERE name = 'zhang'")
    code, text = verify(gate, station)
    assert code == 1 and "CHANGED: the users: row 'zhang' was changed or added outside the station" in text
    code, out, err = gate("export", "--db", station, "--from", "2000-01-01", "--to", "2100-01-01", "--identified",
                          "--out", tmp_path / "x", "--user", "zhang", "--pin-stdin", stdin=f"{DUTY}\n")
    assert code == 1 and "every sign-in is refused" in err and not (tmp_path / "x").exists()
    # nobody signs in on a tampered users table, not even the untouched admin
    code, _, err = gate("audit", "list", "--db", station, "--user", "wu", "--pin-stdin", stdin=f"{AUDITOR}\n")
    assert code == 1 and "row 'zhang'" in err


def test_deleted_users_and_an_admin_inserted_by_sql_are_reported_and_refused(station, gate):
    con = sqlite3.connect(station)
    boss = con.execute("SELECT pin_hash, created_at FROM users WHERE name = 'boss'").fetchone()
    con.execute("DELETE FROM users")
    # a new admin with the PIN hash copied from the real admin (so the attacker knows a PIN that matches)
    con.execute("INSERT INTO users (name, role, pin_hash, failures, disabled, created_at) "
                "VALUES ('pupil', 'admin', ?, 0, 0, ?)", boss)
    con.commit()
    con.close()
    code, text = verify(gate, station)
    assert code == 1 and "row 'pupil' was changed or added outside the station" in text
    assert "1 rows where the seal records 4" in text
    code, _, err = gate("users", "add", "pupil2", "--role", "admin", "--db", station, "--user", "pupil",
                        "--pin-stdin", stdin=f"{ADMIN}\n470316\n")
    assert code == 1 and "every sign-in is refused" in err


def test_deleting_every_user_does_not_turn_pins_off(station, gate):
    sql(station, "DELETE FROM users")
    code, _, err = gate("screen", "--db", station, "--entrant", "P43", "--temp", "36.6")
    assert code != 0 and "the users: 0 rows where the seal records 4" in err
    code, _, err = gate("users", "add", "pupil", "--role", "admin", "--pin-stdin", "--db", station,
                        stdin="470316\n")
    assert code != 0
    assert verify(gate, station)[0] == 1


def test_a_cleared_lockout_is_reported_and_refused(station, gate):
    for _ in range(10):
        gate("audit", "list", "--db", station, "--user", "wu", "--pin-stdin", stdin="470399\n")
    code, _, err = gate("audit", "list", "--db", station, "--user", "wu", "--pin-stdin", stdin=f"{AUDITOR}\n")
    assert code == 1 and "locked until" in err
    sql(station, "UPDATE users SET locked_until = NULL, failures = 0 WHERE name = 'wu'")
    code, text = verify(gate, station)
    assert code == 1 and "row 'wu' was changed" in text
    code, _, err = gate("audit", "list", "--db", station, "--user", "wu", "--pin-stdin", stdin=f"{AUDITOR}\n")
    assert code == 1 and "every sign-in is refused" in err


@pytest.mark.parametrize("edit, names", [
    ("UPDATE entrants SET name = 'Someone Else' WHERE roster_id = 'P42'", "the roster: row 'P42'"),
    ("DELETE FROM entrants WHERE roster_id = 'P43'", "the roster: 1 rows where the seal records 2"),
    ("INSERT INTO entrants (roster_id, name, \"group\", kind) VALUES ('X1', 'Ghost', '3A', 'pupil')",
     "the roster: row 'X1'"),
    ("UPDATE station_policy SET content = replace(content, '37.3', '39.0'), sha256 = 'x'",
     "the stored screening policy: row 1"),
])
def test_roster_and_policy_edits_are_reported(station, gate, edit, names):
    sql(station, edit)
    code, text = verify(gate, station)
    assert code == 1 and names in text


def test_an_edited_calibration_record_is_reported(tmp_path, gate):
    db = tmp_path / "gate.db"
    code, _, err = gate("calibrate", "check", "--db", db, "--sensor", "gy-mcu90614:gun-1", "--point",
                        "37:35.9,35.9,35.9", "--reference-id", "BB-7")
    assert "Traceback" not in err
    assert gate("verify", "--db", db)[0] == 0
    sql(db, "UPDATE calibrations SET result = 'pass', content = replace(content, '\"fail\"', '\"pass\"')")
    code, text = verify(gate, db)
    assert code == 1 and "the calibration records: row" in text


def test_a_keyed_chain_read_by_the_fever_memory_stops_at_a_row_forged_with_sha256(station):
    """storage.chain.Chain.intact (what clearances and the fail-closed fever memory trust) under the keyed digest."""
    with ScreeningLog(station) as log, log.read() as conn:
        before = [r["seq"] for r in log.screening_chain.intact(conn)]
    con = sqlite3.connect(station)
    con.row_factory = sqlite3.Row
    last = dict(con.execute("SELECT * FROM screenings ORDER BY seq DESC LIMIT 1").fetchone())
    last["decision"] = "admit"
    forged = chain.link(last["prev_hash"], row_content(last))
    con.execute("UPDATE screenings SET decision = 'admit', row_hash = ? WHERE seq = ?", (forged, last["seq"]))
    con.commit()
    con.close()
    with ScreeningLog(station) as log, log.read() as conn:
        assert [r["seq"] for r in log.screening_chain.intact(conn)] == before[:-1]


def test_verify_json_names_every_part(station, gate):
    code, out, _ = gate("verify", "--db", station, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["keyed"] and len(report["key"]) == 16
    assert set(report["chains"]) == {"screenings", "audit", "clearances", "cases", "school_records",
                                     "school_cases"}
    assert report["tables"]["users"] == 4 and report["tables"]["entrants"] == 2


def test_a_replayed_seal_fools_the_file_alone_but_the_daily_reports_trail_shows_it(station, gate):
    """The limit of a lone station, and what closes it: someone keeps the seal row of an earlier day, later cuts the
    rows since then and puts that seal back. The file is then consistent (`gate verify` cannot tell older from now);
    the daily reports already sent upstream carry the heads, and the next report goes backwards."""
    from storage import reports
    from storage.log import local_day

    con = sqlite3.connect(station)
    kept_seal = con.execute("SELECT rows, digest, mac FROM seals WHERE name = 'chain:screenings'").fetchone()
    last_kept = con.execute("SELECT max(seq) FROM screenings").fetchone()[0]
    con.close()
    for temp in ("36.5", "36.7"):
        assert gate("screen", "--db", station, "--entrant", "P43", "--temp", temp, "--mask", "yes", "--user",
                    "zhang", "--pin-stdin", stdin=f"{DUTY}\n")[0] == 0
    with ScreeningLog(station) as log:
        earlier = reports.daily(log, local_day(time.time()), "gate-1")
        reports.store(log, earlier)
        sent = json.loads(log.engine.connect().exec_driver_sql(
            "SELECT content FROM daily_reports ORDER BY created_at DESC").scalar())
    assert sent["chains"]["screenings"]["rows"] == kept_seal[0] + 2 and len(sent["station_key"]) == 16
    sql(station, "DELETE FROM screenings WHERE seq > ?", params=(last_kept,))
    sql(station, "UPDATE seals SET rows = ?, digest = ?, mac = ? WHERE name = 'chain:screenings'", params=kept_seal)
    assert gate("verify", "--db", station)[0] == 0  # what one file cannot show
    with ScreeningLog(station) as log:
        reports.store(log, reports.daily(log, local_day(time.time()), "gate-1"))
        later = json.loads(log.engine.connect().exec_driver_sql(
            "SELECT content FROM daily_reports ORDER BY created_at DESC").scalar())
    assert later["chains"]["screenings"]["rows"] < sent["chains"]["screenings"]["rows"]  # upstream sees it go back
    assert later["chains"]["screenings"]["head"] != sent["chains"]["screenings"]["head"]
