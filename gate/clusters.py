"""Cluster alerts (聚集性病例): the school reports within 24 hours when one class has 3 pupils ill with similar
symptoms on one day, or 5 or more within 3 consecutive days (the numbers are the config's `[clusters]`).

Pure: the illnesses come in as ``Illness`` records (from follow-up cases: the symptoms recorded on closing, and every
confirmed fever at the gate, which counts as a fever), the day is given. Similar symptoms = one symptom in common:
the alert names the class, the symptom, the days and the pupils.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable

from domain.case import Case, CaseReason, Outcome
from domain.cluster_bounds import CLUSTER_BOUNDS
from domain.identifiers import class_key


@dataclass(frozen=True)
class Illness:
    """One pupil ill on one day with these symptoms."""

    entrant_id: str
    class_name: str
    day: str
    symptoms: frozenset[str]


BOUNDS = CLUSTER_BOUNDS  # what `[clusters]` accepts: the config and the numbers a gate sends upward


@dataclass(frozen=True)
class Rules:
    """The numbers of the cluster rule (`[clusters]`), with the defaults the school's guidance gives."""

    same_day: int = 3  # pupils of one class, one symptom, one day
    window_days: int = 3  # ... or this many consecutive days
    window_pupils: int = 5  # ... with this many pupils

    def to_dict(self) -> dict:
        return {"same_day_pupils": self.same_day, "window_days": self.window_days,
                "window_pupils": self.window_pupils}

    def text(self) -> str:
        return f"{self.same_day} a day, or {self.window_pupils} within {self.window_days} days"

    @classmethod
    def sent(cls, numbers: tuple | None) -> "Rules | None":
        """The rules from the numbers a gate sent upward (same_day_pupils, window_days, window_pupils), or None when
        they are not numbers `[clusters]` would accept (a report edited or from another program)."""
        if numbers is None or len(numbers) != 3:
            return None
        for value, bound in zip(numbers, BOUNDS.values()):
            if not isinstance(value, int) or isinstance(value, bool) or not bound["ge"] <= value <= bound["le"]:
                return None
        return cls(*numbers)


@dataclass(frozen=True)
class Alert:
    """A cluster: ``rule`` is "same-day" or "window"; raised on ``raised`` (the day the rule was first met)."""

    rule: str
    class_name: str
    symptom: str
    first_day: str
    raised: str
    pupils: tuple[str, ...]

    def line(self) -> str:
        days = self.raised if self.first_day == self.raised else f"{self.first_day}–{self.raised}"
        return (f"⚠ 聚集性病例 cluster: {self.class_name} {len(self.pupils)} pupils with {self.symptoms_text()} "
                f"({days})")

    def symptoms_text(self) -> str:
        return self.symptom

    def to_dict(self) -> dict:
        return {"rule": self.rule, "class": self.class_name, "symptom": self.symptom, "first_day": self.first_day,
                "raised": self.raised, "pupils": list(self.pupils), "count": len(self.pupils)}


def illnesses(cases: Iterable[Case]) -> list[Illness]:
    """What counts: a case closed with symptoms (not a false alarm), on its onset day (else the case's day); a
    confirmed fever at the gate counts as a fever on its day until its case says it was a false alarm."""
    out = []
    for c in cases:
        if c.outcome is Outcome.FALSE_ALARM:
            continue
        symptoms = set(c.symptoms)
        if c.reason is CaseReason.FEVER:
            symptoms.add("fever")
        if symptoms:
            out.append(Illness(c.entrant_id, c.class_name, c.onset or c.day, frozenset(symptoms)))
    return out


def _day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def alerts(ill: Iterable[Illness], rules: Rules, until: str) -> list[Alert]:
    """Every cluster raised on or before ``until``: one alert per class, symptom and rule, on the first day met."""
    end = _day(until)
    by: dict[tuple[str, str], dict[datetime.date, set[str]]] = {}
    named: dict[str, str] = {}  # one class under two spellings (a case from an older roster) is one class
    for i in ill:
        d = _day(i.day)
        if d > end or not i.class_name:
            continue
        cls = named.setdefault(class_key(i.class_name), i.class_name)
        for s in i.symptoms:
            by.setdefault((cls, s), {}).setdefault(d, set()).add(i.entrant_id)
    found = []
    for (cls, symptom), days in sorted(by.items()):
        same = next((d for d in sorted(days) if len(days[d]) >= rules.same_day), None)
        if same is not None:
            found.append(Alert("same-day", cls, symptom, same.isoformat(), same.isoformat(),
                               tuple(sorted(days[same]))))
        for d in sorted(days):  # the first window (ending on a day with a case) that holds enough pupils
            start = d - datetime.timedelta(days=rules.window_days - 1)
            pupils = set().union(*(p for day, p in days.items() if start <= day <= d))
            if len(pupils) >= rules.window_pupils:
                first = min(day for day in days if start <= day <= d)
                found.append(Alert("window", cls, symptom, first.isoformat(), d.isoformat(), tuple(sorted(pupils))))
                break
    return sorted(found, key=lambda a: (a.raised, a.class_name, a.symptom, a.rule))


def active(found: list[Alert], rules: Rules, day: str) -> list[Alert]:
    """The alerts to show on ``day``: raised within the last ``window_days`` days."""
    d = _day(day)
    return [a for a in found if d - datetime.timedelta(days=rules.window_days - 1) <= _day(a.raised) <= d]
