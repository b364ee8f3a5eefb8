"""Visitors, daily reports and session closures written before migration 0014 are sealed by the upgrade (a station's
own approvals and reports stay trusted), and a differing [security] lockout is refused like any other policy key."""
from alembic import command

from gate.cli import main
from storage import reports
from storage.db import make_engine
from storage.log import ScreeningLog
from storage.migrate import alembic_config
from storage.roster import Visitor, add_visitor, check_entrant
from tests.support import run_gate


def test_a_log_from_before_0014_keeps_its_visitors_reports_and_closures_trusted(tmp_path):
    db = tmp_path / "gate.db"
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP1,Li Lei,3-2,pupil\n", encoding="utf-8")
    assert main(["roster", "import", "--db", str(db), str(roster)]) in (0, None)
    with ScreeningLog(db) as log:
        add_visitor(log, Visitor("V1", "Mr Wang", "13800138000", "", "Ms Li", None), station_id="north", actor="boss")
        reports.store(log, {"station_id": "north", "day": "2026-11-28", "confirmed_fevers": 0})
    engine = make_engine(db)
    cfg = alembic_config()
    with engine.begin() as conn:  # back to the schema before 0014: no MACs on these rows
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
        conn.exec_driver_sql("INSERT INTO session_closures VALUES ('2026-11-28', 'morning', 1.0, 0)")
    engine.dispose()
    with ScreeningLog(db) as log:  # opening upgrades: the rows as they stand are sealed
        assert check_entrant(log, "V1") is None
    verify = run_gate("verify", "--db", db)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "1 approved visitors, 1 daily reports, 1 closed-out sessions" in verify.stdout


def test_a_config_with_another_lockout_is_refused_naming_the_key(tmp_path):
    db = tmp_path / "gate.db"
    assert run_gate("screen", "--db", db, "--temp", "36.5", "--operator", "t", "--mask", "yes").returncode == 0
    loose = tmp_path / "loose.toml"
    loose.write_text("[security]\nlockout_minutes = 1\n", encoding="utf-8")
    r = run_gate("screen", "--db", db, "--config", loose, "--temp", "36.5", "--operator", "t", "--mask", "yes")
    assert r.returncode == 1 and "lockout_minutes (30.0 → 1.0)" in r.stderr, r.stderr


def test_a_visitor_approved_again_keeps_the_log_verifying_and_is_let_in(tmp_path):
    """Found by the fever state machine: a second approval replaced the row but kept its first MAC, so the third
    approval was refused as an edit outside the station."""
    db = tmp_path / "gate.db"
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,class,kind\nP1,Li Lei,3-2,pupil\n", encoding="utf-8")
    assert main(["roster", "import", "--db", str(db), str(roster)]) in (0, None)
    with ScreeningLog(db) as log:
        for host in ("Ms Li", "Mr Zhao", "Ms Li"):
            add_visitor(log, Visitor("V1", "Mr Wang", "13800138000", "", host, None), station_id="north",
                        actor="boss")
        assert check_entrant(log, "V1") is None
    verify = run_gate("verify", "--db", db)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "1 approved visitors" in verify.stdout
