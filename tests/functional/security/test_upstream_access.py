"""Issue 14, the upstream side, on a real PostgreSQL: the station's role may INSERT but not UPDATE or DELETE (the
README's GRANTs, run as written) and the sync, a re-send, verify and purge work under it; its password comes from a
password file (PGPASSFILE) or the environment, never from a URL; a non-local upstream is reached with
sslmode=verify-full unless the URL relaxes it."""
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.cli import main
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from storage.upstream import normalise_url
from storage.upstream_url import UpstreamUrlError, check, sslmode
from tests.pg import BIN, unavailable_reason
from tests.functional.security.cli import run_gate
from tests.support import ROOT, pg_passfile, wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
PASSWORD = "Tq7-district-only"


def readme_grants() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- upstream-grants -->")[1].split("<!-- /upstream-grants -->")[0]
    return re.search(r"```sql\n(.*?)```", block, re.S).group(1)


def screen(db, n, station_id="north"):
    with ScreeningLog(db) as log:
        st_ = Station(Config(station_id=station_id), log)
        for i in range(n):
            t = 38.6 if i % 4 == 1 else 36.5
            st_.screen([Reading(object_c=t, body_c=t, source="gun-1", ambient_c=21.0)], MaskResult(MaskState.YES))


@pytest.fixture(scope="module")
def district(pg, tmp_path_factory):
    """Database `screening`, its schema made by the owner's first sync, then the README's GRANTs for gate_station,
    which must sign in with a password (scram) while the owner keeps the test server's trust."""
    url = pg.create_db("screening")
    work = tmp_path_factory.mktemp("district")
    screen(work / "owner.db", 1, "owner-station")
    assert main(["sync", "--once", "--upstream", url, "--db", str(work / "owner.db")]) == 0
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(readme_grants().replace("change-me", PASSWORD))
    engine.dispose()
    hba = pg.data / "pg_hba.conf"
    hba.write_text(f"host all gate_station 127.0.0.1/32 scram-sha-256\n{hba.read_text()}")
    pg._run(str(BIN / "pg_ctl"), "-D", str(pg.data), "reload")
    station_url = f"postgresql://gate_station@127.0.0.1:{pg.port}/screening"
    def asks_for_a_password() -> bool:
        try:
            create_engine(normalise_url(station_url)).connect().close()
        except Exception as exc:  # noqa: BLE001
            return "password" in str(exc)
        return False

    wait_until(asks_for_a_password, 20, interval=0.1)  # the reload is asynchronous
    return url, station_url


@pytest.fixture
def passfile(tmp_path, monkeypatch, pg):
    return pg_passfile(monkeypatch, tmp_path / "pgpass", f"127.0.0.1:{pg.port}:screening:gate_station:{PASSWORD}")


def as_station(station_url, sql):
    engine = create_engine(normalise_url(station_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def test_the_station_role_syncs_resends_verifies_and_purges_with_insert_only(district, passfile, tmp_path, capsys,
                                                                             monkeypatch):
    _, station_url = district
    db, cfg = tmp_path / "north.db", tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "north"\n[upstream]\nurl = "{station_url}"\n', encoding="utf-8")
    screen(db, 8)
    code, out, err = run_gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg)
    assert code == 0, err
    assert out.startswith("sent ")
    with ScreeningLog(db) as log, log.engine.begin() as conn:  # forget the checkpoint: everything is sent again
        conn.exec_driver_sql("update sync_state set last_seq = 0")
    code, out, err = run_gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg)
    assert code == 0 and "quarantined 0" in out, err  # ON CONFLICT DO NOTHING needs no UPDATE
    code, out, err = run_gate(capsys, monkeypatch, "sync", "verify", "--db", db, "--config", cfg)
    assert code == 0 and "8 rows compared" in out, err


@pytest.mark.parametrize("sql", [
    "update screenings set decision = 'admit'",
    "delete from screenings",
    "truncate screenings",
    "delete from audit_events",
    "update gate_upstream_identity set id = 'x'",
    "drop table screenings",
])
def test_the_station_role_cannot_change_or_remove_what_was_sent(district, passfile, sql):
    _, station_url = district
    with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
        as_station(station_url, sql)


def test_without_the_password_file_the_sync_fails_in_one_line(district, tmp_path, capsys, monkeypatch):
    _, station_url = district
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "absent"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    screen(tmp_path / "g.db", 1)
    code, _, err = run_gate(capsys, monkeypatch, "sync", "--once", "--upstream", station_url, "--db",
                            tmp_path / "g.db", "--user", "x")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "password" in err


def test_the_password_from_the_environment_works(district, tmp_path, capsys, monkeypatch):
    _, station_url = district
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "absent"))
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    screen(tmp_path / "g.db", 2, "south")  # another station: one id, one station upstream
    cfg = tmp_path / "gate.toml"  # another gate of the school the README gives the role
    cfg.write_text(f'[station]\nid = "south"\n[school]\nid = "north"\n[upstream]\nurl = "{station_url}"\n',
                   encoding="utf-8")
    code, out, err = run_gate(capsys, monkeypatch, "sync", "--once", "--db", tmp_path / "g.db", "--config", cfg)
    assert code == 0 and out.startswith("sent "), err


@pytest.mark.parametrize("url", ["postgresql://gate_station:{pw}@127.0.0.1/screening",
                                 "postgresql://gate_station@127.0.0.1/screening?password={pw}",
                                 "postgresql+psycopg://gate_station:{pw}@district-db:5432/screening"])
def test_a_password_in_a_url_is_refused_on_the_command_line_and_in_the_config(url, tmp_path, capsys, monkeypatch):
    url = url.format(pw=PASSWORD)
    screen(tmp_path / "g.db", 1)
    code, _, err = run_gate(capsys, monkeypatch, "sync", "--once", "--upstream", url, "--db", tmp_path / "g.db")
    assert code == 2 and PASSWORD not in err and "PGPASSFILE" in err and "contains a password" in err
    cfg = tmp_path / "gate.toml"
    cfg.write_text(f'[upstream]\nurl = "{url}"\n', encoding="utf-8")
    for argv in (["sync", "--once"], ["sync", "verify"], ["purge", "--older-than", "30"], ["config", "check"]):
        argv = argv + ([str(cfg)] if argv[0] == "config" else ["--config", cfg, "--db", tmp_path / "g.db"])
        code, out, err = run_gate(capsys, monkeypatch, *argv)
        assert code == 2 and "upstream.url" in err and "contains a password" in err and PASSWORD not in err + out


def test_a_remote_upstream_needs_a_valid_certificate_unless_the_url_relaxes_it(pg, district, tmp_path, capsys,
                                                                                monkeypatch):
    monkeypatch.delenv("PGSSLMODE", raising=False)
    screen(tmp_path / "g.db", 1, "east")
    # the real server, reached by a name that is not this machine's (hostaddr carries the address)
    remote = f"postgresql://postgres@district-db:{pg.port}/screening?hostaddr=127.0.0.1"
    code, _, err = run_gate(capsys, monkeypatch, "sync", "--once", "--upstream", remote, "--db", tmp_path / "g.db",
                            "--user", "x")
    assert code in (1, 2)
    if code == 2:  # PINs: the unconfigured upstream needs an admin; there are no users here, so this is not it
        pytest.fail(err)
    assert "sslmode=verify-full" in err and "sslmode=require" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_gate(capsys, monkeypatch, "sync", "--once", "--upstream", remote + "&sslmode=disable",
                              "--db", tmp_path / "g.db")
    assert code == 0 and out.startswith("sent "), err


@pytest.mark.parametrize("url, mode", [
    ("postgresql://gate@district-db/screening", "verify-full"),
    ("postgresql://gate@10.1.2.3:5432/screening", "verify-full"),
    ("postgresql://gate@district-db/screening?sslmode=require", None),
    ("postgresql://gate@localhost/screening", None),
    ("postgresql://gate@127.0.0.1:5433/screening", None),
    ("postgresql://gate@[::1]/screening", None),
    ("postgresql://gate@/screening?host=/var/run/postgresql", None),
    ("postgresql://gate@localhost/screening?host=district-db", "verify-full"),
    ("sqlite:///district.db", None),
])
def test_which_upstreams_get_verify_full(url, mode, monkeypatch):
    monkeypatch.delenv("PGSSLMODE", raising=False)
    assert sslmode(url) == mode


@given(st.text(max_size=60), st.from_regex(r"[A-Za-z0-9]{10,16}", fullmatch=True))
@settings(max_examples=200, deadline=None)
def test_any_url_is_accepted_or_refused_in_words_and_a_password_is_never_repeated(junk, password):
    for url in (junk, junk + password):  # whatever is typed: accepted as it is, or refused with a reason
        try:
            assert check(url) == url
        except UpstreamUrlError as exc:
            assert str(exc)
    for url in (f"postgresql://gate:{password}@h/db", f"postgresql://gate@h/db?password={password}",
                f"postgresql://gate:{password}@{junk}/db"):
        try:
            check(url)
        except UpstreamUrlError as exc:
            assert password not in str(exc)
        else:
            pytest.fail(f"accepted {url!r}")
