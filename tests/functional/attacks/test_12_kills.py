"""Issue 12, "one unit of work": a pupil pulls the plug (kill -9) on `gate screen` with a typed reading, on `gate
config apply` and on `gate roster import`, at random moments, several at once; afterwards `gate verify` is clean and
no screening is without its audit event (or the other way round), no policy without its `policy-applied`, no roster
without its import event, every decision printed is in the log, and SQLite's integrity check passes.

The process boundary is the point here (kill -9), so these run the real `gate` in subprocesses."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.support import GATE, env_with_root, run_gate

SCREEN = ["screen", "--temp", "36.6", "--mask", "yes", "--reason", "cold", "--device-id", "T1", "--json"]


def _env(home):
    return dict(env_with_root(), HOME=str(home), GATE_LOG_DIR=str(home / "log"), LANG="C.UTF-8")


def _start(args, env, stdin=None):
    p = subprocess.Popen([GATE, *args], stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if stdin:
        p.stdin.write(stdin)
        p.stdin.close()
    return p


def _kill_at(procs, delays):
    t0 = time.monotonic()
    for p, d in sorted(zip(procs, delays), key=lambda x: x[1]):
        while time.monotonic() - t0 < d and p.poll() is None:
            time.sleep(0.005)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
    return [(p.wait(), p.stdout.read(), p.stderr.read()) for p in procs]


def _first(args, env):
    """The first run of a command on a new log, not killed: how long one run takes on this machine now, so the kills
    below fall across the whole of a run (start-up, the work, the commit, the exit) however busy the machine is."""
    t0 = time.monotonic()
    p = _start(args, env)
    out, err = p.communicate()
    assert p.returncode == 0, err
    return time.monotonic() - t0


def _clean(db, env):
    r = run_gate("verify", "--db", str(db), "--json", env=env)
    assert r.returncode == 0, (r.stdout, r.stderr)
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def screened(tmp_path, home):
    """A new log with one screening (not killed), its environment, and how long that first `gate screen` took."""
    env = _env(home)
    db = tmp_path / "g.db"
    return env, db, _first(["screen", "--db", str(db), "--temp", "36.6", "--mask", "yes"], env)


@pytest.mark.parametrize("seed", range(6))
def test_typed_readings_killed_at_random_never_split_from_their_audit_rows(tmp_path, screened, seed):
    env, db, took = screened
    rnd = random.Random(seed)
    procs = [_start([*SCREEN, "--db", str(db), "--entrant", f"P{seed}{i}"], env) for i in range(3)]
    results = _kill_at(procs, [rnd.uniform(0.4 * took, 1.6 * took) for _ in procs])
    printed = [json.loads(out)["id"] for code, out, _ in results if code == 0]
    for code, out, err in results:
        assert code in (0, -signal.SIGKILL), err  # killed, or finished: never a half-told failure
    _clean(db, env)
    con = sqlite3.connect(db)
    shots = {r[0] for r in con.execute("select id from screenings")}
    audited = {json.loads(d)["screening"] for (d,) in
               con.execute("select detail from audit_events where action = 'manual-entry'")}
    queued = {r[0] for r in con.execute("select record_id from outbox where kind = 'screening'")}
    con.close()
    assert set(printed) <= shots  # every decision shown is stored
    assert shots == audited  # each typed reading with its audit event, neither without the other
    assert shots <= queued  # and queued for the upstream


@pytest.mark.parametrize("seed", range(3))
def test_config_apply_killed_at_random_never_stores_a_policy_without_its_audit_event(tmp_path, screened, seed):
    env, db, took = screened
    rnd = random.Random(100 + seed)
    for i in range(3):
        cfg = tmp_path / f"c{i}.toml"
        cfg.write_text(f"[screening]\nthreshold_c = {37.0 + i / 10:.1f}\n", encoding="utf-8")
        (code, _, err), = _kill_at([_start(["config", "apply", str(cfg), "--db", str(db)], env)],
                                   [rnd.uniform(0.4 * took, 1.4 * took)])
        assert code in (0, -signal.SIGKILL), err
    _clean(db, env)
    # the stored policy is the one the last policy-applied event says (verify would say POLICY: otherwise)
    r = run_gate("audit", "list", "--db", str(db), "--json", env=env)
    applied = [json.loads(line) for line in r.stdout.splitlines() if '"policy-applied"' in line]
    last = applied[-1]["detail"]["policy"]["threshold_c"]
    # a screening at that very threshold is a retest, one just below it an admit: the policy in force is that one
    cfg = tmp_path / f"c{round((last - 37.0) * 10)}.toml" if last != 37.3 else None
    given = ["--config", str(cfg)] if cfg else []
    below = run_gate("screen", "--db", str(db), *given, "--temp", f"{last - 0.1:.1f}", "--mask", "yes", env=env)
    at = run_gate("screen", "--db", str(db), *given, "--temp", f"{last:.1f}", "--mask", "yes", env=env)
    assert below.stdout.startswith("ADMIT") and at.stdout.startswith("RETEST"), (last, below, at)


@pytest.mark.parametrize("seed", range(3))
def test_roster_import_killed_at_random_never_keeps_a_roster_without_its_event(tmp_path, screened, seed):
    env, db, took = screened
    rnd = random.Random(200 + seed)
    sizes = []
    for i in range(3):
        n = 200 + 100 * i
        csv = tmp_path / f"r{i}.csv"
        csv.write_text("id,name,class,kind\n" + "".join(f"S{j:05d},Pupil {j},{j % 9},pupil\n" for j in range(n)),
                       encoding="utf-8")
        (code, _, err), = _kill_at([_start(["roster", "import", str(csv), "--db", str(db)], env)],
                                   [rnd.uniform(0.4 * took, 1.4 * took)])
        assert code in (0, -signal.SIGKILL), err
        if code == 0:
            sizes.append(n)
    _clean(db, env)
    con = sqlite3.connect(db)
    rows = con.execute("select count(*) from entrants").fetchone()[0]
    events = con.execute("select count(*) from audit_events where action like 'roster%'").fetchone()[0]
    con.close()
    # each import that stood is one event; the roster is all of one import or none
    assert rows in (0, 200, 300, 400)
    assert (rows == 0) == (events == 0), (rows, events)
    assert events >= len(sizes)  # every import that said it was done is in the audit trail


@pytest.mark.parametrize("seed", range(2))
def test_users_add_killed_at_random_never_keeps_a_user_without_its_event_or_seal(tmp_path, home, seed):
    env = _env(home)
    db = tmp_path / "g.db"
    p = _start(["users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", str(db)], env, stdin=b"246810\n")
    t0 = time.monotonic()
    p.wait()
    took = time.monotonic() - t0
    err = p.stderr.read()
    assert p.returncode == 0, err
    rnd = random.Random(300 + seed)
    for i in range(3):
        (code, _, err), = _kill_at([_start(["users", "add", f"t{i}", "--role", "duty", "--pin-stdin", "--user",
                                            "boss", "--db", str(db)], env, stdin=b"246810\n135790\n")],
                                   [rnd.uniform(0.4 * took, 1.4 * took)])
        assert code in (0, -signal.SIGKILL), err
    _clean(db, env)  # the users table matches its MACs and seal: no half-added user
    con = sqlite3.connect(db)
    users = {r[0] for r in con.execute("select name from users")}
    events = con.execute("select count(*) from audit_events where action = 'user-added'").fetchone()[0]
    con.close()
    assert "boss" in users and len(users) == events, (users, events)
    # and sign-in still works for everyone (the seal was not left unmatched)
    r = run_gate("users", "list", "--user", "boss", "--pin-stdin", "--db", str(db), input="246810\n", env=env)
    assert r.returncode == 0, r.stderr
