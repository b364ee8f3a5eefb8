"""`gate followup list | close`: the follow-up cases (因病缺勤追踪) of the class teachers and the school doctor.

Cases open by themselves (gate/followup.py); listing first closes out the sessions that have ended, so the list is
never behind the clock. A teacher sees and closes only the cases of its own classes.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time

from domain.case import NOTE_MAX, PEOPLE_OUTCOMES, Case, Outcome, onset_from, symptoms_from
from domain.errors import Refused, UsageError
from gate.cli.common import (a_class, actions, argument, ident, json_option, load_config, open_log, operator, sign_in,
                             signed_in, signin_options, station_options, words)
from gate.followup import list_scope
from gate.school_day import classes_for, close_out
from storage import cases
from storage.roster import roster

LIST = """
gate followup list --open
gate followup list --class 三年级二班 --json --user chen --pin-stdin
gate followup list --entrant p42      # the cases of P42, however the id is typed
"""
CLOSE = """
gate followup close 1a2b3c4d --outcome late-arrival --user chen --pin-stdin
gate followup close 1a2b3c4d --outcome sick-leave --symptoms fever,cough --onset 2026-12-01 --note "妈妈电话: 发烧 38.6"
"""


_symptoms = argument(symptoms_from, "symptoms")
_onset = argument(onset_from, "onset")
_note = words("note", max_len=NOTE_MAX, empty=True)


def add_followup(p: argparse.ArgumentParser) -> None:
    add = actions(p, every=station_options)
    li = add("list", "Follow-up cases: each pupil not seen when a session closed, each confirmed fever, each no-mask "
                     "refusal and each retest left open. A teacher sees its own classes only.", LIST, followup_list)
    li.add_argument("--class", dest="class_name", metavar="C", type=a_class, help="one class")
    li.add_argument("--open", action="store_true", help="only the cases still open (they carry over day to day)")
    li.add_argument("--entrant", type=ident("entrant id"), metavar="ID",
                    help="one pupil's cases, the id under any spelling (P42, p42, Ｐ４２)")
    json_option(li, "one JSON line per case")
    signin_options(li, "the teacher, school doctor or admin looking")
    c = add("close", "Close a case with its outcome (结案). Closed as sent-home or sick-leave with a fever, the pupil "
                     "is refused at the gate until the school doctor records the return-to-school certificate "
                     "(gate clearance add).", CLOSE, followup_close)
    c.add_argument("case", metavar="CASE", type=words("case id", max_len=36),
                   help="the case id, or its first 8 characters as the list shows them (gate followup list "
                        "--entrant ID finds a pupil's cases)")
    c.add_argument("--outcome", required=True, choices=[o.value for o in PEOPLE_OUTCOMES])
    c.add_argument("--symptoms", type=_symptoms, default=(), metavar="S1,S2",
                   help="fever, cough, sore-throat, rash, vomiting, diarrhoea, jaundice, headache, conjunctivitis, "
                        "breathing, other")
    c.add_argument("--onset", type=_onset, help="the day the illness began, YYYY-MM-DD")
    c.add_argument("--note", type=_note, default="", help="what the family said, the doctor's diagnosis ...")
    signin_options(c, "the class teacher or school doctor closing it")


def _at(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else ""


def case_record(c: Case, names: dict[str, str]) -> dict:
    return {"case": c.case_id, "state": "open" if c.is_open else "closed", "day": c.day, "session": c.session,
            "reason": c.reason.value, "class": c.class_name, "entrant_id": c.entrant_id,
            "name": names.get(c.entrant_id, ""), "screening": c.screening_id, "opened_at": c.opened_at,
            "outcome": c.outcome.value if c.outcome else None, "symptoms": list(c.symptoms), "onset": c.onset,
            "note": c.note, "closed_by": c.closed_by, "closed_at": c.closed_at,
            "needs_certificate": c.needs_certificate, "gate": c.gate, "closed_at_gate": c.closed_at_gate,
            "other_closes": [{"outcome": o.outcome.value, "symptoms": list(o.symptoms), "by": o.by, "at": o.at,
                              "gate": o.gate, "note": o.note} for o in c.other_closes]}


def followup_list(args: argparse.Namespace) -> None:
    with signed_in(args, "followup-list", existing=True) as (cfg, log, user):
        classes = classes_for(user, args.class_name, log=log, station_id=cfg.station_id, action="followup-list")
        waiting: list = []
        close_out(log, cfg, args.clock(), waiting)
        found = cases.listed(log, open_only=args.open, classes=classes, entrant_id=args.entrant)
        names = {e.roster_id: e.name for e in roster(log)}
        scope = list_scope(log, cfg)
    if waiting:  # the absence cases of these sessions are not opened yet: the list is not the whole story
        shown = ", ".join(f"{d} {s}" for d, s in waiting[:6]) + (" ..." if len(waiting) > 6 else "")
        print(f"not closed out yet ({shown}): the upstream could not be asked who was seen at the school's other "
              "gates; their absence cases open once it answers (check [upstream] url and gate sync)", file=sys.stderr)
    if args.json:  # the JSON lines stay one case each: whose list it is goes to stderr
        print(scope, file=sys.stderr)
        for c in found:
            print(json.dumps(case_record(c, names), ensure_ascii=False))
        return
    print(scope)
    print(f"{sum(c.is_open for c in found)} open, {sum(not c.is_open for c in found)} closed")
    for c in found:
        state = "open  " if c.is_open else f"closed {c.outcome}"
        print(f"{c.short_id}  {state:<22} {c.day} {c.session or '-':<8} {c.reason.value:<11} "
              f"{c.class_name or '-'}  {c.entrant_id} {names.get(c.entrant_id, '')}  [gate {c.gate}]"
              + (f" (closed at {c.closed_at_gate})" if c.closed_at_gate and c.closed_at_gate != c.gate else "")
              + "".join(f"; also closed at {o.gate} by {o.by} as {o.outcome} (later: a note)"
                        for o in c.other_closes))


def followup_close(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    outcome = Outcome(args.outcome)
    now = args.clock()  # the onset's "not after today" and the close's time: gate.cli.main's clock
    if args.onset is not None:
        try:
            onset_from(args.onset, datetime.date.fromtimestamp(now))
        except ValueError as exc:
            raise UsageError(f"{exc}; nothing was recorded") from None
    with open_log(args, cfg, existing=True) as log:
        user = sign_in(args, cfg, log, "followup-close")
        classes = classes_for(user, None, log=log, station_id=cfg.station_id, action="followup-close")
        try:
            c = cases.close_case(log, args.case, station_id=cfg.station_id, outcome=outcome,
                                 symptoms=args.symptoms, onset=args.onset, note=args.note, by=operator(args, user),
                                 role=user.role if user else "", at=now, classes=classes)
        except cases.CaseRefused as exc:
            raise Refused(f"{exc}; nothing was recorded") from None
    print(f"closed case {c.short_id} of {c.entrant_id} ({c.class_name or 'no class'}): {c.outcome}"
          + (f", {', '.join(c.symptoms)}" if c.symptoms else "")
          + (f"; opened at {c.gate}, which learns the close at its next sync" if c.gate != cfg.station_id else ""))
    if c.needs_certificate:
        print(f"{c.entrant_id} is refused at the gate until the school doctor has seen the return-to-school "
              f"certificate (复课证明): gate clearance add {c.entrant_id} --note \"...\"")


COMMANDS = {"followup": add_followup}
