"""`gate clearance add ID --note TEXT` and `gate clearance list`: the health officer lets a person with a confirmed
fever back in (gate/clearance.py), and sees who is still waiting."""
from __future__ import annotations

import argparse
import json
import time

from domain.errors import Refused
from gate.cli.common import actions, ident, json_option, operator, signed_in, signin_options, station_options
from gate.clearance import certificates_waiting, clear, waiting
from storage import clearances
from storage.clearances import ClearanceRefused

ADD = """
gate clearance add P42 --note "doctor's note, 2 Dec" --user zhang --pin-stdin
gate clearance add S1024 --note "医生证明 12月2日" --user zhang
"""
LIST = """
gate clearance list
gate clearance list --json --user zhang --pin-stdin
"""


def add_clearance(p: argparse.ArgumentParser) -> None:
    add = actions(p, every=station_options)
    a = add("add", "Record a clearance: the person's latest confirmed fever no longer refuses them entry. Needs the "
                   "health role (school doctor or nurse) or admin; refused when the id has no fever waiting.",
            ADD, clearance_add)
    a.add_argument("id", metavar="ID", type=ident("entrant id"), help="the entrant id (what the scanner reads)")
    a.add_argument("--note", required=True, help="what the clearance rests on, e.g. \"doctor's note, 2 Dec\"")
    signin_options(a, "the health officer or admin recording it")
    li = add("list", "Confirmed fevers still waiting for a clearance, then the clearances recorded (newest first).",
             LIST, clearance_list)
    signin_options(li, "who is looking (health, admin or auditor)")
    json_option(li, "one JSON line per fever waiting and per clearance (\"state\": waiting | cleared)")


def _at(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def clearance_add(args: argparse.Namespace) -> None:
    with signed_in(args, "clearance-add") as (cfg, log, user):
        try:
            c = clear(log, station_id=cfg.station_id, entrant_id=args.id, note=args.note, by=operator(args, user),
                      role=user.role if user else "", now=args.clock())
        except ClearanceRefused as exc:
            raise Refused(f"{exc}; nothing was recorded") from None
    print(f"cleared {c.entrant_id}: the fever confirmed at {_at(c.fever_at)} no longer refuses entry "
          f"(by {c.cleared_by}: {c.note}) [{c.id}]")


def clearance_list(args: argparse.Namespace) -> None:
    with signed_in(args, "clearance-list", existing=True) as (cfg, log, user):
        fevers = waiting(log)
        certificates = certificates_waiting(log)
        done = clearances.records(log)
    for s in fevers:
        if args.json:
            print(json.dumps({"state": "waiting", "entrant_id": s.entrant_id, "fever_screening": s.id,
                              "fever_at": s.created_at, "gate": s.station_id}, ensure_ascii=False))
        else:
            print(f"waiting  {s.entrant_id:<16} fever confirmed {_at(s.created_at)} at gate {s.station_id}")
    for case in certificates:
        if args.json:
            print(json.dumps({"state": "waiting", "entrant_id": case.entrant_id, "case": case.case_id,
                              "outcome": str(case.outcome), "closed_at": case.closed_at}, ensure_ascii=False))
        else:
            print(f"waiting  {case.entrant_id:<16} case {case.short_id} closed {_at(case.closed_at)} as "
                  f"{case.outcome} with fever: 复课证明 needed")
    for c in done:
        if args.json:
            print(json.dumps({"state": "cleared", **c.content()}, ensure_ascii=False))
        else:
            print(f"cleared  {c.entrant_id:<16} fever confirmed {_at(c.fever_at)}, cleared {_at(c.at)} by "
                  f"{c.cleared_by}: {c.note}")
    if not args.json and not fevers and not certificates and not done:
        print("no confirmed fevers and no clearances")


COMMANDS = {"clearance": add_clearance}
