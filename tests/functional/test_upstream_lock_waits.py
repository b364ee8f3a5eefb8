"""How long the upstream's users wait for a table another session holds is a setting: `[upstream] lock_wait_s` and
`make_day_wait_s` in a station's config, `--lock-wait` on the bureau's and maintain's commands; the old fixed values
are the defaults, a bad value is one line, and the value set is the one waited (real PostgreSQL)."""
import datetime as dt

import psycopg
import pytest

from gate.config import Config
from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate
from tests.pg import unavailable_reason
from tests.support import run_gate

D = DAY.isoformat()


def test_the_defaults_are_the_waits_of_before_and_every_bound_agrees():
    import msgspec

    from gate.cli import bureau as bureau_cli, common
    from storage import partitions, upstream_locks as locks

    cfg = Config()
    assert (cfg.upstream_lock_wait_s, cfg.upstream_make_day_wait_s) == (locks.SYNC_WAIT_S, locks.MAKE_DAY_WAIT_S)
    assert (locks.SYNC_WAIT_S, locks.MAINTAIN_WAIT_S, locks.MAKE_DAY_WAIT_S) == (10.0, 5.0, 2.0)
    assert bureau_cli.SYNC_WAIT_S == locks.SYNC_WAIT_S and partitions.MAKE_DAY_WAIT_S == locks.MAKE_DAY_WAIT_S
    assert common.LOCK_WAIT_S == locks.WAIT_RANGE_S
    for name in ("upstream_lock_wait_s", "upstream_make_day_wait_s"):
        (meta,) = [m for m in Config.__annotations__[name].__metadata__ if isinstance(m, msgspec.Meta) and m.ge]
        assert (meta.ge, meta.le) == locks.WAIT_RANGE_S
    from gate.cli import parse

    assert parse(["upstream", "maintain", "--upstream", "sqlite:///x.db"]).lock_wait == locks.MAINTAIN_WAIT_S
    assert parse(["bureau", "app", "--upstream", "sqlite:///x.db"]).lock_wait == locks.SYNC_WAIT_S
    assert parse(["bureau", "export", "--upstream", "sqlite:///x.db", "--from", D, "--to", D,
                  "--out", "x"]).lock_wait == locks.SYNC_WAIT_S


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "0.1", "601", "ten", "1e999"])
def test_a_lock_wait_typed_wrong_is_one_line(bad, tmp_path):
    for argv in (["bureau", "daily"], ["bureau", "late"], ["bureau", "app"], ["bureau", "serve"],
                 ["upstream", "maintain"]):
        done = run_gate(*argv, "--upstream", f"sqlite:///{tmp_path / 'up.db'}", "--lock-wait", bad)
        assert done.returncode == 2 and "give 0.5 to 600 seconds" in done.stderr, (argv, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "up.db").exists()


@pytest.mark.parametrize("key, bad, says", [("lock_wait_s", "0", "is 0; allowed: 0.5–600.0"),
                                            ("lock_wait_s", "nan", "must be a finite number"),
                                            ("make_day_wait_s", "-inf", "must be a finite number"),
                                            ("make_day_wait_s", '"2"', "must be a number"),
                                            ("lock_wait_s", "601", "allowed: 0.5–600.0")])
def test_a_lock_wait_set_wrong_in_the_config_is_refused_naming_the_setting(key, bad, says, tmp_path):
    cfg = tmp_path / "g.toml"
    cfg.write_text(f'[station]\nid = "g"\ndb = "{tmp_path / "g.db"}"\n[upstream]\nurl = "sqlite:///{tmp_path}/u.db"\n'
                   f"{key} = {bad}\n", encoding="utf-8")
    done = run_gate("sync", "--once", "--config", cfg)
    assert done.returncode == 2 and f"`upstream.{key}`" in done.stderr and says in done.stderr, done.stderr
    assert not (tmp_path / "u.db").exists()  # nothing reached the upstream


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_the_wait_set_is_the_wait_waited(pg, tmp_path):
    url = pg.create_db("lock_waits")
    west = make_gate(tmp_path, "w1", "S-W", "西校", url)
    west.screen_at(at(DAY, 7, 30), "W1")
    assert run_gate("sync", "--once", "--config", west.cfg).returncode == 0
    west.cfg.write_text(west.cfg.read_text(encoding="utf-8") + "lock_wait_s = 0.5\nmake_day_wait_s = 0.5\n",
                        encoding="utf-8")
    west.screen_at(at(DAY, 7, 31), "W2")
    owner = psycopg.connect(url)
    try:
        owner.execute("LOCK TABLE screenings IN ACCESS EXCLUSIVE MODE")  # a long job of the owner's, say
        for argv, who in ((["sync", "--once", "--config", west.cfg], "upstream"),
                          (["upstream", "maintain", "--upstream", url, "--lock-wait", "0.5"], "maintain"),
                          (["bureau", "export", "--upstream", url, "--from", D, "--to", D, "--out", tmp_path / "x",
                            "--key", tmp_path / "k", "--lock-wait", "0.5"], "bureau")):
            done = run_gate(*argv)
            line = done.stderr.strip()
            assert done.returncode == 1 and len(line.splitlines()) == 1, (argv, done.stderr)
            assert "held by another session" in line and "waited 0.5 s" in line and who in line, line
    finally:
        owner.rollback()
    later = DAY + dt.timedelta(days=1)
    west.screen_at(at(later, 7, 30), "W3")
    try:
        owner.execute("LOCK TABLE screenings IN SHARE UPDATE EXCLUSIVE MODE")  # another day maker at work
        done = run_gate("sync", "--once", "--config", west.cfg)
        assert done.returncode == 0 and f"no day partition upstream for {later.isoformat()}" in done.stderr
    finally:
        owner.rollback()
        owner.close()
    with psycopg.connect(url) as conn:
        assert {r[0] for r in conn.execute("SELECT entrant_id FROM screenings")} == {"W1", "W2", "W3"}
