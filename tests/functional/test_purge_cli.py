"""Issue 13's purge cases tried as a school would, through the `gate` command line (called in-process), against a real
PostgreSQL: no sync yet, a trial sync elsewhere, a refused record; and `gate sync` failing when it quarantines."""

import pytest
from sqlalchemy import func, select

from gate.auth import Auth, User
from storage.log import ScreeningLog
from tests.pg import unavailable_reason
from tests.support import apply_policy, log_from_template, relink_screenings, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
PIN = "581302"
DUTY_PIN = "640219"
ADMIN_PIN = "902741"


@pytest.fixture
def station(tmp_path, pg):
    """A log with an auditor, a config naming the district's upstream, and the two paths."""
    url = pg.create_db("district")
    db, cfg = tmp_path / "gate.db", tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "north"\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
    return log_from_template(db, staffed), cfg, url  # made once a run: the PIN hashes are slow on purpose


def staffed(db):
    with ScreeningLog(db) as log:
        auth = Auth(log, "north")
        auth.add_user("admin", "admin", "902741", None)
        auth.add_user("wu", "auditor", PIN, User("admin", "admin"))
        auth.add_user("zhang", "duty", DUTY_PIN, User("admin", "admin"))
        apply_policy(log)  # with PINs on, only an admin stores the first screening policy


def gate(capsys, monkeypatch, *argv, stdin: str = "") -> tuple[int, str, str]:
    """`gate ARGV` in this process (tests/support.run_gate): exit code, stdout, stderr."""
    r = run_gate(*argv, input=stdin, newline="")
    return r.returncode, r.stdout, r.stderr


def screen(capsys, monkeypatch, db, cfg, *temps: float) -> None:
    for t in temps:
        assert gate(capsys, monkeypatch, "screen", "--temp", t, "--db", db, "--config", cfg, "--user", "zhang",
                    "--pin-stdin", stdin=DUTY_PIN + "\n")[0] == 0


def age(db, days: int) -> None:
    """Move every screening ``days`` into the past and re-link the chain, as if written then."""
    with ScreeningLog(db) as log, log.engine.begin() as conn:
        conn.exec_driver_sql("update screenings set created_at = created_at - ?", (days * 86400,))
        relink_screenings(log, conn)


def purge(capsys, monkeypatch, db, cfg):
    return gate(capsys, monkeypatch, "purge", "--older-than", 30, "--db", db, "--config", cfg, "--user", "wu",
                "--pin-stdin", stdin=PIN + "\n")


def count(db) -> int:
    with ScreeningLog(db) as log:
        return log.count()


def test_no_sync_ever_run_keeps_everything_and_says_so(station, capsys, monkeypatch):
    db, cfg, url = station
    screen(capsys, monkeypatch, db, cfg, 36.5, 36.6, 36.7)
    age(db, 40)
    code, out, err = purge(capsys, monkeypatch, db, cfg)
    assert code == 0, err
    assert "purged 0 screenings" in out and count(db) == 3
    assert "kept 3 screenings not yet confirmed by upstream postgresql+psycopg://postgres@127.0.0.1" in out
    assert "run gate sync first" in out


def test_a_trial_sync_elsewhere_then_purge_deletes_nothing_and_a_real_sync_then_does(station, pg, capsys,
                                                                                      monkeypatch):
    db, cfg, url = station
    screen(capsys, monkeypatch, db, cfg, 36.5, 36.6, 36.7)
    age(db, 40)
    trial = pg.create_db("trial")
    # A trial run elsewhere sends the log out of the station: it needs an admin's sign-in.
    assert gate(capsys, monkeypatch, "sync", "--once", "--upstream", trial, "--db", db, "--config", cfg)[0] == 2
    assert gate(capsys, monkeypatch, "sync", "--once", "--upstream", trial, "--db", db, "--config", cfg,
                "--user", "admin", "--pin-stdin", stdin=ADMIN_PIN + "\n")[0] == 0
    code, out, _ = purge(capsys, monkeypatch, db, cfg)
    assert code == 0 and "purged 0 screenings" in out and "kept 3 screenings not yet confirmed" in out
    assert count(db) == 3
    # The purge read the district's upstream; that is no sync: the first one still needs an admin.
    code, _, err = gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg)
    assert code == 1 and "first sync waits for an admin" in err
    assert gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg,
                "--user", "admin", "--pin-stdin", stdin=ADMIN_PIN + "\n")[0] == 0
    code, out, _ = purge(capsys, monkeypatch, db, cfg)
    assert code == 0 and "purged 3 screenings older than 30 days; chain verifies" in out and count(db) == 0


def test_a_refused_record_makes_sync_fail_and_is_never_purged(station, capsys, monkeypatch):
    from sqlalchemy import create_engine, text

    from storage.upstream import normalise_url

    db, cfg, url = station
    assert gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg, "--user", "admin",
                "--pin-stdin", stdin=ADMIN_PIN + "\n")[0] == 0  # the first sync (an admin) makes the schema
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:  # the district refuses implausible temperatures
        conn.execute(text("alter table screenings add constraint plausible check (temperature_c < 43)"))
    engine.dispose()
    screen(capsys, monkeypatch, db, cfg, 36.5, 44.0, 36.6)
    age(db, 40)
    code, out, err = gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg)
    assert code == 1 and "quarantined 1" in out
    assert len(err.strip().splitlines()) == 1 and "1 record(s) quarantined" in err and "plausible" in err
    assert "DETAIL" not in err and "Failing row" not in err and "44.0" not in err  # the reason, not the row
    code, out, _ = purge(capsys, monkeypatch, db, cfg)
    assert code == 0 and "purged 1 screenings" in out and count(db) == 2
    assert "kept 1 screening the upstream refused (quarantined)" in out
    assert "kept 1 screening behind those in the chain" in out


def test_without_an_upstream_purge_goes_by_age_and_says_so(station, tmp_path, capsys, monkeypatch):
    db, _cfg, _url = station
    alone = tmp_path / "alone.toml"
    alone.write_text('[station]\nid = "north"\n', encoding="utf-8")
    screen(capsys, monkeypatch, db, alone, 36.5, 36.6)
    age(db, 40)
    code, out, _ = purge(capsys, monkeypatch, db, alone)
    assert code == 0 and "purged 2 screenings" in out and "no upstream configured" in out and count(db) == 0


def test_an_unreachable_upstream_purges_nothing(station, tmp_path, capsys, monkeypatch):
    db, _cfg, _url = station
    down = tmp_path / "down.toml"
    down.write_text('[station]\nid = "north"\n[upstream]\nurl = "postgresql://postgres@127.0.0.1:1/x"\n',
                    encoding="utf-8")
    screen(capsys, monkeypatch, db, down, 36.5)
    age(db, 40)
    code, out, err = purge(capsys, monkeypatch, db, down)
    assert code == 1 and "unreachable" in err and "nothing more was purged" in err and count(db) == 1


def test_records_pulled_from_the_other_gates_past_retention_are_purged_and_the_purge_says_so(station, tmp_path,
                                                                                             capsys, monkeypatch):
    """Pulled fevers, clearances, holds and case events past retention go like the station's own rows (issue 16 F2:
    storage.pulled_retention; before, they were counted and kept for ever); newer ones stay; each gate's place for
    the next pull stays as a marker in the chain; the chains still verify. tests/functional/test_purge_pulled.py
    tries the rules against two real gates."""
    import json
    import time

    from storage import pulled_cases, school_records
    from storage.models import SCHOOL_CASES, SCHOOL_RECORDS

    db, _cfg, _url = station
    alone = tmp_path / "alone.toml"
    alone.write_text('[station]\nid = "north"\n', encoding="utf-8")
    now, old = time.time(), time.time() - 40 * 86400
    with ScreeningLog(db) as log, log.unit("pulled, as a pull stores them") as u:
        hold = json.dumps({"entrant_id": "P2", "gate": "south", "since": old, "kind": "screening", "record_id": "x"})
        for n, kind, who, content, pulled_at in ((0, "lifted", "P1", "{}", old), (2, "held", "P2", hold, old),
                                                 (1, "lifted", "P1", "{}", now)):
            record = {"id": f"south/{kind}/{n}", "origin": "south", "origin_seq": n, "kind": kind,
                      "entrant_id": who, "at": pulled_at, "content": content, "pulled_at": pulled_at}
            school_records.chain(log).append(u.conn, record, school_records.record_content(record))
        event = {"id": "south/7", "origin": "south", "origin_seq": 7, "case_id": "c1", "entrant_id": "P1",
                 "at": old, "content": "{}", "pulled_at": old}
        pulled_cases.chain(log).append(u.conn, event, pulled_cases.pulled_content(event))
    code, out, err = purge(capsys, monkeypatch, db, alone)
    assert code == 0, err
    assert "purged 1 record(s) pulled from the school's other gates" in out and "and 1 of their case events" in out
    assert "kept 1 record(s) pulled from the school's other gates past retention about a pupil this gate still " \
           "refuses or holds" in out
    with ScreeningLog(db) as log, log.read("pulled") as conn:
        # the hold not lifted stays (P2 is held), and so does the newer row
        assert conn.execute(select(SCHOOL_RECORDS.c.id)).scalars().all() == ["south/held/2", "south/lifted/1"]
        assert conn.execute(select(SCHOOL_CASES.c.id, SCHOOL_CASES.c.origin_seq)).all() == [
            ("south/pulled-up-to/7", 7)]  # where the next pull of south's case events starts
        assert pulled_cases.last_pull(conn)[0] == 0  # a marker is no case event
        assert school_records.chain(log).verify(conn).ok and pulled_cases.chain(log).verify(conn).ok
