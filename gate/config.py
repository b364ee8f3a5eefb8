"""The station's one TOML config file, validated with messages that name the key and the allowed values."""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.registry import DEFAULT_MODE, OPTIONS, PROTOCOLS
from gate.i18n import LANGUAGES
from gate.policy import MASK_MODES, THRESHOLD_RANGE, PolicyConfig
from domain.errors import UsageError

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class ConfigError(UsageError):
    """One or more problems in a config file; ``problems`` lists each with its key."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class SensorConfig:
    id: str
    protocol: str
    url: str
    baud: int | None = None
    mode: str | None = None  # None: the protocol's usual mode
    trigger: str = "presence"  # presence: a fixed sensor sees people come and go; each-reading: a handheld gun
    warmup_s: float = 0.0
    options: dict = field(default_factory=dict)  # protocol options: slave, register_map, address, pattern
    ambient_min_c: float = 10.0
    ambient_max_c: float = 40.0
    gain: float = 1.0
    offset_c: float = 0.0
    presence_margin_c: float = 4.0
    presence_frames: int = 3


@dataclass(frozen=True)
class Config:
    station_id: str = "gate-1"
    gate_name: str = "Main gate"
    language: str = "zh-CN"
    db: str | None = None
    threshold_c: float = 37.3
    plausible_min_c: float = 34.0
    plausible_max_c: float = 43.0
    mask_mode: str = "must-wear"
    deny_bell: bool = True
    retest_wait_minutes: float = 10.0
    sensors: tuple[SensorConfig, ...] = ()
    upstream_url: str | None = None
    retention_days: int = 30
    audit_retention_days: int = 365
    security: "Policy" = field(default_factory=lambda: _default_security())
    calibration_required: bool = False  # True: a sensor never calibrated counts as not usable
    calibration_interval_days: float = 30.0
    calibration_warn_days: float = 3.0
    calibration_grace_days: float = 0.0
    calibration_tolerance_c: float = 0.3
    body_site_offset_c: float = 0.0
    source: str = "<defaults>"
    extra: dict = field(default_factory=dict)

    def policy(self, sensor: SensorConfig | None = None) -> PolicyConfig:
        return PolicyConfig(
            threshold_c=self.threshold_c,
            plausible_min_c=self.plausible_min_c,
            plausible_max_c=self.plausible_max_c,
            ambient_min_c=sensor.ambient_min_c if sensor else 10.0,
            ambient_max_c=sensor.ambient_max_c if sensor else 40.0,
            mask_mode=self.mask_mode,
        )

    def sensor(self, sensor_id: str) -> SensorConfig | None:
        return next((s for s in self.sensors if s.id == sensor_id), None)


def _default_security():
    from gate.auth import Policy

    return Policy()


class _Reader:
    """Pulls typed values out of a TOML table, collecting every problem instead of stopping at the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems

    def get(self, table: dict, prefix: str, key: str, kind: type, default: Any, *, choices=None, lo=None, hi=None):
        name = f"{prefix}.{key}" if prefix else key
        if key not in table:
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"`{name}` must be {_kind_name(kind)}, not {value!r}")
            return default
        if kind is float and not math.isfinite(value):
            self.problems.append(f"`{name}` must be a finite number, not {value!r}")
            return default
        if choices is not None and value not in choices:
            self.problems.append(f"`{name}` is {value!r}; allowed: {', '.join(map(str, choices))}")
            return default
        if lo is not None and hi is not None and not (lo <= value <= hi):
            self.problems.append(f"`{name}` is {value!r}; allowed: {lo}–{hi}")
            return default
        return value


def _kind_name(kind: type) -> str:
    return {str: "text", float: "a number", int: "a whole number", bool: "true or false"}[kind]


_KNOWN = {
    "station": {"id", "gate", "language", "db"},
    "screening": {"threshold_c", "plausible_min_c", "plausible_max_c", "mask_mode", "deny_bell",
                  "retest_wait_minutes"},
    "sensors": {"id", "protocol", "url", "baud", "mode", "trigger", "warmup_s", "ambient_min_c", "ambient_max_c",
                "gain", "offset_c", "presence_margin_c", "presence_frames", "slave", "register_map", "address",
                "pattern"},
    "upstream": {"url"},
    "retention": {"screening_days", "audit_days"},
    "security": {"lockout_failures", "lockout_minutes", "idle_logout_minutes"},
    "calibration": {"required", "interval_days", "warn_days", "grace_days", "tolerance_c", "body_site_offset_c"},
}


def parse_config(data: dict, source: str = "<config>") -> Config:
    problems: list[str] = []
    r = _Reader(problems)
    for section in data:
        if section not in _KNOWN:
            problems.append(f"unknown section `[{section}]`; known: {', '.join(sorted(_KNOWN))}")

    def table(name: str) -> dict:
        value = data.get(name, {})
        if not isinstance(value, dict):
            problems.append(f"`{name}` must be a table `[{name}]`")
            return {}
        for key in value:
            if key not in _KNOWN[name]:
                problems.append(f"unknown key `{name}.{key}`; known: {', '.join(sorted(_KNOWN[name]))}")
        return value

    st, sc, up, ret = table("station"), table("screening"), table("upstream"), table("retention")
    sec = table("security")
    cal = table("calibration")
    threshold = r.get(sc, "screening", "threshold_c", float, 37.3, lo=THRESHOLD_RANGE[0], hi=THRESHOLD_RANGE[1])
    if abs(threshold * 10 - round(threshold * 10)) > 1e-6:
        problems.append(f"`screening.threshold_c` is {threshold}; allowed: 34.0–39.0 in steps of 0.1")
        threshold = 37.3
    pmin = r.get(sc, "screening", "plausible_min_c", float, 34.0, lo=25.0, hi=40.0)
    pmax = r.get(sc, "screening", "plausible_max_c", float, 43.0, lo=38.0, hi=45.0)

    sensors: list[SensorConfig] = []
    raw_sensors = data.get("sensors", [])
    if not isinstance(raw_sensors, list):
        problems.append("`sensors` must be a list of tables `[[sensors]]`")
        raw_sensors = []
    seen: set[str] = set()
    for i, s in enumerate(raw_sensors):
        p = f"sensors[{i}]"
        if not isinstance(s, dict):
            problems.append(f"`{p}` must be a table")
            continue
        for key in s:
            if key not in _KNOWN["sensors"]:
                problems.append(f"unknown key `{p}.{key}`; known: {', '.join(sorted(_KNOWN['sensors']))}")
        sid = r.get(s, p, "id", str, f"sensor-{i + 1}")
        if sid in seen:
            problems.append(f"`{p}.id` {sid!r} is used twice; each sensor needs its own id")
        seen.add(sid)
        if "protocol" not in s or "url" not in s:
            problems.append(f"`{p}` needs `protocol` (one of {', '.join(PROTOCOLS)}) and `url` (e.g. /dev/ttyUSB0)")
        protocol = r.get(s, p, "protocol", str, PROTOCOLS[0], choices=PROTOCOLS)
        options = {}
        allowed = OPTIONS.get(protocol, {})
        for key in ("slave", "register_map", "address", "pattern"):
            if key not in s:
                continue
            if key not in allowed:
                problems.append(f"`{p}.{key}` does not apply to protocol {protocol}")
                continue
            kind, what, ok = allowed[key]
            value = r.get(s, p, key, kind, None)
            if value is not None and not ok(value):
                problems.append(f"`{p}.{key}` is {value!r}; allowed: {what}")
            elif value is not None:
                options[key] = value
        if protocol == "text-line" and "pattern" in options:
            from drivers.text_line import compile_pattern

            try:
                compile_pattern(options["pattern"])
            except (ValueError, re.error) as exc:
                problems.append(f"`{p}.pattern`: {exc}")
        amin = r.get(s, p, "ambient_min_c", float, 10.0, lo=-40.0, hi=40.0)
        amax = r.get(s, p, "ambient_max_c", float, 40.0, lo=0.0, hi=60.0)
        if amin >= amax:
            problems.append(f"`{p}.ambient_min_c` ({amin}) must be below `{p}.ambient_max_c` ({amax})")
        sensors.append(SensorConfig(
            id=sid,
            protocol=protocol,
            url=r.get(s, p, "url", str, ""),
            baud=r.get(s, p, "baud", int, None, choices=BAUD_RATES),
            mode=r.get(s, p, "mode", str, DEFAULT_MODE.get(protocol), choices=("continuous", "query")),
            trigger=r.get(s, p, "trigger", str, "presence", choices=("presence", "each-reading")),
            warmup_s=r.get(s, p, "warmup_s", float, 0.0, lo=0.0, hi=7200.0),
            options=options,
            ambient_min_c=amin,
            ambient_max_c=amax,
            gain=r.get(s, p, "gain", float, 1.0, lo=0.5, hi=1.5),
            offset_c=r.get(s, p, "offset_c", float, 0.0, lo=-10.0, hi=10.0),
            presence_margin_c=r.get(s, p, "presence_margin_c", float, 4.0, lo=0.5, hi=20.0),
            presence_frames=r.get(s, p, "presence_frames", int, 3, lo=1, hi=50),
        ))

    cfg = Config(
        station_id=r.get(st, "station", "id", str, "gate-1"),
        gate_name=r.get(st, "station", "gate", str, "Main gate"),
        language=r.get(st, "station", "language", str, "zh-CN", choices=LANGUAGES),
        db=r.get(st, "station", "db", str, None),
        threshold_c=threshold,
        plausible_min_c=pmin,
        plausible_max_c=pmax,
        mask_mode=r.get(sc, "screening", "mask_mode", str, "must-wear", choices=MASK_MODES),
        deny_bell=r.get(sc, "screening", "deny_bell", bool, True),
        retest_wait_minutes=r.get(sc, "screening", "retest_wait_minutes", float, 10.0, lo=0.0, hi=60.0),
        sensors=tuple(sensors),
        upstream_url=r.get(up, "upstream", "url", str, None) or None,
        retention_days=r.get(ret, "retention", "screening_days", int, 30, lo=1, hi=3650),
        audit_retention_days=r.get(ret, "retention", "audit_days", int, 365, lo=30, hi=3650),
        security=_security(r, sec),
        calibration_required=r.get(cal, "calibration", "required", bool, False),
        calibration_interval_days=r.get(cal, "calibration", "interval_days", float, 30.0, lo=1.0, hi=365.0),
        calibration_warn_days=r.get(cal, "calibration", "warn_days", float, 3.0, lo=0.0, hi=60.0),
        calibration_grace_days=r.get(cal, "calibration", "grace_days", float, 0.0, lo=0.0, hi=30.0),
        calibration_tolerance_c=r.get(cal, "calibration", "tolerance_c", float, 0.3, lo=0.05, hi=1.0),
        body_site_offset_c=r.get(cal, "calibration", "body_site_offset_c", float, 0.0, lo=-5.0, hi=5.0),
        source=source,
    )
    if not cfg.station_id.strip():
        problems.append("`station.id` must not be empty")
    if pmin >= pmax:
        problems.append(f"`screening.plausible_min_c` ({pmin}) must be below `screening.plausible_max_c` ({pmax})")
    if problems:
        raise ConfigError(source, problems)
    return cfg


def _security(r: _Reader, sec: dict):
    from gate.auth import Policy

    return Policy(lockout_failures=r.get(sec, "security", "lockout_failures", int, 10, lo=3, hi=100),
                  lockout_minutes=r.get(sec, "security", "lockout_minutes", float, 30.0, lo=1.0, hi=1440.0),
                  idle_logout_minutes=r.get(sec, "security", "idle_logout_minutes", float, 5.0, lo=0.5, hi=120.0))


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["the file is not UTF-8 text; save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(data, str(path))


EXAMPLE = """\
# gate-station configuration
[station]
id = "north-gate-1"        # unique per station; appears in every record
gate = "North gate"
language = "zh-CN"         # zh-CN or en
# db = "/var/lib/gate-station/gate.db"   # default: the per-user data directory

[screening]
threshold_c = 37.3         # 34.0-39.0 in 0.1 steps
mask_mode = "must-wear"    # must-wear, reminder or off
deny_bell = true

[[sensors]]
id = "gun-1"
protocol = "gy-mcu90614"   # gy-mcu90614, gy-mcu90640, modbus-ir, optris-ct, text-line
url = "/dev/ttyUSB0"       # or /dev/serial/by-id/..., socket://host:port, rfc2217://host:port
baud = 9600
ambient_min_c = 10.0
ambient_max_c = 40.0
# trigger = "each-reading"  # a handheld gun: every reading is one person (default "presence")
# warmup_s = 1800           # thermal imagers: readings count as invalid until warmed up
# modbus-ir: slave = 1, register_map = "omega" | "calex";  optris-ct: address = 0..15 (RS-485)
# text-line: pattern = "melexis" | "arduino" | "simple" | a regex with (?P<object>...) and (?P<ambient>...)

[upstream]
url = ""                   # e.g. postgresql://gate@district-db/screening

[retention]
screening_days = 30        # screenings older than this are deleted by `gate purge` (once synced upstream)
audit_days = 365

[calibration]
required = false           # true: a sensor without a passing blackbody calibration is not used for screening
interval_days = 30         # a calibration is due again after this long; overdue sensors are locked out
warn_days = 3              # the duty screen warns this many days before
tolerance_c = 0.3
body_site_offset_c = 0.0   # skin to core, added after the calibration (population based)

[security]
lockout_failures = 10      # wrong PINs in a row before a user is locked
lockout_minutes = 30
idle_logout_minutes = 5    # the duty screen signs the operator out after this long without a key
"""
