"""The example config `gate config example` prints: the defaults of the schema, a comment on every key."""
from __future__ import annotations

from domain.tolerances import BODY_SITE_OFFSET_RANGE_C
from drivers.registry import PROTOCOLS
from gate.config import Config, SensorConfig
from gate.i18n import LANGUAGES
from gate.policy import MASK_MODES, THRESHOLD_RANGE


def example() -> str:
    """An example config: the defaults, a comment on every key (`gate config example`)."""
    d = Config()
    s = SensorConfig(id="gun-1", protocol=PROTOCOLS[0], url="/dev/ttyUSB0")
    lo, hi = THRESHOLD_RANGE
    return f"""\
# gate-station configuration
[station]
id = "north-gate-1"        # unique per station; appears in every record (at most 64 characters, no spaces)
gate = "North gate"
language = "{d.language}"         # {' or '.join(LANGUAGES)}
# db = "/var/lib/gate-station/gate.db"   # default: the per-user data directory
# key_file = "/var/lib/gate-station/gate.db.key"   # the station key (0600); default: beside the log as <db>.key

[screening]
threshold_c = {d.threshold_c}         # {lo}-{hi} in 0.1 steps; below plausible_max_c, above plausible_min_c
mask_mode = "{d.mask_mode}"    # {', '.join(MASK_MODES)}
deny_bell = {str(d.deny_bell).lower()}

[[sensors]]
id = "{s.id}"
protocol = "{s.protocol}"   # {', '.join(PROTOCOLS)}
url = "{s.url}"       # or /dev/serial/by-id/..., socket://host:port, rfc2217://host:port
baud = 9600
ambient_min_c = {s.ambient_min_c}
ambient_max_c = {s.ambient_max_c}
# trigger = "each-reading"  # a handheld gun: every reading is one person (default "presence")
# warmup_s = 1800           # thermal imagers: readings count as invalid until warmed up
# modbus-ir: slave = 1, register_map = "omega" | "calex";  optris-ct: address = 0..15 (RS-485)
# text-line: pattern = "melexis" | "arduino" | "simple" | a regex with (?P<object>...) and (?P<ambient>...)
# No gain/offset here: corrections come only from a blackbody calibration (gate calibrate).

[school]
# id = "school-12"         # the same for every gate of one school (default: the station's own id)
# name = "第十二小学"
# absence_cases = "this-gate"   # one gate; with several: "school" on the gate that keeps the cases (it asks the
                                # upstream who was seen at the others, so sync them), "off" on the others
# gates = 2                # the school's gates (default: the bureau's count); unknown: no zero report, provisional

# The checks of the day; a screening in a window belongs to that session (start included, end excluded).
[[sessions]]
name = "morning"
label_zh = "晨检"
label_en = "morning check"
start = "06:30"
end = "08:30"
[[sessions]]
name = "noon"
label_zh = "午检"
label_en = "noon check"
start = "12:30"
end = "14:00"
# Boarders: a third table, name = "evening", label_zh = "晚检", start = "18:30", end = "19:30"

[clusters]
same_day_pupils = {d.cluster_same_day}         # pupils of one class with similar symptoms on one day: report within 24 h
window_days = {d.cluster_window_days}             # ... or this many pupils within this many consecutive days
window_pupils = {d.cluster_window_pupils}

[upstream]
url = ""                   # e.g. postgresql://gate@district-db/screening (no password here: ~/.pgpass or PGPASSFILE)
share_roster = false       # true: ids, names and classes go upward too (the school's own server, for its report)
lock_wait_s = {d.upstream_lock_wait_s:g}           # seconds the sync waits for a table another session holds (0.5-600), then says who and tries next round
make_day_wait_s = {d.upstream_make_day_wait_s:g}        # an owner's sync making a day waits this long, then sends its rows to the default partition

[retention]
screening_days = {d.retention_days}        # screenings older than this are deleted by `gate purge` (once synced upstream)
audit_days = {d.audit_retention_days}

[calibration]
required = {str(d.calibration_required).lower()}           # true: a sensor without a passing blackbody calibration is not used
interval_days = {d.calibration_interval_days:g}         # a calibration is due again after this long; overdue sensors are locked out
warn_days = {d.calibration_warn_days:g}              # the duty screen warns this many days before
tolerance_c = {d.calibration_tolerance_c}
max_correction_c = {d.calibration_max_correction_c}     # a calibration moving a 37 °C reading further than this is refused
body_site_offset_c = {d.body_site_offset_c}   # skin to core, 0 to +{BODY_SITE_OFFSET_RANGE_C[1]}, added after the calibration

[security]
lockout_failures = {d.security.lockout_failures}      # wrong PINs in a row before a user is locked
lockout_minutes = {d.security.lockout_minutes:g}
idle_logout_minutes = {d.security.idle_logout_minutes:g}    # the duty screen signs the operator out after this long without a key
"""
