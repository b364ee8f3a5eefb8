"""A hold: a gate of the school holds back a record about a pupil because it was changed in that gate's own file (the
sync refused to send it). Until an auditor at that gate lifts it, every gate of the school refuses the pupil: the
record may have been what sent them home (a close with a fever edited into a false alarm), and nobody can say."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hold:
    gate: str  # the gate that holds the record back
    since: float  # when its sync refused to send it
    kind: str  # screening | case | clearance
    record_id: str
