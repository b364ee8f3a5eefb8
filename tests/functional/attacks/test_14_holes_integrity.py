"""Issue 14 holes found by a14 (integrity): a visitor, a daily report or a session closure written into the file by
hand, and a --config that loosens the PIN lockout. Copied unchanged from the attacker's file."""
import shutil
import stat

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from tests.support import run_gate

import sqlite3
import json

from sqlalchemy import create_engine, text

from storage.upstream import normalise_url




def test_hole_a_visitor_slipped_into_the_file_is_not_admitted_and_verify_names_it(tmp_path):
    db = tmp_path / "gate.db"
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP1,Li Lei,3-2,pupil\n", encoding="utf-8")
    assert run_gate("roster", "import", "--db", db, roster).returncode == 0
    r = run_gate("screen", "--db", db, "--temp", "36.5", "--entrant", "X9", "--mask", "yes", "--operator", "t",
                 "--json")
    assert '"deny"' in r.stdout  # not on the roster: refused, as the README says
    with sqlite3.connect(db) as c:
        c.execute("insert into visitors values('X9','Stranger','13800138000','x','Wang',NULL,'root',1795918287.0)")
    r = run_gate("screen", "--db", db, "--temp", "36.5", "--entrant", "X9", "--mask", "yes", "--operator", "t",
                 "--json")
    assert '"admit"' not in r.stdout, "a visitor approval written into the file by hand let a stranger in"
    r = run_gate("verify", "--db", db)
    assert r.returncode == 1 and "visitor" in (r.stdout + r.stderr).lower()


# 4. (needs the pg fixture) A daily report edited in the file (confirmed_fevers 0, zero_report true: a day with a
#    confirmed fever) passes gate verify (exit 0, "ok") and gate sync sends it upstream as a zero report. The report's
#    "chains" heads, the record that catches a rollback upstream, can be edited the same way. Should: daily reports
#    MAC'd/sealed like the roster; gate verify names the edited report (exit 1) and sync refuses to send it.
def test_hole_a_daily_report_edited_in_the_file_goes_upstream_as_a_zero_report(tmp_path, pg):
    url = pg.create_db("report")
    db, cfg = tmp_path / "gate.db", tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "north"\ndb = "{db}"\n[school]\nid = "s-7"\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
    for t in ("38.6", "38.7"):
        assert run_gate("screen", "--config", cfg, "--temp", t, "--entrant", "P1", "--mask", "yes",
                        "--operator", "t").returncode == 0
    r = run_gate("report", "daily", "--config", cfg, "--json")
    assert json.loads(r.stdout)["confirmed_fevers"] == 1
    with sqlite3.connect(db) as c:
        c.execute("update daily_reports set content=replace(replace(content,'\"confirmed_fevers\": 1',"
                  "'\"confirmed_fevers\": 0'),'\"zero_report\": false','\"zero_report\": true')")
    verify = run_gate("verify", "--config", cfg)
    sync = run_gate("sync", "--config", cfg)
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        rows = [r[0] for r in conn.execute(text("select content from daily_reports"))]
    engine.dispose()
    sent = [json.loads(c) if isinstance(c, str) else c for c in rows]
    print(verify.stdout, verify.stderr, sync.stdout, sync.stderr, sent)
    assert verify.returncode == 1, "gate verify says ok on a daily report edited in the file"
    assert not any(s.get("zero_report") is True for s in sent), "a forged zero report reached the upstream"


# 5. A session closure slipped into the file (session_closures is neither chained nor MAC'd) makes the station skip
#    the morning's absence cases: a pupil not seen in the morning gets no follow-up case, and gate verify says ok.
#    Today:  (screen P1 on 2026-11-28 07:00 under faketime, roster P1,P2)
#            sqlite3 gate.db "insert into session_closures values('2026-11-28','morning',1795849200.0,0)"
#            gate followup list --db gate.db   -> only noon cases; no "morning absent P2"
#            gate verify --db gate.db          -> ok (exit 0)
#    Should: the closures are MAC'd/sealed (or derived from the case chain): gate verify names the row (exit 1), and
#            a closure the station did not write does not stop the morning's cases being opened.
def test_hole_a_session_closure_slipped_into_the_file_hides_an_absent_pupil(tmp_path):
    import subprocess
    from tests.functional.attacks.conftest import Gate, faketime_prefix
    gate = Gate(tmp_path / "home")
    db = tmp_path / "gate.db"
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP1,Li Lei,3-2,pupil\nP2,Han Mei,3-2,pupil\n", encoding="utf-8")
    day = faketime_prefix("@2026-11-28 07:00:00")
    assert gate("roster", "import", "--db", str(db), str(roster), prefix=day).returncode == 0
    assert gate("screen", "--db", str(db), "--temp", "36.5", "--entrant", "P1", "--mask", "yes", "--operator", "t",
                prefix=day).returncode == 0
    with sqlite3.connect(db) as c:
        c.execute("insert into session_closures values('2026-11-28','morning',1795849200.0,0)")
    r = gate("followup", "list", "--db", str(db), "--json", prefix=faketime_prefix("@2026-11-29 02:00:00"))
    v = gate("verify", "--db", str(db))
    assert v.returncode == 1, "gate verify says ok on a session closure written into the file by hand"
    # `followup list --json` prints one JSON line per case (the attacker's json.loads read only a single line)
    cases = [json.loads(line) for line in r.stdout.splitlines()]
    assert any("P2" in json.dumps(c) and "morning" in json.dumps(c) for c in cases), cases


# 8. The PIN lockout is whatever the caller's config says: `--config evil.toml` with `[security] lockout_failures =
#    100, lockout_minutes = 1` (accepted by gate config check) gives 100 guesses a minute instead of 10 per 30
#    minutes: 144,000 a day instead of 480, the whole 6-digit space in about a week, for anyone who may run `gate`
#    (e.g. `sudo -u gate gate ...` as the README's deployment lets teachers). The stored screening policy does not
#    cover [security], so no `gate config apply` is needed.
#    Today:  printf '[security]\nlockout_failures = 100\nlockout_minutes = 1\n' > evil.toml
#            printf '000001\n' | gate users list --db gate.db --config evil.toml --user boss --pin-stdin
#              -> "refused: wrong PIN for boss (99 tries left before a 1-minute lock)"
#    Should: the lockout settings are part of what is stored with the log (changed only by an admin's gate config
#            apply, audited), or a looser [security] than the stored one is refused like a differing policy.
def test_hole_a_config_given_on_the_command_line_cannot_loosen_the_pin_lockout(tmp_path):
    db = tmp_path / "gate.db"
    assert run_gate("screen", "--db", db, "--temp", "36.5", "--operator", "t", "--mask", "yes").returncode == 0
    assert run_gate("users", "add", "boss", "--role", "admin", "--db", db, "--pin-stdin",
                    input="583920\n").returncode == 0
    evil = tmp_path / "evil.toml"
    evil.write_text("[security]\nlockout_failures = 100\nlockout_minutes = 1\n", encoding="utf-8")
    for i in range(12):
        r = run_gate("users", "list", "--db", db, "--config", evil, "--user", "boss", "--pin-stdin",
                     input=f"00000{i % 10}\n")
    assert "locked" in r.stderr and "99 tries" not in r.stderr and "88 tries" not in r.stderr, r.stderr
