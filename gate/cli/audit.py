"""`gate audit list`: the audit trail, who did what (hash-chained like the screenings, synced upward)."""
from __future__ import annotations

import argparse
import json
import time

from gate.cli.common import actions, positive_int, signed_in, signin_options, station_options
from storage import audit

LIST = """
gate audit list
gate audit list --limit 20 --json --user wu --pin-stdin < pin.txt
"""


def add_audit(p: argparse.ArgumentParser) -> None:
    li = actions(p)("list", "The latest audit events, oldest first: time, who, what, details.", LIST, list_events)
    station_options(li)
    li.add_argument("--limit", type=positive_int, default=100, help="how many of the latest events (default 100)")
    li.add_argument("--json", action="store_true", help="one JSON line per event")
    signin_options(li, "an auditor")


def list_events(args: argparse.Namespace) -> None:
    with signed_in(args, "audit-list", existing=True) as (cfg, log, user):
        events = audit.events(log, args.limit)
    for ev in reversed(events):
        if args.json:
            print(json.dumps(ev, ensure_ascii=False))
        else:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ev["at"]))
            print(f"{when}  {ev['actor']:<12} {ev['action']:<18} {json.dumps(ev['detail'], ensure_ascii=False)}")


COMMANDS = {"audit": add_audit}
