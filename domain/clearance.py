"""A clearance: the school's health officer (or an admin) saw a doctor's note and lets a person with a confirmed fever
back in. It clears one confirmed fever, named by the screening that confirmed it."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from domain.screening import new_id


@dataclass(frozen=True)
class Clearance:
    entrant_id: str
    fever_screening_id: str  # the screening that confirmed the fever this clears
    fever_at: float  # when that fever was confirmed
    note: str  # what the clearance rests on, e.g. "doctor's note, 2 Dec"
    cleared_by: str  # the signed-in user (or the login name on a station without users)
    role: str  # health | admin (or "" on a station without users)
    at: float
    station_id: str = ""
    id: str = field(default_factory=new_id)

    def content(self) -> dict:
        """What the clearance chain hashes."""
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.content(), ensure_ascii=False, sort_keys=True)
