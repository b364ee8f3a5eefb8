"""Two gates of one school and a gate of another school on one real PostgreSQL upstream, and the ways an attacker
forges case events upward: shared by the attacks on issue 15's one case list (attacker a15)."""
import time

import pytest

from tests.functional.test_school_cases import PIN, Gate, at, morning_synced
from tests.support import Clock, env_with_root, run_gate


@pytest.fixture
def school(tmp_path, pg):
    """north keeps the absence cases; south is the school's other gate; other is a gate of school-99 on the same
    upstream with the same pupil ids."""
    url = pg.create_db("a15_school_cases", migrated=True)
    clock = Clock(at(7, 42))
    north = Gate(tmp_path, "north", url, clock)
    south = Gate(tmp_path, "south", url, clock, absence="off")
    other = Gate(tmp_path, "other", url, clock, absence="off", school="school-99")
    return north, south, other, clock, url


def registered_pair(tmp_path, pg, name, south_absence):
    """north keeping the school's absence cases and south on a fresh upstream, both registered; P42 seen at north."""
    url = pg.create_db(name, migrated=True)
    clock = Clock(at(7, 42))
    north = Gate(tmp_path, "north", url, clock, absence="school")
    south = Gate(tmp_path, "south", url, clock, absence=south_absence)
    north.sync()
    south.sync()
    north.screen(36.6, "P42")
    return north, south, clock, url


def closed_at_south(north, south, clock):
    """The morning synced; the school doctor at south closes north's case of P7: sick leave with a fever."""
    morning_synced(north, south, clock)
    p7 = north.case("P7")
    r = south.gate("followup", "close", p7.short_id, "--outcome", "sick-leave", "--symptoms", "fever", who="doc")
    assert r.returncode == 0, r.stderr
    return p7


def insert_upstream(url, row, user=None, table="cases"):
    """A row written straight into the upstream's `table`, as the superuser or as `user` (a station's own role)."""
    import sqlalchemy as sa
    from storage import upstream as up
    from storage import upstream_schema as tables
    engine = (up.make_upstream_engine(url) if user is None else
              sa.create_engine(url.replace("postgresql://postgres@", f"postgresql+psycopg://{user}@")))
    try:
        with engine.begin() as conn:
            conn.execute(getattr(tables, table).insert().values(**row))
    finally:
        engine.dispose()


def station_role(url, name, school_id="school-12"):
    """A station's own role upstream, as the README's grants make it: insert-only, listed for its school."""
    import psycopg
    name = f"{name}_{url.rsplit('/', 1)[1]}"  # roles are the server's, shared by every database of the run
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in (f"CREATE ROLE {name} LOGIN PASSWORD 'change-me'", f"GRANT USAGE ON SCHEMA public TO {name}",
                    f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {name}",
                    f"INSERT INTO gate_role_schools (role_name, school_id) VALUES ('{name}', '{school_id}')"):
            conn.execute(sql)
    return f"{name}:change-me"


def forged_close(case, school_id, station_id, *, seq=1, cid="forged-1", outcome="false-alarm", note="",
                 symptoms="[]"):
    return dict(school_id=school_id, id=cid, station_id=station_id, seq=seq, case_id=case.case_id, event="close",
                entrant_id=case.entrant_id, class_name=case.class_name, day=case.day, session=case.session,
                reason="absent", screening_id=None, outcome=outcome, symptoms=symptoms, onset=None, note=note,
                by="x", role="teacher", at=at(10, 0), prev_hash="0" * 64, row_hash="0" * 64)


def faked(tmp_path, when, *args):
    """`gate ARGS` on a clock reading ``when`` ("2026-12-01 08:29:59"): the sync stamps it upstream, the report judges
    by it (gate.cli.main's clock, in this process)."""
    env = dict(env_with_root(), HOME=str(tmp_path / "home"), GATE_LOG_DIR=str(tmp_path / "home" / "log"))
    env.pop("FAKETIME", None)
    if args[0] == "sync":  # PINs are on at these gates: an admin signs in for the first sync
        args = (*args, "--user", "admin", "--pin-stdin")
    now = time.mktime(time.strptime(when, "%Y-%m-%d %H:%M:%S"))
    r = run_gate(*args, input=PIN["admin"] + "\n", env=env, text=False, clock=lambda: now)
    assert r.returncode == 0, r.stderr.decode()
    return r
