"""The calendar days the commands take: ``--date`` and the day argument type, with the calendar's range every command
shares, and the rule that a report is of a day that has happened. Apart from gate.cli.common: `gate screen` takes no
day, and the bureau's app checks a typed day with the same rule."""
from __future__ import annotations

import argparse
import datetime

from domain.errors import UsageError


# Days a screening can be on, with room for a week's trend and the next day's midnight: a day at the calendar's edge
# (0001-01-01, 9999-12-31) has no local timestamp or no next day, so it is refused here, once, for every command.
FIRST_DAY, LAST_DAY = datetime.date(1900, 1, 1), datetime.date(9998, 12, 31)


def day(text: str) -> str:
    """A YYYY-MM-DD date (argument type)."""
    try:
        when = datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None
    if len(text) != 10:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD")
    if not FIRST_DAY <= when <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: use a day from {FIRST_DAY} to {LAST_DAY}")
    return text


def not_after_today(on: str, now: float) -> str:
    """``on`` (YYYY-MM-DD), refused when it is after the local day of ``now``, as an onset after today is: a mistyped
    year (2099) would otherwise be a zero report of a day nobody has seen yet, stored and sent upward."""
    today = datetime.date.fromtimestamp(now)
    if datetime.date.fromisoformat(on) > today:
        raise UsageError(f"--date {on} is after today ({today.isoformat()}): a report is of a day that has happened, "
                         "today or before; nothing was reported")
    return on


def date_option(p: argparse.ArgumentParser, help: str = "YYYY-MM-DD (default: today)", **kw) -> None:
    """--date: one calendar day, checked by ``day`` (its format and the calendar's range)."""
    p.add_argument("--date", type=day, help=help, **kw)
