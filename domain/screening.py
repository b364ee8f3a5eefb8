"""The decision at the gate: Decision, MaskResult and Screening, one decision about one person."""
from __future__ import annotations

import enum
import time
import uuid

import msgspec

from domain.reading import Reading


class Decision(str, enum.Enum):
    ADMIT = "admit"
    DENY = "deny"
    RETEST = "retest"


class MaskState(str, enum.Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


# MaskResult and Screening are frozen msgspec Structs, as domain.reading.Reading is (it says why).
class MaskResult(msgspec.Struct, frozen=True):
    """What the mask check concluded; ``source`` says who: the camera, staff (with operator) or the command line."""

    state: MaskState = MaskState.UNKNOWN
    score: float | None = None
    source: str = "none"
    operator: str | None = None

    def to_dict(self) -> dict:
        return {"state": self.state.value, "score": self.score, "source": self.source, "operator": self.operator}

    @classmethod
    def from_dict(cls, d: dict) -> "MaskResult":
        return cls(MaskState(d.get("state", "unknown")), d.get("score"), d.get("source", "none"), d.get("operator"))


def new_id() -> str:
    return str(uuid.uuid4())


class Screening(msgspec.Struct, frozen=True):
    """One decision about one person at the gate, with everything it was based on.

    A retest is a new Screening that ``follows`` the first one and carries both readings.
    """

    station_id: str
    readings: tuple[Reading, ...]
    mask: MaskResult
    decision: Decision
    reasons: tuple[str, ...]
    message: str
    threshold_c: float
    entrant_id: str | None = None
    operator: str | None = None
    follows: str | None = None
    id: str = msgspec.field(default_factory=new_id)
    created_at: float = msgspec.field(default_factory=time.time)
    session: str | None = None  # the check of the day it belongs to (morning, noon ...), None outside every window

    @property
    def reading(self) -> Reading | None:
        return self.readings[-1] if self.readings else None

    @property
    def temperature_c(self) -> float | None:
        r = self.reading
        return None if r is None else r.value_c

    def content(self) -> dict:
        """The canonical content that the log stores and hashes."""
        return {
            "id": self.id,
            "station_id": self.station_id,
            "created_at": round(self.created_at, 6),
            "entrant_id": self.entrant_id,
            "operator": self.operator,
            "follows": self.follows,
            "decision": self.decision.value,
            "reasons": list(self.reasons),
            "message": self.message,
            "threshold_c": self.threshold_c,
            "mask": self.mask.to_dict(),
            "readings": [r.to_dict() for r in self.readings],
            # Only when there is one: a screening stored before sessions existed keeps the content it was hashed with
            **({"session": self.session} if self.session is not None else {}),
        }

    @classmethod
    def from_content(cls, d: dict) -> "Screening":
        return cls(
            id=d["id"],
            station_id=d["station_id"],
            created_at=d["created_at"],
            entrant_id=d.get("entrant_id"),
            operator=d.get("operator"),
            follows=d.get("follows"),
            decision=Decision(d["decision"]),
            reasons=tuple(d.get("reasons", ())),
            message=d.get("message", ""),
            threshold_c=d["threshold_c"],
            mask=MaskResult.from_dict(d.get("mask", {})),
            readings=tuple(Reading.from_dict(r) for r in d.get("readings", ())),
            session=d.get("session"),
        )
