"""`gate upstream maintain` (day partitions ahead, retention) and `gate upstream school add|list` (the schools a
bureau expects reports from). Run by the upstream database's owner, not by a station."""
from __future__ import annotations

import argparse
import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from domain.errors import Refused, UpstreamFailure, UsageError
from gate.cli.common import actions, ident, json_option, lock_wait_option, positive_int, upstream_option, words
from gate.cli.days import day

MAINTAIN = """
gate upstream maintain --upstream postgresql://owner@district-db/screening
gate upstream maintain --upstream postgresql://owner@district-db/screening --ahead 30 --keep-days 400 --json
"""
SCHOOL_ADD = """
gate upstream school add S-0101 --name "Hongqi Primary School" --stations 2 --upstream postgresql://owner@db/screening
gate upstream school add S-0101 --name "Hongqi Primary School" --stations 3 --replace --upstream postgresql://owner@db/s
"""
SCHOOL_LIST = """
gate upstream school list --upstream postgresql://owner@district-db/screening --json
"""


URL = "the upstream database, e.g. postgresql://owner@district-db/screening"


def add_upstream(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    m = add("maintain", "Create the coming days' screening partitions and move stray rows out of the default one; "
                        "with --keep-days, detach the days past retention (kept as tables, to archive and drop).",
            MAINTAIN, maintain)
    upstream_option(m, URL)
    m.add_argument("--ahead", type=int, default=14, metavar="DAYS", help="days ahead to create (default 14)")
    m.add_argument("--keep-days", type=positive_int, metavar="DAYS", help="detach day partitions older than this")
    m.add_argument("--today", type=day, metavar="YYYY-MM-DD", help="the day to count from (default: today)")
    lock_wait_option(m, 5.0, "maintain (every sync queues behind its request meanwhile)")  # locks.MAINTAIN_WAIT_S
    json_option(m)
    schools = add("school", "The schools the bureau expects daily reports from.", SCHOOL_ADD + SCHOOL_LIST)
    sub = actions(schools)
    a = sub("add", "Declare a school (or change its name / expected stations): a declared school that sends "
                   "nothing shows as late.", SCHOOL_ADD, school_add)
    a.add_argument("school", type=ident("school id"), metavar="SCHOOL_ID")
    a.add_argument("--name", type=words("school name"), required=True)
    a.add_argument("--stations", type=positive_int, default=1, help="gate stations expected to report (default 1)")
    a.add_argument("--replace", action="store_true",
                   help="change the name or expected stations of a school declared already (refused without it)")
    upstream_option(a, URL)
    li = sub("list", "The declared and registered schools with their stations.", SCHOOL_LIST, school_list)
    upstream_option(li, URL)
    json_option(li)


def engine_for(url: str, lock_wait_s: float | None = None):
    """The upstream engine, schema brought to the current version (the owner runs these commands)."""
    from storage import upstream as up

    from storage import upstream_locks as locks

    engine = None
    try:
        engine = up.make_upstream_engine(url, lock_wait_s=lock_wait_s)
        up.upgrade(engine)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        if engine is not None and locks.is_lock_timeout(exc):  # another migration, or a read of a table it changes
            raise UpstreamFailure(up.migration_busy(engine, lock_wait_s or 0,
                                                    "nothing changed: run the command again later")) from None
        raise UpstreamFailure(f"upstream {up.safe_url(url)} unreachable: {' '.join(str(exc).split())[:200]}") from None
    return engine


def maintain(args: argparse.Namespace) -> None:
    from storage import partitions, upstream_locks as locks

    real = dt.date.fromtimestamp(args.clock())
    today = dt.date.fromisoformat(args.today) if args.today else real
    if today > real:  # a mistyped year would detach every real day (and the syncs fail on their names)
        raise UsageError(f"--today {today} is after today ({real}): give a day up to today, or leave --today out")
    if not 0 <= args.ahead <= 366:
        raise UsageError("--ahead must be 0 to 366 days")
    engine = engine_for(args.upstream, args.lock_wait)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise UsageError("day partitions exist on PostgreSQL only: an SQLite upstream needs no maintenance")
    try:
        done = partitions.maintain(engine, today, args.ahead, args.keep_days, real_today=real)
    except SQLAlchemyError as exc:
        if locks.is_lock_timeout(exc):  # waiting longer would queue every school's sync behind this request
            raise UpstreamFailure(locks.busy(engine, "maintain", args.lock_wait, "the days made so far stay, "
                                             "nothing else changed: run gate upstream maintain again later")
                                  ) from None
        raise UpstreamFailure(f"maintain: {' '.join(str(exc).split())[:300]}") from None
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(done.__dict__))
    else:
        _said(done)
    if done.skipped:  # exit 1: cron mails the line; the next run does what was skipped
        raise UpstreamFailure(_skipped(done, args.lock_wait))


def _skipped(done, wait_s: float) -> str:  # noqa: ANN001 - a partitions.Maintenance
    from storage.upstream_locks import first_pid

    steps = done.skipped
    shown = steps[0] if len(steps) == 1 else f"{steps[0]} … {steps[-1]}"
    ends = f"; or the database's owner ends it: SELECT pg_terminate_backend({first_pid(done.held_by)})" \
        if done.held_by else ""
    return (f"maintain: skipped {len(steps)} step(s) ({shown}), the rest done: {done.held or 'a table'} is held by "
            f"another session ({done.held_by or 'gone since'}), waited {wait_s:g} s: run gate upstream maintain "
            f"again later (the next run does them){ends}")


def _said(done) -> None:  # noqa: ANN001 - a partitions.Maintenance
    from storage import partitions

    print(f"created {len(done.created)} day partition(s), moved {done.moved_from_default} row(s) out of the default "
          f"one, detached {len(done.detached)}; {done.partitions} attached")
    for name in done.reattached:
        print(f"reattached {name}: a day kept had been detached (its table was there); its rows are read again")
    for name in done.detached:
        print(f"detached {name}: archive it (pg_dump -t {name}) and DROP TABLE it when the archive is safe")
    if far := done.left_in_default:
        print(f"left {far['rows']} row(s) of {far['days']} day(s) from {far['first']} to {far['last']} in the default "
              f"partition: more than {partitions.BACK} days before today or {partitions.AHEAD} after, a station's "
              "clock or a forged row; see gate sync verify at the station that sent them")


def school_add(args: argparse.Namespace) -> None:
    from storage.upstream import schools

    engine = engine_for(args.upstream)
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(schools)
    values = {"school_id": args.school, "name": args.name, "expected_stations": args.stations}
    try:
        with engine.begin() as conn:
            was = conn.execute(select(schools.c.name, schools.c.expected_stations)
                               .where(schools.c.school_id == args.school)).first()
            changes = _changes(was, args)
            if changes and not args.replace:
                # a tired clerk's wrong id must not rewrite another school
                raise UsageError(f"school {args.school} is {was.name or '(no name yet)'} already, "
                                 f"{was.expected_stations or '?'} station(s) expected: nothing changed. Check the id, "
                                 f"or give --replace to change it ({'; '.join(changes)})")
            conn.execute(insert.values(**values, created_at=args.clock())
                         .on_conflict_do_update(index_elements=["school_id"], set_=values))
    except SQLAlchemyError as exc:
        if "permission denied" in str(exc) or "InsufficientPrivilege" in type(exc.orig).__name__:
            raise Refused(f"this role may not declare schools at {_safe(args.upstream)}: the database's "
                                  f"owner does (gate upstream school add --upstream postgresql://owner@...)") from None
        raise UpstreamFailure(f"school add: {' '.join(str(exc).split())[:300]}") from None
    finally:
        engine.dispose()
    print(f"school {args.school} ({args.name}): {args.stations} station(s) expected"
          + (f" (replaced: {'; '.join(changes)})" if changes else ""))


def _changes(was, args: argparse.Namespace) -> list[str]:
    """What declaring ``args`` over the school ``was`` would change (a station's registration only names it)."""
    if was is None:
        return []
    changes = []
    if was.name and was.name != args.name:
        changes.append(f"name {was.name} → {args.name}")
    if was.expected_stations is not None and was.expected_stations != args.stations:
        changes.append(f"expected stations {was.expected_stations} → {args.stations}")
    return changes


def _safe(url: str) -> str:
    from storage import upstream as up

    return up.safe_url(url)


def school_list(args: argparse.Namespace) -> None:
    from storage.upstream import schools, stations

    engine = engine_for(args.upstream)
    with engine.connect() as conn:
        rows = conn.execute(select(schools).order_by(schools.c.school_id)).mappings().all()
        gates = conn.execute(select(stations.c.school_id, stations.c.station_id, stations.c.last_sync_at)
                             .order_by(stations.c.station_id)).all()
    engine.dispose()
    out = [{"school_id": r["school_id"], "name": r["name"], "expected_stations": r["expected_stations"],
            "stations": [s for sc, s, _ in gates if sc == r["school_id"]]} for r in rows]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    for s in out:
        expected = s["expected_stations"] if s["expected_stations"] is not None else "?"
        print(f"{s['school_id']}  {s['name']}  stations {len(s['stations'])}/{expected}: {', '.join(s['stations'])}")


COMMANDS = {"upstream": add_upstream}
