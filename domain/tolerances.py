"""A calibration's tolerances and limits: what the config checks and the calibration rules both use.

Apart from the records (domain.calibration) so that reading a config, which every command does, does not build the
record classes a typed reading never uses (`gate screen`'s start-up, bench/cli_startup.py).
"""
DEFAULT_TOLERANCE_C = 0.3
DEFAULT_INTERVAL_DAYS = 30.0  # a calibration is due again after this long
DEFAULT_WARN_DAYS = 3.0
DEFAULT_GRACE_DAYS = 0.0
# The most a full calibration may move a 37 °C reading; more means a wrong set point, not a sensor to correct.
DEFAULT_MAX_CORRECTION_C = 1.0
MAX_CORRECTION_RANGE_C = (0.2, 3.0)  # what a school may configure: never a licence to move readings by degrees
# Skin to core: skin reads colder than the core, never warmer, so the offset is never negative (that only hides fevers).
BODY_SITE_OFFSET_RANGE_C = (0.0, 4.0)
