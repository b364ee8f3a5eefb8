"""How a temperature is judged against a limit and how it is shown, so that the two never disagree.

The policy judges a value at two decimals (``judged``): float noise such as 37.29999999 must not decide a fever.
``shown_c`` is the one way a temperature becomes text (CLI, duty screen, auditor table, spoken messages): one decimal
as usual, but never on the other side of a limit from the judged value. 37.27 °C against a 37.3 °C threshold is
admitted, so it is shown as "37.27 °C", not "37.3 °C"; a reader comparing the text with the threshold reaches the
station's decision.
"""
from __future__ import annotations

import math

NO_VALUE = "—"


def judged(value: float) -> float:
    """The value the policy compares with its limits: two decimals (a sensor resolves 0.01–0.02 °C at best)."""
    return round(value, 2)


def at_or_above(value: float, limit: float) -> bool:
    """The fever rule's comparison: at or above the threshold, both judged at two decimals."""
    return judged(value) >= judged(limit)


def _side(value: float, limit: float) -> int:
    return (value > limit) - (value < limit)


def shown_c(value: float | None, *limits: float, unit: bool = True) -> str:
    """``value`` as text with one decimal, or two where one would put it on the other side of (or onto) a limit.

    Every limit keeps its three-way comparison (below, equal, above) between the judged value and the text, so both
    "at or above the threshold" and "above the plausible maximum" read the same from the text as in the decision.
    """
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return NO_VALUE
    v = judged(value)
    text = f"{v:.1f}"
    shown = float(text)
    if any(_side(shown, judged(lim)) != _side(v, judged(lim)) for lim in limits):
        text = f"{v:.2f}"  # the judged value itself: exact at two decimals, so on the same side of every limit
    return f"{text} °C" if unit else text
