"""The screening policy: readings + mask result -> decision, reason codes and a message. Pure: no I/O, no clock.

Rules (see README, "Screening policy"):
- a valid reading at or above the threshold gives RETEST; a second linked valid reading also at or above it gives DENY
  (fever confirmed); a second one below it gives ADMIT with both readings kept;
- an invalid reading never admits: implausible body value, ambient outside the sensor's range, a sensor that is not OK,
  a calibration that is overdue or locked out, or no reading at all give RETEST with the reason spelled out;
- mask modes: must-wear (no mask -> DENY, unknown -> RETEST until staff confirm), reminder (admit, reminded), off.
The most severe outcome wins (DENY > RETEST > ADMIT); every reason found is kept.
"""
from __future__ import annotations

import math
from typing import Sequence

import msgspec

from domain import AMBIENT_RANGE_C, Decision, Health, MaskResult, MaskState, Reading, Reason
from domain.temperature import at_or_above, judged, shown_c
from gate.i18n import t

MASK_MODES = ("must-wear", "reminder", "off")
THRESHOLD_RANGE = (34.0, 39.0)
# The built-in policy (gate.config declares the same keys for the config file with these defaults).
THRESHOLD_C = 37.3
PLAUSIBLE_C = (34.0, 43.0)
MASK_MODE = "must-wear"
# How long a person rests inside before a retest (the duty screen's countdown, and what the message tells them).
RETEST_WAIT_MINUTES = 10.0

_SEVERITY = {Decision.ADMIT: 0, Decision.RETEST: 1, Decision.DENY: 2}
_HEALTH_REASON = {
    Health.FAULT: Reason.SENSOR_FAULT,
    Health.OFFLINE: Reason.SENSOR_OFFLINE,
    Health.WARMING: Reason.SENSOR_WARMING,
    Health.DEGRADED: Reason.SENSOR_DEGRADED,
}


# PolicyConfig and Verdict are frozen msgspec Structs (msgspec reads the config already): built in C when the module
# loads, where a frozen dataclass compiles six methods from source (~4 M instructions each, bench/cli_startup.py).
class PolicyConfig(msgspec.Struct, frozen=True):
    """The rules one decision is made by: the threshold, the plausible body range, the sensor's ambient range and
    the mask mode. An impossible combination is refused when it is made (ValueError)."""

    threshold_c: float = THRESHOLD_C
    plausible_min_c: float = PLAUSIBLE_C[0]
    plausible_max_c: float = PLAUSIBLE_C[1]
    ambient_min_c: float = AMBIENT_RANGE_C[0]
    ambient_max_c: float = AMBIENT_RANGE_C[1]
    mask_mode: str = MASK_MODE

    def __post_init__(self) -> None:
        lo, hi = THRESHOLD_RANGE
        if not (lo <= self.threshold_c <= hi) or abs(self.threshold_c * 10 - round(self.threshold_c * 10)) > 1e-6:
            raise ValueError(f"threshold {self.threshold_c} must be within {lo}–{hi} °C in 0.1 steps")
        if self.mask_mode not in MASK_MODES:
            raise ValueError(f"mask mode {self.mask_mode!r} must be one of {', '.join(MASK_MODES)}")
        if not self.plausible_min_c < self.plausible_max_c or not self.ambient_min_c < self.ambient_max_c:
            raise ValueError("range minimum must be below its maximum")


class Verdict(msgspec.Struct, frozen=True):
    """A decision with every reason code found and the message shown."""

    decision: Decision
    reasons: tuple[str, ...]
    message: str


def reading_problems(r: Reading, cfg: PolicyConfig) -> list[tuple[str, dict]]:
    """Why a reading cannot be trusted (empty when it can), as (reason code, message arguments)."""
    value = r.value_c
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [(Reason.INVALID_VALUE, {})]
    problems: list[tuple[str, dict]] = []
    if not r.is_manual:
        if r.health is not Health.OK:
            problems.append((_HEALTH_REASON[r.health], {"detail": r.health_reason or r.health.value}))
        if not r.calibration_ok:
            problems.append((Reason.CALIBRATION_OVERDUE, {}))
        if r.ambient_c is not None and math.isfinite(r.ambient_c):
            if judged(r.ambient_c) < judged(cfg.ambient_min_c):
                problems.append((Reason.AMBIENT_TOO_COLD, {"ambient": shown_c(r.ambient_c, cfg.ambient_min_c, unit=False)}))
            elif judged(r.ambient_c) > judged(cfg.ambient_max_c):
                problems.append((Reason.AMBIENT_TOO_HOT, {"ambient": shown_c(r.ambient_c, cfg.ambient_max_c, unit=False)}))
        elif r.ambient_c is not None:
            problems.append((Reason.SENSOR_DEGRADED, {"detail": "ambient not a number"}))
    if any(Reason(code).is_ambient for code, _ in problems):
        # The ambient reason already says what to do; "unreliable sensor" would only repeat it less clearly.
        problems = [p for p in problems if p[0] != Reason.SENSOR_DEGRADED]
    if judged(value) < judged(cfg.plausible_min_c):
        problems.append((Reason.READING_TOO_LOW, {"value": shown_c(value, cfg.plausible_min_c, unit=False)}))
    elif judged(value) > judged(cfg.plausible_max_c):
        problems.append((Reason.READING_TOO_HIGH, {"value": shown_c(value, cfg.plausible_max_c, unit=False)}))
    return problems


def _shown(value: float, threshold: float) -> dict:
    """Message arguments: the reading and the threshold as text that agrees with the decision."""
    return {"value": shown_c(value, threshold, unit=False), "threshold": shown_c(threshold, unit=False)}


def _temperature(readings: Sequence[Reading], cfg: PolicyConfig) -> tuple[Decision, list[tuple[str, dict]]]:
    if not readings:
        return Decision.RETEST, [(Reason.NO_READING, {})]
    latest = readings[-1]
    th = cfg.threshold_c
    earlier_high = [
        r for r in readings[:-1] if not reading_problems(r, cfg) and at_or_above(r.value_c, th)
    ]
    problems = reading_problems(latest, cfg)
    if problems:
        if earlier_high:  # still a suspected fever: keep saying so
            problems.append((Reason.FEVER_SUSPECTED, _shown(earlier_high[-1].value_c, th)))
        return Decision.RETEST, problems
    value = latest.value_c
    if at_or_above(value, th):
        if earlier_high:
            return Decision.DENY, [(Reason.FEVER_CONFIRMED, _shown(value, th))]
        return Decision.RETEST, [(Reason.FEVER_SUSPECTED, _shown(value, th))]
    if earlier_high:
        return Decision.ADMIT, [(Reason.RETEST_NORMAL, {})]
    return Decision.ADMIT, [(Reason.NORMAL, {})]


def _mask(mask: MaskResult, cfg: PolicyConfig) -> tuple[Decision, list[tuple[str, dict]]]:
    if cfg.mask_mode == "off" or mask.state is MaskState.YES:
        return Decision.ADMIT, []
    if cfg.mask_mode == "reminder":
        return Decision.ADMIT, [(Reason.MASK_REMINDER, {})]
    if mask.state is MaskState.NO:
        return Decision.DENY, [(Reason.NO_MASK, {})]
    return Decision.RETEST, [(Reason.MASK_UNCONFIRMED, {})]


def decide(readings: Sequence[Reading], mask: MaskResult, cfg: PolicyConfig, lang: str = "en",
           entrant_problem: str | None = None, refusals: Sequence[tuple[str, dict]] = (),
           wait_minutes: float = RETEST_WAIT_MINUTES) -> Verdict:
    """Decide for one person from all readings of this screening episode (oldest first) and the mask result.

    ``entrant_problem`` is a reason code about the person's id (``visitor-not-approved``): it denies entry.
    ``refusals`` are what the station remembers of the person (``fever-not-cleared`` with its message arguments):
    they deny entry and are said first, since they are why the person goes home whatever today's reading.
    ``wait_minutes``: the rest before a retest that the message tells the person (the station's configured wait).
    """
    t_dec, t_reasons = _temperature(readings, cfg)
    m_dec, m_reasons = _mask(mask, cfg)
    decision = max((t_dec, m_dec), key=_SEVERITY.__getitem__)
    reasons = t_reasons + m_reasons
    if refusals:
        decision = Decision.DENY
        reasons = list(refusals) + reasons
    if entrant_problem:
        decision = Decision.DENY
        reasons = reasons + [(entrant_problem, {})]
    spoken = reasons
    if decision is not Decision.ADMIT:
        # The person at the gate needs to hear what stops them, not that their temperature was fine.
        spoken = [r for r in reasons if r[0] not in (Reason.NORMAL, Reason.RETEST_NORMAL)]
    if refusals:
        # Sent home whatever today's reading or mask: "rest, then retest" or "confirm the mask" would contradict it.
        spoken = [r for r in spoken if r in refusals or r[0] == entrant_problem]
    message = " ".join(t(f"reason.{code}", lang, **{"minutes": f"{wait_minutes:g}", **args}) for code, args in spoken)
    return Verdict(decision, tuple(code for code, _ in reasons), message)
