"""`gate held list` and `gate held lift --note TEXT`: records about pupils held back because they were edited in a
gate's file (storage.held). Every gate of the school refuses such a pupil until the gate that holds the record lifts
it: an auditor or admin there, once `gate verify` is clean again."""
from __future__ import annotations

import argparse
import json
import time

from domain.errors import Refused, UsageError
from domain.identifiers import IdentifierError, check_text
from gate.cli.common import actions, ident, json_option, operator, signed_in, signin_options, station_options

LIST = """
gate held list
gate held list --json --user li --pin-stdin
"""
LIFT = """
gate held lift --note "edit undone from the backup of 06:00, checked with gate verify" --user li --pin-stdin
gate held lift --entrant P7 --note "hold not ours: sent with our password, now changed" --user li --pin-stdin
"""


def add_held(p: argparse.ArgumentParser) -> None:
    add = actions(p, every=station_options)
    li = add("list", "The pupils refused because a record about them is held back: at this gate (edited in its own "
                     "file) and at the school's other gates (as pulled by gate sync).", LIST, held_list)
    signin_options(li, "who is looking (auditor, admin or health)")
    json_option(li, "one JSON line per hold (\"gate\": the gate that holds it; \"here\": this gate)")
    lf = add("lift", "Lift this gate's holds once its log verifies again (the edit undone): the held records are "
                     "sent upward as the station wrote them, and every gate of the school learns the lift at its next "
                     "sync. Needs an auditor or admin; audited.", LIFT, held_lift)
    lf.add_argument("--note", required=True, help="what was found and done, e.g. \"restored from the 06:00 backup\"")
    lf.add_argument("--entrant", metavar="ID", action="append", type=ident("entrant id"), default=[],
                    help="lift the hold on this pupil only, even one this log does not remember (a log restored from "
                         "an older backup; a hold sent upward under this gate's id by someone else); repeatable")
    signin_options(lf, "the auditor or admin lifting it")


def _at(ts: object) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if isinstance(ts, (int, float)) else "?"


def held_list(args: argparse.Namespace) -> None:
    from storage import held, school_records

    with signed_in(args, "held-list", existing=True) as (cfg, log, _user):
        with log.read("the holds of this gate") as conn:
            here = held.held_here(conn)
        there = school_records.holds(log)
    rows = [{"entrant_id": e, "gate": cfg.station_id, "here": True, "since": d.get("since"), "kind": d.get("kind"),
             "record": d.get("record")} for e, d in here.items()]
    rows += [{"entrant_id": e, "gate": h.gate, "here": False, "since": h.since, "kind": h.kind, "record": h.record_id}
             for e, h in there]
    for r in rows:
        print(json.dumps(r, ensure_ascii=False) if args.json else
              f"held  {r['entrant_id']:<16} at gate {r['gate']} since {_at(r['since'])}: a {r['kind']} record "
              + ("edited in this log: gate verify, then gate held lift" if r["here"] else
                 f"edited there: refused here until an auditor at {r['gate']} lifts it"))
    if not rows and not args.json:
        print("no record about anyone is held back")


def held_lift(args: argparse.Namespace) -> None:
    from storage import held, integrity

    try:
        note = check_text(args.note, "note", max_len=500)
    except IdentifierError as exc:
        raise UsageError(f"{exc} (say what was found and done, e.g. \"restored from the 06:00 backup\"); nothing was "
                         "lifted") from None
    with signed_in(args, "held-lift") as (cfg, log, user):
        try:
            pupils, again = held.lift(log, cfg.station_id, note=note, by=operator(args, user),
                                      role=user.role if user else "", verified=integrity.check(log).ok,
                                      now=args.clock(), entrants=tuple(args.entrant))
        except held.LiftRefused as exc:
            raise Refused(str(exc)) from None
    print(f"lifted the holds on {', '.join(pupils)}; {again} held record(s) queued for the upstream again: the "
          "school's other gates learn it at their next sync (run gate sync now)")


COMMANDS = {"held": add_held}
