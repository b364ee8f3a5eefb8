"""Issue 12 HOLES found by attacker a12d (2026-11-29). Copy into tests/functional/attacks/ to run; every test here
FAILS today. Each says what happens now and what should happen."""
import os
import signal
import sqlite3
import subprocess
import time

import pytest


from tests.support import GATE, env_with_root, filled_log, run_gate, takes_ctrl_c


def _env(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return dict(env_with_root(), HOME=str(home), GATE_LOG_DIR=str(home / "log"), LANG="C.UTF-8")


# H1. A typo'd action of a group that has a default action (sync -> send, export -> create, bureau, mask -> check)
# NOW: `gate sync sned` -> "gate: unrecognized arguments: sned (see gate --help)" (exit 2): neither the actions nor
#      the group's own --help are named (the other groups say "invalid choice: 'ad' (choose from 'add', ...)
#      (see gate users --help)").
# SHOULD: "invalid choice: 'sned' (choose from 'send', 'status', 'verify') (see gate sync --help)", exit 2.
@pytest.mark.parametrize("typed, choices", [
    (["sync", "sned"], ["send", "status", "verify"]),
    (["sync", "stauts"], ["send", "status", "verify"]),
    (["export", "creat", "--from", "2026-11-01", "--to", "2026-11-02", "--out", "x"], ["create", "verify"]),
    (["export", "verfy", "x"], ["create", "verify"]),
    (["bureau", "dayly", "--upstream", "postgresql://nobody@127.0.0.1:1/x"], ["daily", "late", "app"]),
    (["bureau", "lat"], ["daily", "late", "app"]),
    (["purge", "x"], []),
])
def test_h1_a_typod_action_of_a_group_with_a_default_says_what_exists(tmp_path, typed, choices):
    r = run_gate(*typed, "--db", str(tmp_path / "g.db"), env=_env(tmp_path))
    assert r.returncode == 2
    assert f"gate {typed[0]} --help" in r.stderr, r.stderr
    for c in choices:
        assert f"'{c}'" in r.stderr, r.stderr


# H2. A device as --db (`/dev/null`, `/dev/zero`, or a symlink to one)
# NOW: `gate screen --temp 36.6 --db /dev/null` -> "gate: log failure: cannot open the log at /dev/null: disk I/O
#      error" (exit 3) AND it has written a new station key `/dev/null.key` (and SQLite a `null-journal`) beside the
#      device; every command that opens a log does it (screen, export, purge, sync status, roster list, audit list,
#      config apply ...). A symlink `link.db -> /dev/null` leaves `link.db.key` beside the link AND SQLite's
#      `/dev/null-journal` (mode 0666) in /dev itself (SQLite follows the link). NOTE: running the "link" case today
#      leaves /dev/null-journal behind; remove it after (rm /dev/null-journal).
# SHOULD: refused before anything is created, like a folder: "log failure: /dev/null is a device, not a log: give
#      --db the log file" (exit 3, or 2), no file made anywhere.
@pytest.mark.parametrize("command", [["screen", "--temp", "36.6", "--mask", "yes"], ["audit", "list"],
                                     ["roster", "list"], ["verify"], ["sync", "status"]])  # f12d: + verify, sync
@pytest.mark.parametrize("kind", ["device", "link"])
def test_h2_a_device_as_the_log_creates_nothing_beside_it(tmp_path, command, kind):
    dev = tmp_path / "dev"
    dev.mkdir()
    if kind == "device":
        os.mknod(dev / "null", 0o666 | 0o020000, os.makedev(1, 3))  # a /dev/null of our own (root)
        db = dev / "null"
    else:
        os.symlink("/dev/null", dev / "link.db")
        db = dev / "link.db"
    r = run_gate(*command, "--db", str(db), env=_env(tmp_path))
    assert r.returncode in (2, 3) and r.stdout == ""
    assert "is a device" in r.stderr, r.stderr
    assert sorted(os.listdir(dev)) == [db.name], os.listdir(dev)


# H3. A FIFO as --db
# NOW: `mkfifo f; gate verify --db f` never returns (blocked opening the FIFO; Ctrl-C only). `gate screen --db f` says
#      "disk I/O error" (exit 3).
# SHOULD: at once, "log failure: f is a FIFO, not a log" (exit 3), as the README promises for a roster or config
#      ("opened without blocking ... a FIFO, a folder ... likewise").
@pytest.mark.parametrize("command", [["verify"], ["screen", "--temp", "36.6", "--mask", "yes"]])  # f12d: + screen
def test_h3_a_fifo_as_the_log_is_refused_at_once(tmp_path, command):
    fifo = tmp_path / "f.db"
    os.mkfifo(fifo)
    p = subprocess.Popen([GATE, *command, "--db", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=_env(tmp_path))
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        pytest.fail(f"gate {' '.join(command)} --db FIFO hangs")
    assert p.returncode == 3 and b"Traceback" not in err
    assert b"FIFO" in err and not (tmp_path / "f.db.key").exists() and not (tmp_path / "f.db-journal").exists(), err


# (f12d) the same check for the config's [station] db, and for a name whose log fits the file system but whose
# journal beside it would not (a 252-character name: gate.db-journal is 8 more)
@pytest.mark.parametrize("where", ["device", "name-252"])
def test_h2_h5_the_configs_log_path_is_checked_like_db(tmp_path, where):
    db = tmp_path / ("a" * 249 + ".db") if where == "name-252" else tmp_path / "null"
    if where == "device":
        os.mknod(db, 0o666 | 0o020000, os.makedev(1, 3))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[station]\ndb = "{db}"\n', encoding="utf-8")
    env = _env(tmp_path)
    before = sorted(os.listdir(tmp_path))
    r = run_gate("screen", "--temp", "36.6", "--mask", "yes", "--config", str(cfg), env=env)
    assert r.returncode in (2, 3) and r.stdout == "" and "unexpected" not in r.stderr, r.stderr
    assert ("is a device" if where == "device" else "too long") in r.stderr, r.stderr
    assert sorted(os.listdir(tmp_path)) == before


# H4. `[screening] retest_wait_minutes` is not what the gate tells the person
# NOW: with `retest_wait_minutes = 5` (or 20, or 0) `gate screen --temp 37.5` says "37.5 °C is at or above 37.3 °C:
#      rest inside for 10 minutes, then retest by hand." (zh: 请在室内休息10分钟后人工复测) while the duty screen's
#      countdown uses the configured wait: the default 10 is written twice (the schema and the message catalogue).
# SHOULD: "rest inside for 5 minutes" (the configured value, in both languages).
@pytest.mark.parametrize("minutes", [5, 20])
def test_h4_the_retest_message_says_the_configured_wait(tmp_path, minutes):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[station]\nlanguage = "en"\n[screening]\nretest_wait_minutes = {minutes}\n', encoding="utf-8")
    r = run_gate("screen", "--config", str(cfg), "--db", str(tmp_path / "g.db"), "--temp", "37.5", "--mask", "yes",
                 env=_env(tmp_path))
    assert r.returncode == 0 and r.stdout.startswith("RETEST")
    assert f"{minutes} minutes" in r.stdout and "10 minutes" not in r.stdout, r.stdout
    # (f12d) the same in Chinese, and for the other rests (too cold here, a reading too low)
    cfg.write_text(f'[station]\nlanguage = "zh-CN"\n[screening]\nretest_wait_minutes = {minutes}\n', encoding="utf-8")
    for temp in ("37.5", "30.0"):
        r = run_gate("screen", "--config", str(cfg), "--db", str(tmp_path / "g.db"), "--temp", temp, "--mask", "yes",
                     env=_env(tmp_path))
        assert r.returncode == 0 and f"{minutes}分钟" in r.stdout and "10分钟" not in r.stdout, r.stdout


# H5. A --db whose name is too long (a pasted path, or `[station] db` in the config)
# NOW: `gate screen --temp 36.6 --db $(printf 'a%.0s' {1..300}).db` and `gate verify --db ...` -> "gate: unexpected
#      OSError: [Errno 36] File name too long: 'aaaa…' (a fault in the station's software; details in
#      …/gate-errors.log)", exit 70, a traceback in gate-errors.log. Same for a path of 4,200 characters.
# SHOULD: a bad input, not a software fault: exit 2 (or 3 "log failure: cannot open the log at …: File name too
#      long"), one line, nothing in gate-errors.log. (`gate config check` and `export --out` already say so, exit 2.)
@pytest.mark.parametrize("command", [["screen", "--temp", "36.6", "--mask", "yes"], ["verify"]])
@pytest.mark.parametrize("name", ["a" * 300 + ".db", "d/" * 2100 + "x.db"], ids=["name-300", "path-4200"])
def test_h5_a_too_long_log_name_is_bad_input_not_a_fault(tmp_path, command, name):
    env = _env(tmp_path)
    r = run_gate(*command, "--db", str(tmp_path / name), env=env)
    assert r.returncode in (2, 3), (r.returncode, r.stderr[:200])
    assert "unexpected" not in r.stderr and "too long" in r.stderr and len(r.stderr) < 400, r.stderr  # f12d: one line
    assert not (tmp_path / "home" / "log" / "gate-errors.log").exists()


# H6. An empty --db (a script's `--db "$GATE_DB"` with the variable unset)
# NOW: `gate screen --temp 36.6 --mask yes --db ""` screens into the default log
#      (~/.local/share/gate-station/gate.db), exit 0: the screening is stored in a log nobody meant.
#      (`--config ""` likewise reads no config.)
# SHOULD: refused as bad input (exit 2, "--db is empty: give the log file"), nothing stored anywhere.
@pytest.mark.parametrize("option", ["--db", "--config"])
def test_h6_an_empty_path_is_refused_not_the_default(tmp_path, option):
    env = _env(tmp_path)
    more = ["--db", str(tmp_path / "g.db")] if option == "--config" else []
    r = run_gate("screen", "--temp", "36.6", "--mask", "yes", option, "", *more, env=env)
    assert r.returncode == 2, (r.returncode, r.stdout)
    assert f"argument {option}: {option} is empty" in r.stderr, r.stderr  # f12d: the option named
    assert not (tmp_path / "g.db").exists()
    assert not (tmp_path / "home" / ".local" / "share" / "gate-station" / "gate.db").exists()


# H7. A config saved by Notepad as "UTF-8 with BOM"; and a typo in a message
# NOW: `gate config check bom.toml` -> "not valid TOML: Invalid statement (at line 1, column 1)": the teacher cannot
#      see anything wrong at line 1. And `[[sensors]] id = ""` -> "`sensors[0].id`: the id is empty: type the the id".
# SHOULD: the BOM named ("the file starts with a byte-order mark: save it as UTF-8 without BOM") or skipped; "type the id".
def test_h7_a_bom_is_named_and_the_empty_id_line_reads_well(tmp_path):
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b'\xef\xbb\xbf[station]\nid = "x"\n')
    r = run_gate("config", "check", str(bom), env=_env(tmp_path))
    assert r.returncode == 0 or "byte-order mark" in r.stderr or "BOM" in r.stderr, r.stderr
    # (f12d: stronger) accepted, and read as written: the station id is x
    r = run_gate("screen", "--config", str(bom), "--db", str(tmp_path / "g.db"), "--temp", "36.6", "--mask", "yes",
                 "--json", env=_env(tmp_path))
    assert r.returncode == 0 and '"station_id": "x"' in r.stdout, (r.stdout, r.stderr)
    empty = tmp_path / "e.toml"
    empty.write_text('[[sensors]]\nid = ""\nprotocol = "text-line"\nurl = "loop://"\n', encoding="utf-8")
    r = run_gate("config", "check", str(empty), env=_env(tmp_path))
    assert r.returncode == 2 and "the the" not in r.stderr and "id is empty: type the id" in r.stderr, r.stderr


# H8. Ctrl-C during `gate export create`
# NOW: exit 130 "gate: interrupted" (as documented), but the --out folder keeps a partial screenings.csv, mode 0644
#      (the README: "every export file ... 0600"; files are made 0600 only at the end), without a manifest; the same
#      --out is then refused ("exbig is not empty: give a new folder"), so the teacher must find and delete it.
# SHOULD: an interrupted export removes what it wrote (or at least leaves nothing but 0600 files), so the folder is
#      as before.
@pytest.fixture(scope="module")
def big(tmp_path_factory):
    db = tmp_path_factory.mktemp("big") / "big.db"
    filled_log(db, 100_000)
    return db


def test_h8_an_interrupted_export_leaves_no_partial_files(tmp_path, big):
    out = tmp_path / "exp"
    p = subprocess.Popen([GATE, "export", "create", "--from", "2000-01-01", "--to", "2100-01-01", "--out", str(out),
                          "--db", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tmp_path),
                          preexec_fn=takes_ctrl_c)
    while p.poll() is None and not (out / "screenings.csv").exists():
        time.sleep(0.01)
    mode = oct((out / "screenings.csv").stat().st_mode & 0o777) if (out / "screenings.csv").exists() else None
    p.send_signal(signal.SIGINT)  # at once: 100,000 rows take a second or more to write
    p.communicate()
    assert p.returncode == 130
    assert mode in (None, "0o600"), mode
    assert not out.exists() or os.listdir(out) == [], os.listdir(out)


# (f12d) the same without a race: Ctrl-C arrives after the first batch of rows; a folder that was there (empty) stays
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("there", [False, True])
def test_h8_an_export_stopped_half_way_removes_what_it_wrote(tmp_path, big, fmt, there):
    from storage.export import export
    from storage.log import ScreeningLog

    out = tmp_path / "exp"
    if there:
        out.mkdir()

    def interrupted(done, total):
        raise KeyboardInterrupt

    with ScreeningLog(big) as log, pytest.raises(KeyboardInterrupt):
        export(log, date_from="2000-01-01", date_to="2100-01-01", fmt=fmt, out_dir=out, identified=False,
               actor="t", station_id="s", progress=interrupted)
    assert (os.listdir(out) == []) if there else not out.exists()


# H9. The schema version edited in the file (`sqlite3 g.db "UPDATE alembic_version SET version_num='9999'"`)
# NOW: `gate screen --temp 36.6 --db g.db` (and `gate audit list`, which `gate verify` itself recommends) -> "gate:
#      unexpected CommandError: Can't locate revision identified by '9999' (a fault in the station's software ...)",
#      exit 70 with a traceback in gate-errors.log; `gate verify` says "written by an older version of the station
#      (schema 9999): open it for writing once to upgrade it (e.g. gate audit list --db g.db)" (exit 3): 9999 is not
#      older, and the advice leads to the exit 70 above.
# SHOULD: exit 3, "log failure: g.db has schema 9999, which this station does not know (edited, or from a newer
#      version): restore it from backup", for every command; nothing in gate-errors.log.
@pytest.mark.parametrize("command", [["screen", "--temp", "36.6", "--mask", "yes"], ["audit", "list"], ["verify"]])
def test_h9_an_unknown_schema_version_is_a_log_failure(tmp_path, command):
    env = _env(tmp_path)
    db = tmp_path / "g.db"
    assert run_gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes", env=env).returncode == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    r = run_gate(*command, "--db", str(db), env=env)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert r.stderr.startswith("gate: log failure:") and "older version" not in r.stderr, r.stderr
    assert not (tmp_path / "home" / "log" / "gate-errors.log").exists()


# H10. A sealed table dropped from the file
# NOW: `sqlite3 g.db "DROP TABLE users"` on a log with an admin (its row MAC'd, the table sealed with 1 row) ->
#      `gate verify` exits 0, "ok: … 0 roster rows, 0 calibration records …": the users simply vanish from its list.
#      The same for `entrants` (the roster; `ALTER TABLE entrants RENAME TO x` too), `calibrations`, `visitors`,
#      `station_policy`, `daily_reports`, `session_closures`, `cases` (the follow-up case events' chain) and
#      `school_records`. Yet `gate screen` then says "log failure: cannot read the users …: the log file is damaged
#      (no such table: users); run `gate verify`" — and verify says ok. (Deleting the rows instead is named:
#      "CHANGED: the roster: 0 rows where the seal records 1".)
# SHOULD: exit 1 (or 3), naming the missing table ("MISSING: the users: the table is gone; the seal records 1 row").
@pytest.mark.parametrize("drop", ["DROP TABLE users", "DROP TABLE entrants", "ALTER TABLE entrants RENAME TO x",
                                  "DROP TABLE cases", "DROP TABLE station_policy", "DROP TABLE calibrations",
                                  "DROP TABLE visitors", "DROP TABLE daily_reports", "DROP TABLE session_closures",
                                  "DROP TABLE school_records", "DROP TABLE clearances", "DROP TABLE school_cases"])
def test_h10_a_dropped_table_is_named_by_verify(tmp_path, drop):
    env = _env(tmp_path)
    db = tmp_path / "g.db"
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP1,A b,1,pupil\n", encoding="utf-8")
    assert run_gate("roster", "import", str(roster), "--db", str(db), env=env).returncode == 0
    assert run_gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes", "--entrant", "P1",
                    env=env).returncode == 0
    assert run_gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", str(db), input="246810\n",
                    env=env).returncode == 0
    assert run_gate("verify", "--db", str(db), env=env).returncode == 0
    con = sqlite3.connect(db)
    con.execute(drop)
    con.commit()
    con.close()
    r = run_gate("verify", "--db", str(db), env=env)
    assert r.returncode in (1, 3), (r.returncode, r.stdout)
    # (f12d: stronger) the table is named as missing, and the check found it (exit 1), not a failure to read (3)
    table = drop.split()[2]
    assert r.returncode == 1 and "MISSING: " in r.stderr and f"(table {table})" in r.stderr, r.stderr
    if table == "users":
        assert "the seal records 1 row(s)" in r.stderr, r.stderr


def test_h10_the_tables_verify_expects_are_the_ones_the_migrations_create():
    """storage.integrity.CREATED_IN (the tables a log at each revision has) agrees with the migration files."""
    import re

    from storage.integrity import CREATED_IN
    from storage.migrate import MIGRATIONS

    created = {}
    for f in sorted((MIGRATIONS / "versions").glob("0*_*.py")):
        for name in re.findall(r'create_table\(\s*"(\w+)"', f.read_text(encoding="utf-8")):
            created.setdefault(name, f.name.split("_", 1)[0])
    assert {name: created.get(name) for name in CREATED_IN} == CREATED_IN


# H11. An empty --entrant (a scanner script's `--entrant "$CARD"` with nothing scanned)
# NOW: `gate screen --temp 36.6 --mask yes --entrant ""` -> ADMIT, stored with no entrant (anonymous), exit 0 — while
#      an empty --operator, --source or --device-id is refused ("argument --operator: user name is empty: type the
#      user name", exit 2). An anonymous screening escapes the person's fever memory and certificate checks.
# SHOULD: refused like the others ("argument --entrant: entrant id is empty: type the id, or leave --entrant out"),
#      exit 2, nothing stored.
def test_h11_an_empty_entrant_is_refused_like_the_other_ids(tmp_path):
    db = tmp_path / "g.db"
    r = run_gate("screen", "--temp", "36.6", "--mask", "yes", "--entrant", "", "--db", str(db), env=_env(tmp_path))
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout)
    assert not db.exists() or sqlite3.connect(db).execute("select count(*) from screenings").fetchone()[0] == 0
