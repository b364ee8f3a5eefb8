"""What the bureau's second-round attacks (issue 16) share: two schools on a real PostgreSQL, gates made in a
temporary folder, the README's station role for a gate, SQL run as a role."""
from __future__ import annotations

import datetime as dt
import re
import time

import psycopg
import pytest

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import load_config
from gate.station import Station
from storage.log import ScreeningLog
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.support import ROOT, Clock, log_from_template, run_gate

# The Monday of last week, counted from the day the module loaded: every check of it has ended, and it stays
# within the days the upstream files out of its default partition (storage.partitions.BACK) in any year the suite
# runs (a fixed date stopped working 400 days after it).
TODAY = dt.date.today()
DAY = TODAY - dt.timedelta(days=TODAY.weekday() + 7)


def at(day: dt.date, h: int, m: int, s: int = 0) -> float:
    return time.mktime((day.year, day.month, day.day, h, m, s, 0, 0, -1))


def readme_sql(marker: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    return re.search(r"```sql\n(.*?)```", block, re.S).group(1)


def station_role(owner_url: str, role: str, school: str, station: str | None = None) -> str:
    """The README's lines for a station's role, run as written with the role, database and school named (and, with
    ``station``, bound to that gate); returns the role's URL (the test server trusts local logins)."""
    db = owner_url.rsplit("/", 1)[1]
    sql = readme_sql("upstream-grants").replace("gate_station", role).replace("DATABASE screening", f"DATABASE {db}")
    sql = sql.replace("'north'", f"'{school}'")
    with psycopg.connect(owner_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            sql = sql.split(";", 1)[1]  # the role exists on this server already
        conn.execute(sql)
        if station:
            conn.execute("UPDATE gate_role_schools SET station_id = %s WHERE role_name = %s", (station, role))
    return owner_url.replace("postgres@", f"{role}@", 1)


def bureau_role(owner_url: str, role: str) -> str:
    """The README's lines for the bureau's read-only role, run with the role and database named; its URL."""
    db = owner_url.rsplit("/", 1)[1]
    sql = readme_sql("bureau-grants").replace("gate_bureau", role).replace("DATABASE screening", f"DATABASE {db}")
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(sql)
    return owner_url.replace("postgres@", f"{role}@", 1)


class Gate:
    def __init__(self, cfg, db):
        self.cfg, self.db = cfg, db

    @property
    def upstream(self) -> str:
        """The URL in its config: the role it syncs as."""
        return self.cfg.read_text(encoding="utf-8").split('url = "')[1].split('"')[0]

    def screen_at(self, when: float, entrant: str, temp: float = 36.5, mask=MaskState.YES):
        with ScreeningLog(self.db) as log:
            return Station(load_config(self.cfg), log, clock=Clock(when)).screen(
                [Reading(object_c=temp, source="manual", operator="li", device_id="clinical-1")],
                MaskResult(mask), entrant_id=entrant)


def make_gate(tmp_path, station, school, name, url, roster: str | None = None) -> Gate:
    cfg, db = tmp_path / f"{station}.toml", tmp_path / f"{station}.db"
    cfg.write_text(f'[station]\nid = "{station}"\ndb = "{db}"\n[school]\nid = "{school}"\nname = "{name}"\n'
                   f'[upstream]\nurl = "{url}"\n', encoding="utf-8")
    if roster:
        (tmp_path / f"{station}.csv").write_text(roster, encoding="utf-8")
        done = run_gate("roster", "import", tmp_path / f"{station}.csv", "--config", cfg)
        assert done.returncode == 0, done.stderr
    return Gate(cfg, db)


def north_fever(pg, tmp_path, name: str):
    """Two gates of school S-N on a fresh upstream: south (s1) screened Q0 at 07:00, then north (n1) confirmed P1's
    fever (38.5 then 38.6 at 07:30); nothing synced yet. (url, north, south)."""
    url = pg.create_db(name, migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    s1 = make_gate(tmp_path, "s1", "S-N", "北校", url)
    s1.screen_at(at(DAY, 7, 0), "Q0")
    n1.screen_at(at(DAY, 7, 30), "P1", temp=38.5)
    n1.screen_at(at(DAY, 7, 31), "P1", temp=38.6)
    return url, n1, s1


def many(gate, days, per_day):
    """``per_day`` screenings at ``gate`` on each of ``days`` (from 07:00, a second apart), each the station's own."""
    with ScreeningLog(gate.db) as log:
        cfg = load_config(gate.cfg)
        for day in days:
            clock = Clock(at(day, 7, 0))
            station = Station(cfg, log, clock=clock)
            for i in range(per_day):
                clock.advance(1)
                station.screen([Reading(object_c=36.5, source="manual", operator="li", device_id="c1")],
                               MaskResult(MaskState.YES), entrant_id=f"K{day:%d}{i}")


def backlog(gate: Gate, per_day: int) -> Gate:
    """``gate``'s log holding ``many(gate, [DAY], per_day)``, never synced: screened once a run for its gate and
    school and copied (thousands of screenings one by one take seconds, and each test still gets its own file)."""
    cfg = gate.cfg.read_text(encoding="utf-8").split("[upstream]")[0]  # its gate and school: what the rows hold
    same = "".join(line for line in cfg.splitlines(keepends=True) if not line.startswith("db = "))

    def build(db):
        many(Gate(gate.cfg, db), [DAY], per_day)

    log_from_template(gate.db, build, key=f"bureau backlog {DAY} {per_day} {same}")
    return gate


def west_synced(pg, tmp_path, name: str) -> tuple[str, Gate]:
    """A new upstream database ``name`` (its schema made by the owner's role, copied from a database migrated once)
    to which gate w1 of school S-W, syncing as the owner, sent one screening of DAY (W1): the upstream's URL and the
    gate."""
    url = pg.create_db(name, migrated=True)
    west = make_gate(tmp_path, "w1", "S-W", "西校", url)
    west.screen_at(at(DAY, 7, 30), "W1")
    assert run_gate("sync", "--once", "--config", west.cfg).returncode == 0
    return url, west


def sql_as(url: str, sql: str, params=()):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


@pytest.fixture(scope="module")
def province(pg, tmp_path_factory):
    """Two schools synced under the owner: north (gate n1, bound role) and west (gate w1); a district export made by
    the bureau's owner-side for west; returns (owner url, north's role url, west's role url)."""
    work = tmp_path_factory.mktemp("a16roles")
    url = pg.create_db("a16_roles", migrated=True)
    n1 = make_gate(work, "n1", "S-N", "北校", url)
    w1 = make_gate(work, "w1", "S-W", "西校", url)
    n1.screen_at(at(DAY, 7, 30), "N1")
    w1.screen_at(at(DAY, 7, 31), "W1")
    for gate in (n1, w1):
        assert run_gate("report", "daily", "--config", gate.cfg, "--date", DAY.isoformat(),
                        clock=Clock(at(DAY, 15, 0))).returncode == 0
        assert run_gate("sync", "--once", "--config", gate.cfg).returncode == 0
    owner_sql(url, "INSERT INTO bureau_exports VALUES ('S-W', 'e0000000-0000-0000-0000-00000000000w', "
                   f"'{DAY}', '{DAY}', 1, 'csv', 'ab', 'bureau', 0)")
    north = station_role(url, "a16_north", "S-N", station="n1")
    west = station_role(url, "a16_west", "S-W")
    return url, north, west
