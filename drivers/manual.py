"""Manual readings typed by staff from a handheld or clinical thermometer: a first-class, audited source."""
from __future__ import annotations

import math
import re
import time

from domain.identifiers import ID_MAX, IdentifierError, check_id, check_text
from domain.reasons import ManualReason
from domain.temperature import judged, shown_c
from drivers.base import MANUAL, Reading
from domain.errors import UsageError

MANUAL_RANGE_C = (30.0, 45.0)

# Any sensible decimal (a thermometer showing 37.2949 is typed as shown); the policy judges it at two decimals and
# domain.temperature shows it so the text never contradicts the decision.
_NUMBER = re.compile(r"^\s*([+-]?\d{1,3}(?:[.,]\d{1,8})?)\s*(°?\s*[cCfF])?\s*$")


# What a card scanner types into the temperature field: a letter somewhere, or a long run of digits; no space, no
# decimal mark. A typed temperature (36.6, 36,6, 97.9F, 366 with the point missed, -36) never looks like this.
_SCANNED = re.compile(r"^(?=.*[^\W\d_])[^\s.,]+$|^\d{5,}$")
_NUMBER_WITH_UNIT = re.compile(r"^\d{1,3}\s*°?\s*[cCfF]$")


def scanned_id(text: str) -> str | None:
    """The entrant id a card scanner typed into a temperature field (``S00042``, ``20230417``), or None when the text
    is (or is meant as) a temperature: ``36.6``, ``366``, ``37C``. Never raises."""
    value = str(text).strip()
    if not _SCANNED.match(value) or _NUMBER_WITH_UNIT.match(value):
        return None
    try:
        return check_id(value, "entrant id")
    except IdentifierError:
        return None


class ManualEntryError(UsageError):
    """The typed temperature was refused; the message says what was wrong and what to type instead.

    ``code`` and ``args`` name the same message in the station's catalogues (``manual_error.<code>``), so the duty
    screen's form says it in the language on screen; ``str()`` stays the English line the command line prints."""

    def __init__(self, message: str, code: str = "invalid", **args: object):
        super().__init__(message)
        self.code, self.args_for_text = code, args


def parse_temperature(text: str, *, allow_range: tuple[float, float] = MANUAL_RANGE_C) -> tuple[float, str]:
    """Parse ``36.6``, ``36,6``, ``36.6C``, ``97.9F`` into (degrees Celsius, unit typed).

    Fahrenheit only with an explicit F: a bare 98.6 is refused as out of range rather than guessed.
    """
    if text is None or not str(text).strip():
        raise ManualEntryError("no temperature entered: type the value shown on the thermometer, e.g. 36.6", "empty")
    m = _NUMBER.match(str(text))
    if not m:
        typed = str(text).strip()[:20]
        raise ManualEntryError(
            f"'{typed}' is not a temperature: type a number like 36.6 (add F for Fahrenheit)", "not-a-number",
            typed=typed)
    value = float(m.group(1).replace(",", "."))
    unit = (m.group(2) or "C").strip().lstrip("°").strip().upper()
    if not math.isfinite(value):
        raise ManualEntryError("the temperature must be a finite number, e.g. 36.6", "not-finite")
    celsius = round((value - 32.0) * 5.0 / 9.0, 2) if unit == "F" else value
    lo, hi = allow_range
    if not (judged(lo) <= judged(celsius) <= judged(hi)):
        shown = f"{value:g} °F = {shown_c(celsius, lo, hi)}" if unit == "F" else f"{value:g} °C"
        fahrenheit_hint = unit == "C" and value > hi  # 98.6 typed without its F
        raise ManualEntryError(
            f"{shown} is outside {lo:g}–{hi:g} °C: check the thermometer and type the value again"
            + (" (for Fahrenheit add F, e.g. 98.1F)" if fahrenheit_hint else ""),
            "out-of-range-f" if fahrenheit_hint else "out-of-range", shown=shown, lo=f"{lo:g}", hi=f"{hi:g}")
    return celsius, unit


def manual_reading(
    text: str,
    *,
    operator: str,
    device_id: str = "handheld",
    reason: str = ManualReason.OTHER,
    ts: float | None = None,
) -> Reading:
    """A Reading from what staff typed; raises ManualEntryError with a message for the operator."""
    try:
        reason = ManualReason(reason)
    except ValueError:
        raise ManualEntryError(f"reason '{reason}' is not one of {', '.join(ManualReason)}") from None
    if not operator or not operator.strip():
        raise ManualEntryError("a manual reading needs the operator's name")
    try:
        operator = check_text(operator, "operator", max_len=ID_MAX)
        device_id = check_id(device_id, "thermometer id")
    except IdentifierError as exc:
        raise ManualEntryError(str(exc)) from None
    celsius, unit = parse_temperature(text)
    return Reading(
        object_c=celsius,
        body_c=celsius,
        source=MANUAL,
        operator=operator,
        device_id=device_id,
        manual_reason=reason,
        unit_entered=unit,
        ts=time.time() if ts is None else ts,
    )
