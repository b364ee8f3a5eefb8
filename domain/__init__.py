"""The school's words, at the bottom of the house: readings, screenings, entrants, reason codes, calibration records,
clearances.

Imports nothing of the project; drivers, storage, the station and the UI all point down to it.
"""
from domain.calibration import DEFAULT_MAX_CORRECTION_C, DEFAULT_TOLERANCE_C, CalibrationRecord, Point
from domain.clearance import Clearance
from domain.entrant import Entrant, EntrantKind
from domain.reading import AMBIENT_RANGE_C, MANUAL, Health, Reading
from domain.reasons import ManualReason, Reason
from domain.screening import Decision, MaskResult, MaskState, Screening, new_id

__all__ = [
    "AMBIENT_RANGE_C", "DEFAULT_MAX_CORRECTION_C", "DEFAULT_TOLERANCE_C", "CalibrationRecord", "Point", "Clearance",
    "Entrant", "EntrantKind", "MANUAL", "ManualReason", "Health", "Reading", "Reason", "Decision", "MaskResult", "MaskState", "Screening",
    "new_id",
]
