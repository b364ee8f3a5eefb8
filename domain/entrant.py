"""Who comes through the gate: pupils, staff and registered visitors."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class EntrantKind(str, enum.Enum):
    PUPIL = "pupil"
    STAFF = "staff"
    VISITOR = "visitor"


@dataclass(frozen=True)
class Entrant:
    """A person on the school's roster (or a registered visitor)."""

    roster_id: str
    name: str
    group: str = ""  # class for pupils, department for staff
    kind: EntrantKind = EntrantKind.PUPIL
