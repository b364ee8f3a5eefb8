"""A simulated school week: 1,200 pupils in 30 classes (and 20 staff) through two gates, morning and noon checks,
absences, late arrivals, fevers sent home and back two days later with a clearance, and one class with a cluster on
day 3. It checks itself against its own ground truth and prints JSON figures.

Everything goes through the station's real code and a real SQLite log per gate (WAL + FULL): Station.screen with an
injected clock, the sessions' close-out that opens the follow-up cases, the teachers closing them, the school doctor's
clearance, gate sync into the school's upstream (an SQLite file: the school's own server) with the roster shared,
and the school report across both gates. The north gate keeps the absence cases (``absence_cases = "school"``: it
asks the upstream who came in by the south gate); the south gate opens none. Each pupil uses one gate all week.

Checks (each a count that must be 0, or a flag that must be true):
- every pupil absent from a session (not sent home) has an absence case, and no pupil present has one;
- every case the simulated teachers should close is closed, with the ground truth's outcome, from either gate (each
  case at a gate picked at random: the school has one case list, and after the sync both gates list the same cases
  in the same state);
- the cluster alert fires on day 3 and not before, for the right class;
- no pupil with a confirmed fever is admitted before the clearance (one of them tries on the next day);
- the school report's seen and unscreened, per day and session, equal the ground truth exactly.

    python bench/school_day.py [--pupils 1200] [--days 5] [--seed 1]
"""
from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from domain import Decision, MaskResult, MaskState, Reading  # noqa: E402
from domain.case import CaseReason, Outcome  # noqa: E402
from gate.cli.school import build  # noqa: E402
from gate.clearance import clear  # noqa: E402
from gate.clusters import Rules  # noqa: E402
from gate.config import parse_config  # noqa: E402
from gate.school_day import close_out, cluster_alerts, share_roster  # noqa: E402
from gate.station import Station  # noqa: E402
from storage import cases, integrity, school_report  # noqa: E402
from storage import upstream as up  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402
from storage.roster import import_roster  # noqa: E402
from storage.sync import Sync  # noqa: E402

GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级")
CLUSTER_CLASS = "三年级1班"  # a class that comes in by the north gate, where the absence cases are kept
CLUSTER_DAY = 2  # day index (0-based): the third day
YES = MaskResult(MaskState.YES)
MONDAY = (2026, 12, 7)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def at(day: int, h: int, m: int, s: float = 0.0) -> float:
    y, mo, d = MONDAY
    return time.mktime((y, mo, d + day, h, m, 0, 0, 0, -1)) + s


def day_text(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(at(day, 12, 0)))


def reading(v: float) -> list[Reading]:
    return [Reading(object_c=v, source="manual")]


def main() -> None:
    args = options(__doc__, pupils=1200, days=5, seed=1)
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    classes = [f"{g}{n}班" for g in GRADES for n in range(1, 7)]
    per_class = args.pupils // len(classes)
    pupils = {f"P{i:04d}": classes[i // per_class] for i in range(per_class * len(classes))}
    staff = [f"T{i:02d}" for i in range(20)]
    gate_of = {p: "north" if classes.index(c) % 2 == 0 else "south" for p, c in pupils.items()}
    gate_of.update({t: "north" if i % 2 == 0 else "south" for i, t in enumerate(staff)})
    roster_csv = "id,name,class,kind\n" + "".join(f"{p},学生{p[1:]},{c},pupil\n" for p, c in pupils.items()) + \
        "".join(f"{t},老师{t[1:]},教务处,staff\n" for t in staff)

    work = Path(tempfile.mkdtemp(prefix="school-week-"))
    url = f"sqlite:///{work / 'school.db'}"
    clock = Clock()
    gates, cfgs = {}, {}
    for name, absences in (("north", "school"), ("south", "off")):
        cfgs[name] = parse_config({"station": {"id": name}, "school": {"id": "school-12", "name": "第十二小学",
                                                                       "absence_cases": absences},
                                   "upstream": {"url": url, "share_roster": True}})
        log = ScreeningLog(work / f"{name}.db")
        import_roster(log, roster_csv.encode(), station_id=name, actor="admin")
        gates[name] = (log, Station(cfgs[name], log, language="en", clock=clock))

    # -- ground truth of the week ------------------------------------------------------------------------------------
    away: dict[int, dict[str, str]] = {d: {} for d in range(args.days)}  # day -> pupil -> why (sick/personal)
    late: dict[int, set[str]] = {d: set() for d in range(args.days)}  # arrive after the morning check
    fever: dict[int, list[str]] = {d: [] for d in range(args.days)}  # confirmed at the gate in the morning
    cluster_pupils = [p for p, c in pupils.items() if c == CLUSTER_CLASS][:3]
    healthy = [p for p in pupils if p not in cluster_pupils]
    sick_classes: dict[int, set[str]] = {d: set() for d in range(args.days)}
    for d in range(args.days):
        for p in rng.sample(healthy, max(1, len(pupils) * 15 // 1000)):
            recent = set().union(*(sick_classes.get(x, set()) for x in range(d - 2, d + 1)))
            if rng.random() < 0.5 or pupils[p] in recent or pupils[p] == CLUSTER_CLASS:
                away[d][p] = "personal"  # the truth has no cluster but the one on day 3
            else:
                away[d][p] = "sick-cough"
                sick_classes[d].add(pupils[p])
        for p in rng.sample([x for x in healthy if x not in away[d]], 3):
            late[d].add(p)
    used_classes: dict[int, set[str]] = {}
    for d in range(min(2, args.days)):  # two fevers on each of the first two days, never two in one class
        chosen = []
        for p in rng.sample(healthy, 200):
            if len(chosen) == 2:
                break
            recent = set().union(*(sick_classes.get(x, set()) for x in range(d - 2, d + 3)))
            if pupils[p] not in used_classes.setdefault(d, set()) and pupils[p] != CLUSTER_CLASS \
                    and pupils[p] not in recent \
                    and all(p not in away[x] and p not in late[x] for x in range(args.days)):
                chosen.append(p)
                used_classes[d].add(pupils[p])
        fever[d] = chosen
        for p in chosen:
            if d + 1 < args.days:
                away[d + 1][p] = "sick-fever"  # home the next day, back (with the certificate) two days later
    tries_early = fever[0][0] if fever[0] else None  # comes back on day 1 without a certificate: must be refused
    if tries_early and 1 < args.days:
        away[1].pop(tries_early, None)
    if CLUSTER_DAY < args.days:
        for p in cluster_pupils:
            away[CLUSTER_DAY][p] = "cluster"  # fever and cough: the class's cluster

    stats = {"screenings": 0, "cases_opened": 0, "cases_closed": 0, "clearances": 0, "syncs": 0,
             "missing_cases": 0, "wrong_cases": 0, "unclosed_cases": 0, "healthy_refused": 0,
             "fever_admitted_before_clearance": 0, "early_return_refused": False,
             "cluster_alert_day": None, "cluster_alert_before_day_3": 0, "cluster_alert_class_ok": False,
             "report_mismatches": 0, "report_checks": 0, "closed_at_other_gate": 0, "cases_settled": 0}
    expected_absent: dict[tuple[int, str], set[str]] = {}
    refused_for_fever: set[str] = set()

    def sync_all(order=("north", "south", "north")) -> None:
        """Each gate sends and pulls the school's records and cases (the default order: both know everything)."""
        for name in order:
            log = gates[name][0]
            sync = Sync(log, url, school_id="school-12", school_name="第十二小学", station_id=name, clock=clock,
                        sessions=cfgs[name].school_sessions())
            stats["cases_settled"] += sync.once().settled
            share_roster(log, cfgs[name], sync.engine())
            sync.close()
            stats["syncs"] += 1

    def screen(name: str, who: str, value: float):
        stats["screenings"] += 1
        return gates[name][1].screen(reading(value), YES, entrant_id=who)

    for d in range(args.days):
        present = [p for p in [*pupils, *staff] if p not in away[d]]
        # The school doctor records the certificates brought back this morning (a fever two days ago, the cluster's
        # pupils after their day of sick leave).
        back = [*(fever[d - 2] if d >= 2 else ()), *(cluster_pupils if d == CLUSTER_DAY + 1 else ())]
        for p in back:
            log = gates[gate_of[p]][0]
            clock.now = at(d, 6, 20)
            clear(log, station_id=gate_of[p], entrant_id=p, note="医院复课证明", by="doc", role="health", now=clock.now)
            stats["clearances"] += 1
        for session, (h0, m0) in (("morning", (6, 35)), ("noon", (12, 35))):
            order = [p for p in present if not (session == "morning" and p in late[d])]
            rng.shuffle(order)
            seen_now: set[str] = set()
            for i, p in enumerate(order):
                if p in refused_for_fever and session == "noon":
                    continue  # sent home this morning
                clock.now = at(d, h0, m0, i * 4.0)
                g = gate_of[p]
                if session == "morning" and p in fever[d]:
                    screen(g, p, 38.6)
                    s = screen(g, p, 38.5)
                    assert s.decision is Decision.DENY
                    refused_for_fever.add(p)
                    seen_now.add(p)
                    continue
                s = screen(g, p, round(rng.uniform(36.2, 36.9), 1))
                seen_now.add(p)
                if s.decision is Decision.DENY:
                    refused_for_fever.add(p)  # sent home: the only one expected is the early return
                    stats["early_return_refused"] |= p == tries_early and d == 1
                    stats["healthy_refused"] = stats.get("healthy_refused", 0) + (p != tries_early)
                elif any(p in fever[x] for x in (d - 1, d) if x >= 0):
                    stats["fever_admitted_before_clearance"] += 1  # back before the certificate was recorded
            if session == "morning":
                for p in late[d]:  # late arrivals: after the morning check
                    clock.now = at(d, 8, 45)
                    screen(gate_of[p], p, 36.6)
            truth = {p for p in pupils if p not in seen_now}
            expected_absent[(d, session)] = {p for p in truth if p not in refused_for_fever}
            sync_all(("south", "north"))  # the other gate first: the north gate asks who came in there
            end = at(d, 8, 31) if session == "morning" else at(d, 14, 1)
            close_out(gates["north"][0], cfgs["north"], end)
            close_out(gates["south"][0], cfgs["south"], end)
            # the school report for the session, against the ground truth
            engine = up.make_upstream_engine(url)
            sd = school_report.school_day(engine, "school-12", day_text(d), session)
            engine.dispose()
            rep = build(sd, [Rules()])
            unscreened = {i for ids in rep["unscreened_by_class"].values() for i in ids}
            truth_staff = {t for t in staff if t not in seen_now}
            stats["report_checks"] += 1
            stats["report_mismatches"] += (unscreened != truth) + (set(rep["unscreened_staff"]) != truth_staff)
        # -- the teachers follow up after the noon check: every open case of the day gets its outcome, closed from
        # either gate (the school's one list: a teacher signs in at whichever gate is nearer) ---------------------
        sync_all()
        clock.now = at(d, 15, 0)
        for c in cases.listed(gates["north"][0], open_only=True):
            why = away.get(int(d), {}).get(c.entrant_id) if c.day == day_text(d) else None
            if c.reason is CaseReason.FEVER:
                outcome, symptoms = Outcome.SENT_HOME, ("fever",)
            elif c.entrant_id in late[d] and c.session == "morning":
                outcome, symptoms = Outcome.LATE_ARRIVAL, ()
            elif why == "personal":
                outcome, symptoms = Outcome.PERSONAL_LEAVE, ()
            elif why == "sick-cough":
                outcome, symptoms = Outcome.SICK_LEAVE, ("cough",)
            elif why in ("sick-fever", "cluster"):
                outcome, symptoms = Outcome.SICK_LEAVE, ("cough", "fever") if why == "cluster" else ("fever",)
            else:
                continue  # not a case the teacher can answer today: left open (counted below)
            name = rng.choice(("north", "south"))
            cases.close_case(gates[name][0], c.case_id, station_id=name, outcome=outcome, symptoms=symptoms,
                             onset=day_text(d), note="", by="teacher", role="teacher", at=clock.now)
            stats["cases_closed"] += 1
            stats["closed_at_other_gate"] += name != c.gate
        sync_all()  # the closes travel: each gate learns the other's
        # -- cluster alerts on the duty screens of both gates, at the end of the day ------------------------------
        raised = [a for name in ("north", "south") for a in cluster_alerts(gates[name][0], cfgs[name], day_text(d))]
        if raised and stats["cluster_alert_day"] is None:
            stats["cluster_alert_day"] = d + 1
            stats["cluster_alert_class_ok"] = {a.class_name for a in raised} == {CLUSTER_CLASS}
        if raised and d < CLUSTER_DAY:
            stats["cluster_alert_before_day_3"] += 1
        refused_for_fever.clear()

    # -- the cases against the ground truth -----------------------------------------------------------------------
    every = cases.listed(gates["north"][0])  # the school's one list; the south gate's must be the same
    south_list = cases.listed(gates["south"][0])
    stats["gates_disagree"] = len({(c.case_id, c.outcome, c.closed_at) for c in every}
                                  ^ {(c.case_id, c.outcome, c.closed_at) for c in south_list})
    stats["cases_opened"] = len(every)
    absent_cases = {(c.day, c.session, c.entrant_id) for c in every if c.reason is CaseReason.ABSENT}
    wanted = set()
    for (d, session), ids in expected_absent.items():
        for p in ids:
            # one absence case a day: a pupil away all day is followed up from the morning check
            if session == "noon" and p in expected_absent.get((d, "morning"), set()):
                continue
            wanted.add((day_text(d), session, p))
    stats["missing_cases"] = len(wanted - absent_cases)
    stats["wrong_cases"] = len(absent_cases - wanted)
    if "--debug" in sys.argv[1:] or absent_cases != wanted:
        print("unexpected cases:", sorted(absent_cases - wanted), "missing:", sorted(wanted - absent_cases),
              "open:", [(c.day, c.session, c.entrant_id, c.reason.value) for c in every if c.is_open], file=sys.stderr)
    stats["unclosed_cases"] = sum(c.is_open for c in every)
    late_by_day = {(day_text(d), p) for d in range(args.days) for p in late[d]}
    stats["late_arrivals_closed_as_late"] = sum(1 for c in every if (c.day, c.entrant_id) in late_by_day
                                                and c.outcome is Outcome.LATE_ARRIVAL)
    stats["late_arrivals"] = len(late_by_day)
    verified = all(integrity.check(gates[n][0]).ok for n in gates)
    for log, _ in gates.values():
        log.close()
    took = time.perf_counter() - t0
    ok = (stats["missing_cases"] == 0 and stats["wrong_cases"] == 0 and stats["unclosed_cases"] == 0
          and stats["late_arrivals_closed_as_late"] == stats["late_arrivals"] and stats["healthy_refused"] == 0
          and stats["fever_admitted_before_clearance"] == 0
          and (stats["early_return_refused"] or tries_early is None)
          and stats["cluster_alert_day"] == CLUSTER_DAY + 1 and stats["cluster_alert_before_day_3"] == 0
          and stats["cluster_alert_class_ok"] and stats["report_mismatches"] == 0 and verified
          and stats["gates_disagree"] == 0 and stats["closed_at_other_gate"] > 0)
    print(json.dumps({"benchmark": "school_week", "pupils": len(pupils), "classes": len(classes),
                      "staff": len(staff), "gates": 2, "days": args.days, "seed": args.seed, **stats,
                      "logs_verify": verified, "ok": ok, "seconds": round(took, 1),
                      "screenings_per_second": round(stats["screenings"] / took, 1)}, ensure_ascii=False))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
