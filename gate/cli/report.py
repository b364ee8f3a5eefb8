"""`gate report daily` (the day's report for the bureau, stored and synced) and `gate report unscreened`."""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time

from gate.cli.common import actions, day, load_config, open_log, sign_in, signin_options, station_options
from storage import reports
from storage.log import local_day
from storage.roster import unscreened as unscreened_people

DAILY = """
gate report daily
gate report daily --date 2026-11-28 --json
gate report daily --csv > 2026-11-28.csv
"""
UNSCREENED = """
gate report unscreened --date 2026-11-28
"""


def add_report(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    d = add("daily", "The day's report: screened, admitted, denied by reason, retests and their outcomes, confirmed "
                     "fevers, unscreened roster members and zero_report. It is stored and queued for the upstream.",
            DAILY, daily)
    station_options(d)
    d.add_argument("--date", type=day, help="YYYY-MM-DD (default: today)")
    fmt = d.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object")
    fmt.add_argument("--csv", action="store_true", help="field,value rows")
    u = add("unscreened", "Who on the roster has no screening on that day.", UNSCREENED, unscreened)
    station_options(u)
    u.add_argument("--date", type=day, help="YYYY-MM-DD (default: today)")
    u.add_argument("--json", action="store_true", help="one JSON line per person: id, name, class, kind")
    signin_options(u, "who is reading the names")


def daily(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    with open_log(args, cfg, existing=True) as log:
        report = reports.daily(log, args.date or local_day(time.time()), cfg.station_id)
        reports.store(log, report)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    elif args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["field", "value"])
        for k, v in report.items():
            w.writerow([k, json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v])
    else:
        for k, v in report.items():
            print(f"{k}: {v}")


def unscreened(args: argparse.Namespace) -> None:
    on = args.date or local_day(time.time())
    cfg = load_config(args)
    with open_log(args, cfg, existing=True) as log:
        sign_in(args, cfg, log, "report-unscreened")
        people = unscreened_people(log, on)
    if args.json:
        for e in people:
            print(json.dumps({"id": e.roster_id, "name": e.name, "class": e.group, "kind": e.kind.value},
                             ensure_ascii=False))
    else:
        print(f"{on}: {len(people)} on the roster without a screening")
        for e in people:
            print(f"  {e.roster_id}  {e.group}  {e.name}")


COMMANDS = {"report": add_report}
