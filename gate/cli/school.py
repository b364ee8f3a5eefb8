"""`gate school report`: one school's day across all its gates, from the school's upstream (its own server).

A pupil seen at any gate is seen; the unscreened are listed per class (staff apart); fevers confirmed at any gate,
follow-up cases, clusters (under the `[clusters]` rules the gates sent with their daily reports) and the zero report. Who may read it is the upstream's business (a read-only database role,
as for the bureau): names come from the roster the stations share (`[upstream] share_roster = true`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import time

from domain.errors import UpstreamFailure, UsageError
from domain.sessions import DEFAULT_SESSIONS, EVENING
from gate.cli.common import actions, ident, upstream_option, words
from gate.cli.days import date_option, not_after_today
from gate.clusters import Rules, alerts, illnesses
from gate.school_day import by_class

REPORT = """
gate school report --upstream postgresql://school@school-server/gate --school school-12
gate school report --upstream sqlite:////srv/gate/school.db --school school-12 --session morning --json
"""


def add_school(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    r = add("report", "The school's daily report across all its gates: seen per session, unscreened per class "
                      "(staff apart), fevers, follow-up cases, clusters, zero report.", REPORT, report)
    upstream_option(r, "the school's upstream database")
    r.add_argument("--school", metavar="ID", required=True, type=ident("school id"), help="[school] id of its gates")
    date_option(r, "YYYY-MM-DD, today or before (default: today)")
    r.add_argument("--session", metavar="NAME", type=words("session", max_len=64),
                   help="one session (morning, noon ...); default: the whole day")
    r.add_argument("--json", action="store_true", help="one JSON object")


def school_rules(sent: dict[str, tuple | None]) -> tuple[list[Rules], dict]:
    """The cluster rules of the school: those its gates sent upward with their daily reports (each gate's
    `[clusters]`, the numbers its duty screen raised alerts with). Gates that disagree are said, and the alerts of
    every gate's rules are listed (a cluster one gate would raise is never dropped); no rules sent: the defaults."""
    by_gate = {g: Rules.sent(n) for g, n in sent.items()}
    applied = list(dict.fromkeys(r for r in by_gate.values() if r is not None))
    about = {"source": "gates" if applied else "defaults", "agree": len(applied) <= 1,
             "by_gate": {g: r.to_dict() if r else None for g, r in by_gate.items()},
             "applied": [r.to_dict() for r in applied or [Rules()]]}
    return applied or [Rules()], about


def _rules_lines(about: dict) -> list[str]:
    """What the text report says of the rules it applied: nothing when every gate sent the same."""
    silent = [g for g, r in about["by_gate"].items() if r is None]
    if about["source"] == "defaults":
        return [f"cluster rules: no gate has sent its [clusters] yet (each gate's gate report daily carries them): "
                f"the defaults are applied, {Rules().text()}"]
    lines = []
    if not about["agree"]:
        each = "; ".join(f"{g} {Rules(*r.values()).text()}" for g, r in about["by_gate"].items() if r)
        lines.append(f"warning: the gates of this school disagree on [clusters]: {each}. The alerts of every gate's "
                     "rules are listed; give the gates the same [clusters]")
    if silent:
        lines.append(f"cluster rules: {', '.join(silent)} sent none yet (run gate report daily there)")
    return lines


def build(sd, rules: list[Rules]) -> dict:
    """The report of one school day (storage.school_report.SchoolDay) as a plain dict, with the alerts raised that
    day under each of ``rules``."""
    pupils, staff = by_class(sd.unscreened)
    ill = illnesses(sd.cases)
    found = sorted(dict.fromkeys(a for r in rules for a in alerts(ill, r, sd.day) if a.raised == sd.day),
                   key=lambda a: (a.class_name, a.symptom, a.rule, len(a.pupils)))
    open_cases = [c for c in sd.cases if c.is_open]
    roster_pupils = sum(1 for e in sd.roster if e.kind.value == "pupil")
    return {
        "school_id": sd.school_id, "school_name": sd.name, "day": sd.day, "session": sd.session,
        "gates": sd.stations, "expected": len(sd.roster), "pupils": roster_pupils,
        "seen": len({e.roster_id for e in sd.roster} & sd.seen),
        "unscreened": len(sd.unscreened) if sd.roster else None,  # no roster upstream: not known, never 0
        "unscreened_by_class": {cls: [e.roster_id for e in members] for cls, members in pupils.items()},
        "unscreened_staff": [e.roster_id for e in staff],
        "confirmed_fevers": sorted(sd.fevers),
        "cases": {"opened": sum(c.day == sd.day for c in sd.cases), "open": len(open_cases),
                  "closed_today": sum(c.closed_at is not None and time.strftime(
                      "%Y-%m-%d", time.localtime(c.closed_at)) == sd.day for c in sd.cases)},
        "clusters": [a.to_dict() for a in found],
        "zero_report": not sd.fevers and not found,
        "roster_shared": bool(sd.roster),
    }


def _session(name: str | None, sent: set[str]) -> str | None:
    """The session's stored name: 晨检 / morning check are the morning; an unknown name is refused, naming those known
    (the usual ones and any other a gate of the school has sent)."""
    if name is None:
        return None
    usual = (*DEFAULT_SESSIONS, EVENING)
    found = next((s.name for s in usual if name in (s.name, s.label_zh, s.label_en)), None)
    if found is None and name in sent:
        found = name
    if found is None:
        known = [f"{s.name} ({s.label_zh})" for s in usual] + sorted(sent - {s.name for s in usual})
        raise UsageError(f"no session {name!r}: use one of {', '.join(known)}")
    return found


def report(args: argparse.Namespace) -> None:
    from sqlalchemy.exc import SQLAlchemyError  # the upstream's libraries: only for this command

    from storage import bureau, school_report, upstream as up
    from storage.provisional import school_waits

    now = args.clock()
    on = not_after_today(args.date, now) if args.date else time.strftime("%Y-%m-%d", time.localtime(now))
    try:
        engine = up.make_upstream_engine(args.upstream)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise UsageError(f"--upstream {up.safe_url(args.upstream)} is not usable: {exc}") from None
    try:
        sent, sessions = school_report.what_is_known(engine, args.school)
        if not sent:  # a mistyped id is no zero report: only an exact report of nothing is one
            raise UsageError(f"no gate of school {args.school!r} has sent anything to this upstream: check the school "
                             "id ([school] id of its gates) and that they run gate sync")
        args.session = _session(args.session, sessions)
        sd = school_report.school_day(engine, args.school, on, args.session)
        gates, expected = school_report.gates_synced(engine, args.school)
        with engine.connect() as conn:
            sent_reports = bureau.gate_reports(conn, dt.date.fromisoformat(on), args.school).get(args.school, {})
        # The bureau's rule, by the same code (storage.provisional): the school's report is provisional exactly when
        # its row at the bureau is (gates not synced since a check ended, or not reported, or waiting).
        waits = school_waits({g: r for g, (_, r) in sent_reports.items()}, gates, expected, on, now,
                             sessions | {n for _, r in sent_reports.values() for n in r["sessions"]}, args.session)
    except SQLAlchemyError as exc:
        raise UpstreamFailure(f"upstream {up.safe_url(args.upstream)}: {str(exc).splitlines()[0][:200]}") from None
    finally:
        engine.dispose()
    rules, about = school_rules(sd.rules)
    out = {**build(sd, rules), "cluster_rules": about, "provisional": waits is not None, "waiting_for": waits}
    if waits and out["zero_report"]:  # nothing abnormal in half the school is no zero report: undecided
        out["zero_report"] = None
    out["reported"] = bool(sd.stations)
    if not sd.stations:  # no gate screened anyone that day (a holiday, a day to come, gates never synced): no report
        out["zero_report"] = None
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    when = f"{on} {args.session}" if args.session else on
    seen = f"{out['seen']} / {out['expected']}" if out["roster_shared"] else "— (no roster upstream)"
    print(f"{out['school_name'] or out['school_id']} {when}: seen {seen} at "
          f"{len(out['gates'])} gate(s) ({', '.join(f'{k} {v}' for k, v in sorted(out['gates'].items())) or '-'})")
    if not out["roster_shared"]:
        print("no roster upstream: set [upstream] share_roster = true on the gates and run gate sync")
    for cls, ids in out["unscreened_by_class"].items():
        print(f"  {cls or '(no class)'}: {len(ids)} not seen: {' '.join(ids)}")
    if out["unscreened_staff"]:
        print(f"  staff 教职工: {len(out['unscreened_staff'])} not seen: {' '.join(out['unscreened_staff'])}")
    verdict = {True: "零报告 zero report", None: "临时 provisional", False: "异常 abnormal"}[out["zero_report"]]
    if not out["reported"]:
        verdict = "无报告 no report"
        print(f"no report 无报告: no gate of {out['school_id']} sent a screening of {when}: not a zero report (check "
              "the date, and that the gates ran gate sync)")
    print(f"confirmed fevers: {len(out['confirmed_fevers'])}; cases opened {out['cases']['opened']}, "
          f"open {out['cases']['open']}; clusters {len(out['clusters'])}; {verdict}")
    if waits:
        print(waiting_line(waits))
    for a in out["clusters"]:
        print(f"  ⚠ 聚集性病例 cluster: {a['class']} {a['count']} pupils with {a['symptom']} "
              f"({a['first_day']}–{a['raised']}): {', '.join(a['pupils'])}")
    for line in _rules_lines(about):
        print(line)


def waiting_line(waits: dict) -> str:
    """The report's "provisional" line: who the school's report waits for, and what to do."""
    parts = []
    if waits["gates"]:
        parts.append(f"{', '.join(waits['gates'])} not synced since {waits['since']}")
    if waits["unregistered"]:
        parts.append(f"{waits['unregistered']} gate(s) the bureau expects never synced")
    if waits["not_reported"]:
        parts.append(f"{', '.join(waits['not_reported'])} sent no daily report (gate report daily there)")
    if waits["said_provisional"]:
        parts.append(f"{', '.join(waits['said_provisional'])} said its report waits for another gate")
    return (f"provisional 临时: {'; '.join(parts)}: the figures of those gates are missing; no zero report until "
            "they run gate sync")


COMMANDS = {"school": add_school}
