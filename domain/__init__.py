"""The school's words, at the bottom of the house: readings, screenings, entrants, reason codes, calibration records,
clearances.

Imports nothing of the project; drivers, storage, the station and the UI all point down to it. ``from domain import
Reading`` loads the module that defines the name on first use (PEP 562): `gate --help` needs only ``domain.errors``,
and loading every domain module (statistics, uuid, dataclasses) would be a third of its start-up
(bench/cli_startup.py).
"""
from __future__ import annotations

import importlib

# name -> the domain module that defines it
_HOME = {
    "CalibrationRecord": "calibration", "Point": "calibration", "DEFAULT_MAX_CORRECTION_C": "tolerances",
    "DEFAULT_TOLERANCE_C": "tolerances",
    "Clearance": "clearance",
    "Entrant": "entrant", "EntrantKind": "entrant",
    "Hold": "held",
    "AMBIENT_RANGE_C": "reading", "MANUAL": "reading", "Health": "reading", "Reading": "reading",
    "ManualReason": "reasons", "Reason": "reasons",
    "Decision": "screening", "MaskResult": "screening", "MaskState": "screening", "Screening": "screening",
    "new_id": "screening",
}
__all__ = list(_HOME)


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"domain.{home}"), name)
    globals()[name] = value  # the next look-up is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
