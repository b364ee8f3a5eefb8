"""`gate bureau`: the education bureau's view of the upstream, read-only. `daily` (one row per school), `late` (the
schools with no daily report past the cutoff; exit 1, for a cron mail), `app` (the Textual app, the default action),
`serve` (the same app in a browser), `export` (a district export for auditors)."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import time

from domain.errors import CheckFailed
from gate.cli.common import actions, day

DAILY = """
gate bureau daily --upstream postgresql://bureau@district-db/screening
gate bureau daily --upstream postgresql://bureau@district-db/screening --date 2026-11-28 --csv > 2026-11-28.csv
"""
LATE = """
gate bureau late --upstream postgresql://bureau@district-db/screening            # cron at 09:05: exit 1 = mail
gate bureau late --upstream postgresql://bureau@district-db/screening --at 08:45
"""
APP = """
gate bureau --upstream postgresql://bureau@district-db/screening
gate bureau app --upstream postgresql://bureau@district-db/screening --date 2026-11-28 --cutoff 08:30
"""
COLUMNS = ("school_id", "name", "expected_stations", "stations_reported", "last_sync", "screened", "confirmed_fevers",
           "no_mask_refusals", "unscreened", "open_cases", "clusters", "zero_report", "late")


def hhmm(text: str) -> dt.time:
    """An HH:MM time of day (argument type)."""
    try:
        if len(text) != 5:
            raise ValueError
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day: use HH:MM, e.g. 09:00") from None


def upstream_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--upstream", metavar="URL", required=True,
                   help="the district database, read with the bureau's read-only role, e.g. "
                        "postgresql://bureau@district-db/screening (password from PGPASSFILE or ~/.pgpass)")


def add_bureau(p: argparse.ArgumentParser) -> None:
    add = actions(p, default="app")
    d = add("daily", "One row per school for a day: expected stations, stations reported, last sync, screened, "
                     "confirmed fevers, no-mask refusals, unscreened, open cases, clusters, zero report, late. "
                     "A figure a school did not send shows as not reported (empty in CSV, null in JSON).",
            DAILY, daily)
    upstream_option(d)
    d.add_argument("--date", type=day, metavar="YYYY-MM-DD", help="the day (default: today)")
    d.add_argument("--cutoff", type=hhmm, default=dt.time(9, 0), metavar="HH:MM",
                   help="a school with no daily report by then is late (default 09:00)")
    fmt = d.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON list of schools")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    la = add("late", "The schools that have not sent today's daily report (日报告) by the cutoff; exit 1 when there "
                     "is one, so a cron job can mail the list.", LATE, late)
    upstream_option(la)
    la.add_argument("--at", type=hhmm, default=dt.time(9, 0), metavar="HH:MM",
                    help="the cutoff: reports are due by then (default 09:00)")
    la.add_argument("--date", type=day, metavar="YYYY-MM-DD", help="the day (default: today)")
    la.add_argument("--json", action="store_true", help="one JSON list")
    a = add("app", "The bureau's screen: the table of schools for a day, sorting, filtering, a school's gates, "
                   "sessions and cases, a day picker, a 7-day trend; refreshes by itself.", APP, app)
    upstream_option(a)
    a.add_argument("--date", type=day, metavar="YYYY-MM-DD", help="the day shown first (default: today)")
    a.add_argument("--cutoff", type=hhmm, default=dt.time(9, 0), metavar="HH:MM", help="late after (default 09:00)")
    a.add_argument("--refresh", type=float, default=30.0, metavar="SECONDS", help="refresh every (default 30)")


def _day(args: argparse.Namespace) -> dt.date:
    return dt.date.fromisoformat(args.date) if args.date else dt.date.today()


def _shown(key: str, value) -> str:
    if value is None:
        return "not reported" if key != "last_sync" else "never"
    if key in ("last_sync", "reported_at"):
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def daily(args: argparse.Namespace) -> None:
    from storage import bureau

    engine = bureau.reader(args.upstream)
    try:
        rows = bureau.schools_on(engine, _day(args), time.time(), args.cutoff)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False))
        return
    if args.csv:
        out = csv.writer(sys.stdout)
        out.writerow(COLUMNS)
        for r in rows:
            d = r.to_dict()
            out.writerow(["" if d[c] is None else _shown(c, d[c]) for c in COLUMNS])
        return
    print(f"{_day(args)}: {len(rows)} school(s), {sum(r.late for r in rows)} late")
    for r in rows:
        d = r.to_dict()
        print("  ".join(f"{c}={_shown(c, d[c])}" for c in COLUMNS))


def late(args: argparse.Namespace) -> None:
    from storage import bureau

    engine = bureau.reader(args.upstream)
    try:
        rows = bureau.late(engine, _day(args), time.time(), args.at)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['school_id']}  {r['name']}  last sync {_shown('last_sync', r['last_sync'])}")
    if rows:
        raise CheckFailed(f"{len(rows)} school(s) without a daily report for {_day(args)} by {args.at:%H:%M}")


def app(args: argparse.Namespace) -> None:
    from gate.ui.bureau import run_bureau

    run_bureau(args.upstream, _day(args), args.cutoff, args.refresh)


COMMANDS = {"bureau": add_bureau}
