"""Cluster alerts (聚集性病例): 3 pupils of one class with a symptom in common on one day, or 5 within 3 consecutive
days; at 2/3 in a day and 4/5 over three days nothing is raised. Pure rules, then the command line and the daily
report over a real log."""
import io
import json
import sys
import time

from hypothesis import given, strategies as st

from domain.case import Case, CaseReason, Outcome
from gate.cli import main
from gate.clusters import Illness, Rules, active, alerts, illnesses
from gate.config import Config
from gate.station import Station
from domain import MaskResult, MaskState, Reading
from storage import cases
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock

RULES = Rules()


def ill(pupil, day, *symptoms, cls="三年级二班"):
    return Illness(pupil, cls, f"2026-12-0{day}", frozenset(symptoms or ("fever",)))


def test_two_pupils_in_a_day_are_not_a_cluster_three_are():
    two = [ill("S1", 1), ill("S2", 1)]
    assert alerts(two, RULES, "2026-12-01") == []
    (a,) = alerts([*two, ill("S3", 1)], RULES, "2026-12-01")
    assert (a.rule, a.class_name, a.symptom, a.raised, a.pupils) == (
        "same-day", "三年级二班", "fever", "2026-12-01", ("S1", "S2", "S3"))


def test_four_over_three_days_are_not_a_cluster_five_are_on_the_day_the_fifth_falls_ill():
    four = [ill("S1", 1), ill("S2", 2), ill("S3", 3), ill("S4", 3, "cough", "fever")]
    assert alerts(four, RULES, "2026-12-03") == []
    five = [*four, ill("S5", 3, "fever")]
    assert alerts(five, RULES, "2026-12-02") == []  # not before day 3
    found = alerts(five, RULES, "2026-12-03")
    assert [(a.rule, a.first_day, a.raised, len(a.pupils)) for a in found] == [
        ("same-day", "2026-12-03", "2026-12-03", 3), ("window", "2026-12-01", "2026-12-03", 5)]


def test_five_spread_over_four_days_other_classes_or_other_symptoms_do_not_add_up():
    spread = [ill("S1", 1), ill("S2", 2), ill("S3", 2), ill("S4", 4), ill("S5", 4)]
    assert alerts(spread, RULES, "2026-12-04") == []
    mixed = [ill("S1", 1), ill("S2", 1, cls="三年级三班"), ill("S3", 1, "rash")]
    assert alerts(mixed, RULES, "2026-12-01") == []


def test_the_numbers_are_the_configs():
    strict = Rules(same_day=2, window_days=2, window_pupils=3)
    assert [a.rule for a in alerts([ill("S1", 1), ill("S2", 1)], strict, "2026-12-01")] == ["same-day"]
    assert Config().cluster_same_day == 3 and Config().cluster_window_pupils == 5 and Config().cluster_window_days == 3


def case(pupil, reason, outcome=None, symptoms=(), onset=None, day="2026-12-01"):
    return Case(f"c-{pupil}", pupil, "三年级二班", day, "morning", reason, None, 0.0, outcome, symptoms, onset)


def test_what_counts_a_confirmed_fever_and_symptoms_on_closing_not_a_false_alarm():
    found = illnesses([case("S1", CaseReason.FEVER), case("S2", CaseReason.ABSENT, Outcome.SICK_LEAVE, ("cough",),
                                                        onset="2026-11-30"),
                       case("S3", CaseReason.FEVER, Outcome.FALSE_ALARM), case("S4", CaseReason.ABSENT)])
    assert [(i.entrant_id, i.day, sorted(i.symptoms)) for i in found] == [
        ("S1", "2026-12-01", ["fever"]), ("S2", "2026-11-30", ["cough"])]


def test_an_alert_stays_on_the_duty_screen_for_the_window_then_goes():
    found = alerts([ill("S1", 1), ill("S2", 1), ill("S3", 1)], RULES, "2026-12-09")
    assert active(found, RULES, "2026-12-03") == found and active(found, RULES, "2026-12-04") == []


@given(st.lists(st.tuples(st.sampled_from(["S1", "S2", "S3", "S4", "S5", "S6"]), st.integers(1, 7),
                          st.sampled_from(["A", "B"]), st.sampled_from(["fever", "cough"])), max_size=30))
def test_an_alert_is_raised_exactly_when_a_rule_is_met(rows):
    ill_ = [Illness(p, c, f"2026-12-0{d}", frozenset({s})) for p, d, c, s in rows]
    found = alerts(ill_, RULES, "2026-12-07")
    for cls in "AB":
        for s in ("fever", "cough"):
            days = {d: {p for p, dd, c, ss in rows if dd == d and c == cls and ss == s} for d in range(1, 8)}
            same = any(len(v) >= 3 for v in days.values())
            window = any(len(set().union(*(days[x] for x in range(d - 2, d + 1) if x >= 1))) >= 5
                         for d in range(1, 8))
            assert same == any(a.rule == "same-day" and a.class_name == cls and a.symptom == s for a in found)
            assert window == any(a.rule == "window" and a.class_name == cls and a.symptom == s for a in found)


# -- over a real log --------------------------------------------------------------------------------------------------
ROSTER = "id,name,class,kind\n" + "".join(f"S{i},学生{i},三年级二班,pupil\n" for i in range(1, 6))


def test_gate_report_alerts_and_the_daily_report_name_the_cluster(db_path, capsys, monkeypatch):
    day1 = time.mktime((2026, 12, 1, 7, 0, 0, 0, 0, -1))
    clock = Clock(day1)
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        station = Station(Config(), log, clock=clock)
        for pupil in ("S1", "S2", "S3"):  # three fevers confirmed at the gate in one morning
            for v in (38.6, 38.7):
                station.screen([Reading(object_c=v, source="manual")], MaskResult(MaskState.YES), entrant_id=pupil)
        assert len(cases.listed(log)) == 3
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["report", "alerts", "--date", "2026-12-01", "--json", "--db", str(db_path)]) == 0
    (alert,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (alert["rule"], alert["class"], alert["pupils"]) == ("same-day", "三年级二班", ["S1", "S2", "S3"])
    assert main(["report", "alerts", "--date", "2026-11-30", "--db", str(db_path)]) == 0
    assert "no cluster alert" in capsys.readouterr().out
    assert main(["report", "daily", "--date", "2026-12-01", "--json", "--db", str(db_path)], clock=lambda: day1 + 3600) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clusters"][0]["pupils"] == ["S1", "S2", "S3"] and report["zero_report"] is False
    assert report["cases"]["opened"] == 3 and report["sessions"]["morning"]["seen"] == 3
    assert report["sessions"]["morning"]["expected"] == 5
