"""`gate bureau`: the education bureau's view of the upstream, read-only. `daily` (one row per school), `late` (the
schools with no daily report past the cutoff; exit 1, for a cron mail), `app` (the Textual app, the default action),
`serve` (the same app in a browser), `export` (a district export for auditors)."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from typing import Iterator

from domain.errors import CheckFailed, UpstreamFailure, UsageError
from gate.cli.common import actions, json_or_csv, lock_wait_option, seconds_between, upstream_option
from gate.cli.days import date_option, day

DAILY = """
gate bureau daily --upstream postgresql://bureau@district-db/screening
gate bureau daily --upstream postgresql://bureau@district-db/screening --date 2026-11-28 --csv > 2026-11-28.csv
"""
LATE = """
gate bureau late --upstream postgresql://bureau@district-db/screening            # cron at 09:05: exit 1 = mail
gate bureau late --upstream postgresql://bureau@district-db/screening --at 08:45
"""
SERVE = """
gate bureau serve --upstream postgresql://bureau@district-db/screening --port 8080
gate bureau serve --upstream postgresql://bureau@db/screening --host 0.0.0.0 --public-url https://bureau.edu.example
"""
EXPORT = """
gate bureau export --upstream postgresql://bureau@district-db/screening --from 2026-11-01 --to 2026-11-30 --out nov
gate bureau export --upstream postgresql://bureau@db/screening --from 2026-11-01 --to 2026-11-30 --format xlsx --out x
"""
VERIFY = """
gate bureau verify nov
gate bureau verify nov --key /etc/gate/bureau.key
"""
APP = """
gate bureau --upstream postgresql://bureau@district-db/screening
gate bureau app --upstream postgresql://bureau@district-db/screening --date 2026-11-28 --cutoff 08:30
"""
COLUMNS = ("school_id", "name", "expected_stations", "stations_reported", "last_sync", "screened", "confirmed_fevers",
           "no_mask_refusals", "unscreened", "open_cases", "clusters", "zero_report", "provisional", "late")


def hhmm(text: str) -> dt.time:
    """An HH:MM time of day (argument type)."""
    try:
        if len(text) != 5:
            raise ValueError
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day: use HH:MM, e.g. 09:00") from None


REFRESH_S = (5.0, 3600.0)  # below 5 s each open tab reloads the district for nothing; above an hour it is no refresh


refresh = seconds_between(*REFRESH_S, " (default 30)")  # seconds between the app's refreshes


SYNC_WAIT_S = 10.0  # storage.upstream_locks.SYNC_WAIT_S (not imported: it loads SQLAlchemy for --help too)
URL = "the district database, read with the bureau's read-only role, e.g. postgresql://bureau@district-db/screening"


def add_bureau(p: argparse.ArgumentParser) -> None:
    add = actions(p, default="app")
    d = add("daily", "One row per school for a day: expected stations, stations reported, last sync, screened, "
                     "confirmed fevers, no-mask refusals, unscreened, open cases, clusters, zero report, late. "
                     "A figure a school did not send shows as not reported (empty in CSV, null in JSON).",
            DAILY, daily)
    upstream_option(d, URL)
    date_option(d, "the day (default: today)", metavar="YYYY-MM-DD")
    d.add_argument("--cutoff", type=hhmm, default=dt.time(9, 0), metavar="HH:MM",
                   help="a school with no daily report by then is late (default 09:00)")
    lock_wait_option(d, SYNC_WAIT_S, "a read")
    json_or_csv(d, "one JSON list of schools", "CSV with a header row")
    la = add("late", "The schools that have not sent today's daily report (日报告) by the cutoff; exit 1 when there "
                     "is one, so a cron job can mail the list.", LATE, late)
    upstream_option(la, URL)
    la.add_argument("--at", type=hhmm, default=dt.time(9, 0), metavar="HH:MM",
                    help="the cutoff: reports are due by then (default 09:00)")
    date_option(la, "the day (default: today)", metavar="YYYY-MM-DD")
    la.add_argument("--json", action="store_true", help="one JSON list")
    lock_wait_option(la, SYNC_WAIT_S, "a read")
    a = add("app", "The bureau's screen: the table of schools for a day, sorting, filtering, a school's gates, "
                   "sessions and cases, a day picker, a 7-day trend; refreshes by itself.", APP, app)
    upstream_option(a, URL)
    date_option(a, "the day shown first (default: today)", metavar="YYYY-MM-DD")
    a.add_argument("--cutoff", type=hhmm, default=dt.time(9, 0), metavar="HH:MM", help="late after (default 09:00)")
    a.add_argument("--refresh", type=refresh, default=30.0, metavar="SECONDS",
                   help="refresh every (5 to 3600 s, default 30)")
    lock_wait_option(a, SYNC_WAIT_S, "a refresh")
    ex = add("export", "A district export for auditors: every school's screenings of a range of days, "
                       "pseudonymised, with a signed manifest (SHA-256, keyed digest and rows per file) as a "
                       "station's export has; recorded upstream.", EXPORT, export)
    upstream_option(ex, URL)
    ex.add_argument("--from", dest="date_from", type=day, required=True, metavar="YYYY-MM-DD")
    ex.add_argument("--to", dest="date_to", type=day, required=True, metavar="YYYY-MM-DD")
    ex.add_argument("--format", choices=("csv", "xlsx", "jsonl"), default="csv")
    ex.add_argument("--out", required=True, metavar="DIR", help="a new (or empty) folder")
    key_option(ex)
    lock_wait_option(ex, SYNC_WAIT_S, "the export")
    ve = add("verify", "Check a district export against its manifest and the bureau's key: a changed, added or "
                       "removed row is found even when the SHA-256 in the manifest was recomputed.", VERIFY, verify)
    ve.add_argument("folder", metavar="DIR")
    key_option(ve)
    sv = add("serve", "The same app in a browser (textual-serve): each browser tab runs its own read-only app. "
                      "It has no sign-in of its own: bind it to this machine (the default) or put it behind the "
                      "office's authenticating proxy.", SERVE, serve)
    upstream_option(sv, URL)
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    sv.add_argument("--public-url", metavar="URL", help="the address browsers use, when behind a proxy")
    date_option(sv, "the day shown first (default: today)", metavar="YYYY-MM-DD")
    sv.add_argument("--cutoff", type=hhmm, default=dt.time(9, 0), metavar="HH:MM", help="late after (default 09:00)")
    sv.add_argument("--refresh", type=refresh, default=30.0, metavar="SECONDS",
                    help="refresh every (5 to 3600 s, default 30)")
    lock_wait_option(sv, SYNC_WAIT_S, "each tab's refresh")


def _day(args: argparse.Namespace) -> dt.date:
    return dt.date.fromisoformat(args.date) if args.date else dt.date.fromtimestamp(args.clock())


def _shown(key: str, value) -> str:
    if value is None:
        return "not reported" if key != "last_sync" else "never"
    if key in ("last_sync", "reported_at"):
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@contextmanager
def _reading(args: argparse.Namespace, bounded: bool = True) -> Iterator:
    """The bureau's read-only engine on --upstream, and storage.bureau (its queries); disposed after use.
    ``bounded``: a read waits for a server that stopped answering at most the lock wait and a margin (a cron job
    that never ends never mails); an export's long reads are not cut so."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage import bureau
    from storage.bureau_access import said
    from storage.upstream import safe_url
    from storage.upstream_answer import for_reads

    engine = bureau.reader(args.upstream, lock_wait_s=args.lock_wait,
                           answer_within_s=for_reads(args.lock_wait) if bounded else None)
    try:
        yield engine, bureau
    except SQLAlchemyError as exc:  # a table held or not granted, the session ended, no answer: one line, exit 1
        line = said(exc, engine, safe_url(args.upstream), args.lock_wait,
                    "nothing was read to the end, nothing recorded: try again later")
        if line is None:
            raise
        raise bureau.BureauError(line) from None
    finally:
        engine.dispose()


def _sees_schools(engine) -> None:  # noqa: ANN001 - storage.bureau.reader's engine
    from storage.bureau_access import check_sees_schools

    with engine.connect() as conn:
        check_sees_schools(conn)


def daily(args: argparse.Namespace) -> None:
    with _reading(args) as (engine, bureau):
        rows = bureau.schools_on(engine, _day(args), args.clock(), args.cutoff)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False))
        return
    if args.csv:
        from storage.export import neutral  # the station export's one rule: this CSV is opened in a spreadsheet

        out = csv.writer(sys.stdout)
        out.writerow(COLUMNS)
        for r in rows:
            d = r.to_dict()
            out.writerow(["" if d[c] is None else neutral(_shown(c, d[c])) for c in COLUMNS])
        return
    print(f"{_day(args)}: {len(rows)} school(s), {sum(r.late for r in rows)} late")
    for r in rows:
        d = r.to_dict()
        print("  ".join(f"{c}={_shown(c, d[c])}" for c in COLUMNS))


def late(args: argparse.Namespace) -> None:
    with _reading(args) as (engine, bureau):
        rows = bureau.late(engine, _day(args), args.clock(), args.at)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['school_id']}  {r['name']}  last sync {_shown('last_sync', r['last_sync'])}")
    if rows:
        raise CheckFailed(f"{len(rows)} school(s) without a daily report for {_day(args)} by {args.at:%H:%M}")


def app(args: argparse.Namespace) -> None:
    from gate.ui.bureau import run_bureau

    run_bureau(args.upstream, _day(args), args.cutoff, args.refresh, args.lock_wait)


def key_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", metavar="FILE", help="the bureau's signing key (made, 0600, on first use; default: "
                                                 "bureau.key in the user's gate-station data folder)")


def key_path(args: argparse.Namespace):
    from pathlib import Path

    from platformdirs import user_data_dir

    return Path(args.key) if args.key else Path(user_data_dir("gate-station")) / "bureau.key"


def export(args: argparse.Namespace) -> None:
    import getpass

    from storage import district_export

    new = not os.path.lexists(args.out)
    try:
        with _reading(args, bounded=False) as (engine, _bureau):
            _sees_schools(engine)  # a role listed for no school would export nothing and call it the district
            manifest = district_export.export(engine, date_from=args.date_from, date_to=args.date_to,
                                              fmt=args.format, out_dir=args.out, key_path=key_path(args),
                                              actor=getpass.getuser(), now=args.clock())
    except UpstreamFailure:
        if new and os.path.isdir(args.out):  # the folder this run made holds an unfinished file, no manifest
            shutil.rmtree(args.out, ignore_errors=True)
        raise
    print(f"exported {manifest['rows']} screening(s) of {len(manifest['schools'])} school(s), pseudonymised, to "
          f"{args.out} (manifest signed with key {manifest['signature']['key_id']}; recorded upstream as "
          f"{manifest['export_id']})")


def verify(args: argparse.Namespace) -> None:
    from storage.district_export import bureau_key, key_there
    from storage.export_manifest import verify_export

    path = key_path(args)
    if not key_there(path):
        raise UsageError(f"no bureau key at {path}: give --key FILE (the key the export was signed with)")
    problems = verify_export(args.folder, bureau_key(path))
    for p in problems:
        print(p)
    if problems:
        raise CheckFailed(f"{args.folder}: {len(problems)} problem(s): the export is not as it was made")
    print(f"{args.folder}: ok, every file matches the signed manifest")


def serve(args: argparse.Namespace) -> None:
    import shlex

    # unreachable, frozen, the wrong schema, a table not granted, a role listed for no school: say so now, not in
    # every browser tab (the day's table read once, as each tab's first refresh will)
    with _reading(args) as (engine, bureau):
        bureau.schools_on(engine, _day(args), args.clock(), args.cutoff)
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: use 1 to 65535")
    _port_free(args.host, args.port)
    from textual_serve.server import Server

    # Each browser session runs this command (the URL carries no password: libpq reads PGPASSFILE / ~/.pgpass).
    command = " ".join(shlex.quote(a) for a in [
        sys.executable, "-m", "gate.cli", "bureau", "app", "--upstream", args.upstream,
        "--cutoff", f"{args.cutoff:%H:%M}", "--refresh", str(args.refresh), "--lock-wait", str(args.lock_wait),
        *(["--date", args.date] if args.date else [])])
    Server(command, host=args.host, port=args.port, title="教育局 · Education bureau",
           public_url=args.public_url).serve()


def _port_free(host: str, port: int) -> None:
    """Refuse a port something else holds before saying "Serving" (a bind test, released at once)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UsageError(f"--host {host}: {exc.strerror or exc}: give an address of this machine") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            raise CheckFailed(f"port {port} on {host} is already in use ({exc.strerror}): stop what holds it or "
                                  f"give another --port") from None


COMMANDS = {"bureau": add_bureau}
