"""One small school yesterday for the school-day attacks: a class roster, users with PINs, a station on an injected
clock for the setup, and the cases that the real clock's next `gate followup list` closes out (yesterday is within
the 7 days the station looks back, and every check of yesterday has ended)."""
import datetime
import functools
import json
import time
from pathlib import Path

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, log_from_template

ROSTER = ("id,name,class,kind\nS0,甲,三年级二班,pupil\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\n"
          "S3,王五,三年级二班,pupil\nS4,赵六,三年级三班,pupil\nS5,钱七,三年级三班,pupil\nT1,王老师,教务处,staff\n")
PIN = {"admin": "900001", "chen": "754026", "doc": "645913", "zhang": "318274"}
YES = MaskResult(MaskState.YES)


def yesterday() -> datetime.date:
    return datetime.date.today() - datetime.timedelta(days=1)


def at(h, m, s=0, day=None):
    d = day or yesterday()
    return time.mktime((d.year, d.month, d.day, h, m, s, 0, 0, -1))


def school(gate, db, users=True):
    """S0 seen yesterday morning, everyone else away: their absence cases open at the next follow-up list. Made once a
    run (the users' PIN hashes are slow on purpose) and copied: every test gets its own log."""
    log_from_template(Path(db), functools.partial(_school, users), key=f"school-day {yesterday()} users={users}")


def _school(users, db):
    from tests.functional.attacks.conftest import Gate

    gate = Gate(db.parent / "home")  # the template's own, as a new gate's
    with ScreeningLog(db) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        Station(Config(), log, language="en", clock=Clock(at(7, 0))).screen(
            [Reading(object_c=36.6, source="manual")], YES, entrant_id="S0")
    if users:
        assert gate("users", "add", "admin", "--role", "admin", "--db", db, "--pin-stdin",
                    stdin=b"900001\n").returncode == 0
        for name, role, extra in (("chen", "teacher", ("--classes", "三年级二班")), ("doc", "health", ()),
                                  ("zhang", "duty", ())):
            r = gate("users", "add", name, "--role", role, *extra, "--db", db, "--user", "admin", "--pin-stdin",
                     stdin=f"900001\n{PIN[name]}\n".encode())
            assert r.returncode == 0, r.stderr.decode()


def confirmed_fever(gate, db):
    """The small school, and S1 at 38.5 then 38.4 ten minutes later yesterday morning: a confirmed fever."""
    school(gate, db)
    clock = Clock(at(7, 30))
    with ScreeningLog(db) as log:
        station = Station(Config(), log, language="en", clock=clock)
        station.screen([Reading(object_c=38.5, source="manual")], YES, entrant_id="S1")
        clock.advance(600)
        return station.screen([Reading(object_c=38.4, source="manual")], YES, entrant_id="S1")


def signed(gate, db, who, *args):
    if who is None:
        return gate(*args, "--db", db)
    return gate(*args, "--db", db, "--user", who, "--pin-stdin", stdin=(PIN[who] + "\n").encode())


def cases(gate, db, who="doc"):
    r = signed(gate, db, who, "followup", "list", "--json")
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def case_of(gate, db, entrant, who="doc"):
    return next(c["case"] for c in cases(gate, db, who) if c["entrant_id"] == entrant and c["state"] == "open")
