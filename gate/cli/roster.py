"""`gate roster import FILE.csv`, `gate roster list` and `gate roster visitor add ID ...`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from domain.errors import UsageError
from gate.cli.common import actions, ident, operator, person, signed_in, signin_options, station_options, words
from gate.cli.days import date_option
from gate.input_files import read_bounded
from storage.roster import MAX_BYTES, RosterError, Visitor, add_visitor, import_roster, roster

IMPORT = """
gate roster import pupils.csv
gate roster import new-pupils.csv --add --user admin
gate roster import 名单.csv --user admin --pin-stdin < pin.txt
"""
LIST = """
gate roster list
gate roster list --json
"""
VISITOR_ADD = """
gate roster visitor add V-0042 --name "Wang Fang" --phone 13800000000 --reason "parents' meeting" --host "Ms Li"
gate roster visitor add V-0043 --name Chen --phone 139... --reason delivery --host office --date 2026-11-30
"""


def add_roster(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    i = add("import", "Replace the roster with a CSV's people (id, name, class or department, kind; English or "
                      "Chinese headers); people no longer in it become visitors, --add only adds and updates. A "
                      "file with any error imports nothing; every error names its line and field.",
            IMPORT, import_file)
    station_options(i)
    i.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV, with or without BOM")
    i.add_argument("--add", action="store_true", help="add and update only (default: replace the roster; people not "
                                                      "in the file become visitors)")
    signin_options(i, "an admin")
    li = add("list", "Print the roster: id, class, kind, name.", LIST, list_roster)
    station_options(li)
    li.add_argument("--json", action="store_true", help="one JSON line per person: id, name, class, kind")
    signin_options(li, "who is reading the roster")
    v = add("visitor", "Visitors: approve one in advance (an id not on the roster is refused unless approved).",
            VISITOR_ADD)
    vadd = actions(v)("add", "Approve a visitor, for one day (--date) or until removed.", VISITOR_ADD, visitor_add)
    station_options(vadd)
    vadd.add_argument("id", metavar="ID", type=ident("visitor id"), help="the visitor's id (what the scanner reads)")
    vadd.add_argument("--name", required=True, type=words("name"))
    vadd.add_argument("--phone", required=True, type=words("phone", max_len=32))
    vadd.add_argument("--reason", default="", type=words("reason", max_len=200, empty=True), help="why they come")
    vadd.add_argument("--host", required=True, type=words("host"), help="the person visited")
    date_option(vadd, "approved for this day only (YYYY-MM-DD)")
    signin_options(vadd, "who approves")


def import_file(args: argparse.Namespace) -> None:
    path = Path(args.file)
    data = read_bounded(path, MAX_BYTES, "a roster (CSV)")  # /dev/zero, a FIFO, a folder: refused before reading
    with signed_in(args, "roster-import") as (cfg, log, user):
        actor = operator(args, user)
        try:
            summary = import_roster(log, data, station_id=cfg.station_id, actor=actor, merge=args.add)
        except RosterError as exc:
            raise UsageError(f"{path} was not imported ({len(exc.problems)} problem(s)); nothing was changed:",
                             exc.problems[:50]) from None
    print(f"{path}: {summary.line()}")


def list_roster(args: argparse.Namespace) -> None:
    with signed_in(args, "roster-list", existing=True) as (cfg, log, user):
        people = roster(log)
    for e in people:
        print(json.dumps({"id": e.roster_id, "name": e.name, "class": e.group, "kind": e.kind.value},
                         ensure_ascii=False) if args.json else f"{e.roster_id}\t{e.group}\t{e.kind.value}\t{e.name}")


def visitor_add(args: argparse.Namespace) -> None:
    with signed_in(args, "visitor-add") as (cfg, log, user):
        actor = operator(args, user)
        add_visitor(log, Visitor(args.id, args.name, args.phone, args.reason, args.host, args.date),
                    station_id=cfg.station_id, actor=actor)
    print(f"visitor {args.id} approved" + (f" for {args.date}" if args.date else ""))


COMMANDS = {"roster": add_roster}
