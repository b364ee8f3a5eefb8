"""The first sync to an upstream this log never synced with needs an admin's sign-in (issue 13), on a real PostgreSQL.

A pupil who points `[upstream] url` of the config at a database of their own gets nothing: `gate sync` without a
sign-in is refused with one line saying what to do, the upstream stays empty (not even its tables are made) and the
refusal is in the audit trail. A duty user is refused too; an admin's sign-in lets it go, and from then on the cron
job syncs to that upstream without a PIN. `--watch` (the station's background sync) waits instead, and says why.
"""
import threading

from sqlalchemy import create_engine, inspect

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.auth import Auth, User
from gate.config import Config
from gate.station import Station
from storage import audit
from storage.log import ScreeningLog
from storage.sync import Sync
from storage.sync_known import FIRST_SYNC
from storage.upstream import normalise_url
from tests.support import run_gate, wait_until

ADMIN, DUTY = "900001", "318274"


def station(tmp_path, url: str):
    """A log with PINs on (an admin and a duty user) and one screening; a config whose upstream is ``url``."""
    db, cfg = tmp_path / "gate.db", tmp_path / "station.toml"
    cfg.write_text(f'[station]\nid = "north"\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
    with ScreeningLog(db) as log:
        screen(log)  # before the users: the policy is stored with the log
        auth = Auth(log, "north")
        auth.add_user("admin", "admin", ADMIN, None)
        auth.add_user("zhang", "duty", DUTY, User("admin", "admin"))
    return ["--config", cfg, "--db", db]


def screen(log: ScreeningLog) -> None:
    Station(Config(station_id="north"), log).screen([Reading(object_c=36.6, body_c=36.6, source="gun-1",
                                                             ambient_c=21.0)], MaskResult(MaskState.YES))


def tables(url: str) -> list[str]:
    engine = create_engine(normalise_url(url))
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def screenings_upstream(url: str) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM screenings").scalar_one()
    finally:
        engine.dispose()


def refusals(args) -> list[dict]:
    with ScreeningLog(args[3]) as log:
        return [e for e in audit.events(log, 1000) if e["action"] == "refused"
                and e["detail"].get("action") == "sync-new-upstream"]


def test_a_config_url_never_synced_with_is_refused_without_a_sign_in(tmp_path, pg):
    url = pg.create_db("pupils_own")
    args = station(tmp_path, url)
    out = run_gate("sync", "--once", *args)
    assert out.returncode == 1, out.stderr
    line = out.stderr.strip()
    assert "\n" not in line and FIRST_SYNC in line and "--user NAME --pin-stdin" in line and "Traceback" not in line
    assert tables(url) == []  # nothing sent, nothing even created
    assert len(refusals(args)) == 1
    status = run_gate("sync", "status", "--json", *args)
    assert FIRST_SYNC in status.stdout  # what the duty screen reads


def test_a_duty_user_is_refused_an_admin_may_and_then_the_cron_job_needs_no_pin(tmp_path, pg):
    url = pg.create_db("district_first")
    args = station(tmp_path, url)
    duty = run_gate("sync", "--once", *args, "--user", "zhang", "--pin-stdin", input=DUTY + "\n")
    assert duty.returncode == 1 and "refused" in duty.stderr and "admin" in duty.stderr
    assert tables(url) == []
    admin = run_gate("sync", "--once", *args, "--user", "admin", "--pin-stdin", input=ADMIN + "\n")
    assert admin.returncode == 0, admin.stderr
    assert screenings_upstream(url) == 1
    with ScreeningLog(args[3]) as log:
        screen(log)
    cron = run_gate("sync", "--once", *args)  # no sign-in: this upstream is known now
    assert cron.returncode == 0, cron.stderr
    assert screenings_upstream(url) == 2


def test_the_same_database_under_another_url_is_known_another_database_is_not(tmp_path, pg):
    url = pg.create_db("district_alias")
    args = station(tmp_path, url)
    assert run_gate("sync", "--once", *args, "--user", "admin", "--pin-stdin", input=ADMIN + "\n").returncode == 0
    alias = url.replace("127.0.0.1", "localhost") if "127.0.0.1" in url else url + "?application_name=alias"
    (tmp_path / "station.toml").write_text(f'[station]\nid = "north"\n[upstream]\nurl = "{alias}"\n',
                                          encoding="utf-8")
    assert run_gate("sync", "--once", *args).returncode == 0  # the same database: its identity is recorded
    other = pg.create_db("district_other")
    (tmp_path / "station.toml").write_text(f'[station]\nid = "north"\n[upstream]\nurl = "{other}"\n',
                                          encoding="utf-8")
    refused = run_gate("sync", "--once", *args)
    assert refused.returncode == 1 and FIRST_SYNC in refused.stderr
    assert tables(other) == []


def test_the_background_sync_waits_for_an_admin_and_says_so(tmp_path, pg):
    url = pg.create_db("district_watch")
    args = station(tmp_path, url)
    with ScreeningLog(args[3]) as log:
        from gate.cli.sync import FirstSync
        from gate.config import load_config as load

        cfg = load(args[1])

        class Watch:
            user, watch = None, True

        sync = Sync(log, url, first_sync=FirstSync(Watch(), cfg, log, False))
        stop = threading.Event()
        errors: list[str] = []
        worker = threading.Thread(target=sync.watch, args=(stop,),
                                  kwargs={"interval_s": 0.05, "backoff_s": (0.01, 0.02), "on_error": errors.append})
        worker.start()
        try:
            assert wait_until(lambda: len(errors) >= 3)
        finally:
            stop.set()
            worker.join()
            sync.close()
        assert all(e.startswith(FIRST_SYNC) for e in errors)
        assert sync.status()["last_error"].startswith(FIRST_SYNC)
    assert tables(url) == []
    assert len(refusals(args)) == 1  # audited once, not at every retry
