"""`gate report daily` (the day's report for the bureau, stored and synced) and `gate report unscreened`."""
from __future__ import annotations

import argparse
import csv
import json
import sys

from domain.errors import CheckFailed
from gate.cli.common import (a_class, actions, json_or_csv, load_config, open_log, sign_in, signed_in, signin_options,
                             station_options, words)
from gate.cli.days import date_option, not_after_today
from gate.school_day import (by_class, classes_for, close_out, cluster_alerts, daily_figures, find_session,
                             provisional, provisional_line)
from storage import reports
from storage.export import neutral
from storage.log import local_day
from storage.roster import roster_size, unscreened as unscreened_people

NO_ROSTER = "— (no roster)"  # unscreened without a roster: not known; `gate roster import` gives one
NOT_KNOWN = ("who was not seen is not known: this gate keeps no roster (not 0). Import one with gate roster import "
             "FILE.csv")
DAILY = """
gate report daily
gate report daily --date 2026-11-28 --json
gate report daily --csv > 2026-11-28.csv
"""
ALERTS = """
gate report alerts
gate report alerts --date 2026-12-03 --json
"""
UNSCREENED = """
gate report unscreened --date 2026-11-28
gate report unscreened --session morning                 # 晨检: who was not seen, per class, staff apart
gate report unscreened --session 午检 --class 三年级二班 --csv --user chen --pin-stdin
"""


def add_report(p: argparse.ArgumentParser) -> None:
    add = actions(p, every=station_options)
    d = add("daily", "The day's report: screened, admitted, denied by reason, retests and their outcomes, confirmed "
                     "fevers, unscreened roster members and zero_report. It is stored and queued for the upstream.",
            DAILY, daily)
    date_option(d, "YYYY-MM-DD, today or before (default: today)")
    json_or_csv(d, "one JSON object", "field,value rows")
    a = add("alerts", "Cluster alerts (聚集性病例): a class with pupils ill with similar symptoms on one day, or within "
                      "a few days ([clusters] in the config: 3 on a day, or 5 within 3 days). The school reports "
                      "these within 24 hours.", ALERTS, report_alerts)
    date_option(a)
    a.add_argument("--json", action="store_true", help="one JSON line per alert")
    signin_options(a, "who is looking")
    u = add("unscreened", "Who on the roster was not seen on that day, or in one session of it (--session), per "
                          "class with the staff apart. A teacher sees only its own classes.", UNSCREENED, unscreened)
    date_option(u)
    u.add_argument("--session", metavar="NAME", type=words("session", max_len=64),
                   help="a session of the config (morning, noon ... or 晨检, 午检); default: the whole day")
    u.add_argument("--class", dest="class_name", metavar="C", type=a_class,
                   help="one class, as the roster names it")
    json_or_csv(u, "one JSON line per person: id, name, class, kind, session (no roster: one line, unscreened null)",
                "CSV: id,name,class,kind,session (no roster: nothing printed, exit 1)")
    signin_options(u, "who is reading the names")


def daily(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    now = args.clock()
    on = not_after_today(args.date, now) if args.date else local_day(now)
    with open_log(args, cfg, existing=True) as log:
        waiting: list = []
        close_out(log, cfg, now, waiting)
        report = {**reports.daily(log, on, cfg.station_id), **daily_figures(log, cfg, on)}
        report["zero_report"] = report["zero_report"] and not report["clusters"]
        waits = provisional(cfg, on, now, waiting)
        report["provisional"] = bool(waits)
        report["waiting_for"] = waits
        if waits and report["zero_report"]:  # half the school's nothing is no zero report: undecided till all report
            report["zero_report"] = None
        reports.store(log, report, now)
    if waits:
        print(provisional_line(waits), file=sys.stderr if args.json or args.csv else sys.stdout)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    elif args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["field", "value"])
        for k, v in report.items():
            w.writerow([k, json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v])
    else:
        for k, v in report.items():
            print(f"{k}: {shown(k, v, bool(waits))}")


def shown(key: str, value, waits: bool) -> str:
    """A figure of the daily report as the text output says it: an undecided zero report, an unscreened count
    nobody can know (no roster at this gate: the day's and each check's) as a dash, never 0."""
    if key == "zero_report" and waits:
        return "provisional 临时 (undecided)"
    if key == "unscreened" and value is None:
        return NO_ROSTER
    if key == "sessions" and isinstance(value, dict):
        return str({name: {k: NO_ROSTER if v is None and k in ("seen", "expected", "unseen") else v
                           for k, v in figures.items()} for name, figures in value.items()})
    return str(value)


def report_alerts(args: argparse.Namespace) -> None:
    on = args.date or local_day(args.clock())  # gate.cli.main's clock: the tests set the day
    with signed_in(args, "report-alerts", existing=True) as (cfg, log, user):
        classes = classes_for(user, None, log=log, station_id=cfg.station_id, action="report-alerts")
        found = cluster_alerts(log, cfg, on, classes, school=True)
    if args.json:
        for a in found:
            print(json.dumps(a.to_dict(), ensure_ascii=False))
        return
    if not found:
        print(f"{on}: no cluster alert")
    for a in found:
        print(f"{a.line()}: {', '.join(a.pupils)} — report to the bureau and the CDC within 24 hours")


def unscreened(args: argparse.Namespace) -> None:
    on = args.date or local_day(args.clock())  # gate.cli.main's clock: the tests set the day
    cfg = load_config(args)
    session = find_session(cfg.school_sessions(), args.session) if args.session else None
    with open_log(args, cfg, existing=True) as log:
        user = sign_in(args, cfg, log, "report-unscreened")
        classes = classes_for(user, args.class_name, log=log, station_id=cfg.station_id, action="report-unscreened")
        people = unscreened_people(log, on, session.name if session else None, classes)
        known = roster_size(log) > 0
    if not known:
        not_known(on, session, args)
        return
    pupils, staff = by_class(people)
    if classes is not None:
        staff = []  # a teacher's list, or one class's: the staff are not in it
    when = f"{on} {session.label_zh} {session.label_en}" if session else on
    rows = [e for group in pupils.values() for e in group] + staff
    if args.json or args.csv:
        w = csv.writer(sys.stdout) if args.csv else None
        if w:
            w.writerow(["id", "name", "class", "kind", "session"])
        for e in rows:
            record = {"id": e.roster_id, "name": e.name, "class": e.group, "kind": e.kind.value,
                      "session": session.name if session else None}
            if w:
                w.writerow([neutral(str(v or "")) for v in record.values()])
            else:
                print(json.dumps(record, ensure_ascii=False))
        return
    print(f"{when}: {len(rows)} on the roster not seen")
    for group, members in pupils.items():
        print(f"{group or '(no class)'}: {len(members)}")
        for e in members:
            print(f"  {e.roster_id}  {e.name}")
    if staff:
        print(f"staff 教职工: {len(staff)}")
        for e in staff:
            print(f"  {e.roster_id}  {e.group}  {e.name}")


def not_known(on: str, session, args: argparse.Namespace) -> None:
    """No roster at this gate: nobody can say who was not seen, so no list and never "0 not seen". JSON says so in
    one object; CSV (rows of people) cannot, so it prints nothing and fails: an empty list would read "all seen"."""
    if args.csv:
        raise CheckFailed(NOT_KNOWN)
    if args.json:
        print(json.dumps({"day": on, "session": session.name if session else None, "unscreened": None, "roster": 0,
                          "message": NOT_KNOWN}, ensure_ascii=False))
        return
    when = f"{on} {session.label_zh} {session.label_en}" if session else on
    print(f"{when}: {NO_ROSTER} {NOT_KNOWN}")


COMMANDS = {"report": add_report}
