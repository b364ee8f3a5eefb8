"""The station's one TOML config file: one declarative schema, every problem reported at once with its key.

Each setting is declared once below, with its TOML place (`[screening] threshold_c`), its default and its allowed
values; the defaults themselves live with the code that owns them (policy, calibration, drivers) and are only named
here. Problems name the dotted key (`sensors[1].protocol`) and what is allowed, and misspelled keys get a hint.

Why pydantic (v2) and not msgspec: msgspec stops at the first error, and a teacher fixing a config file wants every
problem in one go; pydantic collects all of them with their paths and the constraint that failed (bounds, allowed
values), which is what our one-line messages are made of. Its import costs a few tens of milliseconds, paid only by
commands that read a config. Checks between settings (threshold inside the plausible range, …) are in
``gate.config_checks``.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

# The station uses no pydantic plugins; looking for them reads every installed package's metadata at the first model
# (pydantic's documented switch; an environment that sets it keeps its own value).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (AfterValidator, AliasPath, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      ValidationInfo, model_validator)  # noqa: E402

from domain.calibration import (
    BODY_SITE_OFFSET_RANGE_C,
    DEFAULT_GRACE_DAYS,
    DEFAULT_INTERVAL_DAYS,
    DEFAULT_MAX_CORRECTION_C,
    DEFAULT_TOLERANCE_C,
    DEFAULT_WARN_DAYS,
    MAX_CORRECTION_RANGE_C,
)
from domain.identifiers import check_id, check_name
from domain.sessions import DEFAULT_SESSIONS, Session, hhmm
from domain.reading import AMBIENT_RANGE_C
from drivers.measurement import PRESENCE_FRAMES, PRESENCE_MARGIN_C
from drivers.registry import PROTOCOLS
from gate.clusters import BOUNDS as CLUSTERS
from gate.i18n import DEFAULT_LANGUAGE, LANGUAGES
from gate.policy import MASK_MODES, THRESHOLD_RANGE, PolicyConfig
from domain.errors import UsageError

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
OPTION_KEYS = ("slave", "register_map", "address", "pattern")  # protocol options: checked by drivers.registry.OPTIONS
# Keys a config may no longer carry, and what to do instead.
REMOVED = {
    "gain": "corrections come only from a blackbody calibration (gate calibrate run / fit), which is checked, "
            "recorded and audited: delete the line and calibrate the sensor instead",
    "offset_c": "corrections come only from a blackbody calibration (gate calibrate run / fit), which is checked, "
                "recorded and audited: delete the line and calibrate the sensor instead",
}


class ConfigError(UsageError):
    """One or more problems in a config file; ``problems`` lists each with its key."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _id(value: str) -> str:
    return check_id(value, "the id")


def _name(value: str) -> str:
    return check_name(value, "the name")


def _tenths(value: float) -> float:
    if abs(value * 10 - round(value * 10)) > 1e-6:
        raise ValueError("in steps of 0.1")
    return value


Id = Annotated[str, AfterValidator(_id)]
Name = Annotated[str, AfterValidator(_name)]
EmptyIsNone = BeforeValidator(lambda v: None if v == "" else v)
CONFIG_MAX_BYTES = 1024 * 1024  # a station's config is a few KB


def _upstream_url(url: str | None) -> str | None:
    """No password in the config's URL (storage.upstream_url says where it goes instead)."""
    if url is None:
        return None
    from storage.upstream_url import UpstreamUrlError, check  # SQLAlchemy's URL parser: only when a URL is set

    try:
        return check(url)
    except UpstreamUrlError as exc:
        raise ValueError(str(exc)) from None


def _in(section: str, key: str, default: Any, **allowed: Any) -> Any:
    """A setting read from ``[section] key`` (constructed in code by its field name)."""
    return Field(default, validation_alias=AliasPath(section, key), **allowed)


_STRICT = ConfigDict(frozen=True, strict=True, extra="forbid", allow_inf_nan=False, validate_by_name=True,
                     validate_by_alias=True)


class SensorConfig(BaseModel):
    """One `[[sensors]]` table: a thermometer, its port and its operating range."""

    model_config = _STRICT

    id: Id
    protocol: Literal[PROTOCOLS]  # type: ignore[valid-type]
    url: Annotated[str, Field(min_length=1, max_length=512)]
    baud: Literal[BAUD_RATES] | None = None  # type: ignore[valid-type]
    mode: Literal["continuous", "query"] | None = None  # None: the protocol's usual mode
    # presence: a fixed sensor sees people come and go; each-reading: a handheld gun, one trigger pull per person
    trigger: Literal["presence", "each-reading"] = "presence"
    warmup_s: Annotated[float, Field(ge=0.0, le=7200.0)] = 0.0
    options: dict = Field(default_factory=dict)  # slave, register_map, address, pattern: see drivers.registry
    ambient_min_c: Annotated[float, Field(ge=-40.0, le=40.0)] = AMBIENT_RANGE_C[0]
    ambient_max_c: Annotated[float, Field(ge=0.0, le=60.0)] = AMBIENT_RANGE_C[1]
    presence_margin_c: Annotated[float, Field(ge=0.5, le=20.0)] = PRESENCE_MARGIN_C
    presence_frames: Annotated[int, Field(ge=1, le=50)] = PRESENCE_FRAMES

    @classmethod
    def from_options(cls, **values: Any) -> "SensorConfig":
        """A sensor given by command-line options: a bad value is a usage problem with a message, not a traceback."""
        try:
            return cls(**values)
        except ValidationError as exc:
            from gate.config_checks import field_problems

            raise ConfigError("the command line", field_problems(exc)[1]) from None

    @model_validator(mode="before")
    @classmethod
    def _options_from_the_table(cls, data: Any) -> Any:
        # In TOML the protocol options sit in the sensor's table beside the other keys.
        if isinstance(data, dict) and any(k in data for k in OPTION_KEYS):
            data = dict(data)
            data["options"] = {**data.get("options", {}), **{k: data.pop(k) for k in OPTION_KEYS if k in data}}
        return data


class SessionConfig(BaseModel):
    """One `[[sessions]]` table: a check of the school day (晨检, 午检, 晚检) and its window, HH:MM to HH:MM."""

    model_config = _STRICT

    name: Id
    label_zh: Name
    label_en: Name
    start: Annotated[str, AfterValidator(lambda v: hhmm(v) and v)]
    end: Annotated[str, AfterValidator(lambda v: hhmm(v) and v)]

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> "SessionConfig":
        if hhmm(self.end) <= hhmm(self.start):
            raise ValueError(f"session {self.name!r} must end after it starts, on the same day "
                             f"({self.start}–{self.end}); a check never runs past midnight")
        return self

    def session(self) -> Session:
        return Session(self.name, self.label_zh, self.label_en, hhmm(self.start), hhmm(self.end))

    @classmethod
    def of(cls, s: Session) -> "SessionConfig":
        return cls(name=s.name, label_zh=s.label_zh, label_en=s.label_en, start=f"{s.start:%H:%M}", end=f"{s.end:%H:%M}")


class SecurityConfig(BaseModel):
    """`[security]`: how many wrong PINs lock a user, for how long, and when the duty screen signs out."""

    model_config = _STRICT

    lockout_failures: Annotated[int, Field(ge=3, le=100)] = 10
    lockout_minutes: Annotated[float, Field(ge=1.0, le=1440.0)] = 30.0
    idle_logout_minutes: Annotated[float, Field(ge=0.5, le=120.0)] = 5.0


class Config(BaseModel):
    """The whole station configuration, flat for the code that reads it; each field knows its place in the TOML."""

    model_config = _STRICT

    station_id: Id = _in("station", "id", "gate-1")
    gate_name: Name = _in("station", "gate", "Main gate")
    language: Literal[LANGUAGES] = _in("station", "language", DEFAULT_LANGUAGE)  # type: ignore[valid-type]
    db: Annotated[str | None, EmptyIsNone] = _in("station", "db", None)
    # The station key (storage.keys); default beside the log as <db>.key. Back it up with the log.
    key_file: Annotated[str | None, EmptyIsNone] = _in("station", "key_file", None)
    threshold_c: Annotated[float, AfterValidator(_tenths)] = _in(
        "screening", "threshold_c", PolicyConfig.threshold_c, ge=THRESHOLD_RANGE[0], le=THRESHOLD_RANGE[1])
    plausible_min_c: float = _in("screening", "plausible_min_c", PolicyConfig.plausible_min_c, ge=25.0, le=40.0)
    plausible_max_c: float = _in("screening", "plausible_max_c", PolicyConfig.plausible_max_c, ge=38.0, le=45.0)
    mask_mode: Literal[MASK_MODES] = _in("screening", "mask_mode", PolicyConfig.mask_mode)  # type: ignore[valid-type]
    deny_bell: bool = _in("screening", "deny_bell", True)
    retest_wait_minutes: float = _in("screening", "retest_wait_minutes", 10.0, ge=0.0, le=60.0)
    sensors: Annotated[tuple[SensorConfig, ...], Field(strict=False)] = ()
    upstream_url: Annotated[str | None, EmptyIsNone, AfterValidator(_upstream_url)] = _in("upstream", "url", None)
    # True: the roster (ids, names, classes) goes upward with the records, for the school's own server's report
    share_roster: bool = _in("upstream", "share_roster", False)
    school_id: Annotated[Id | None, EmptyIsNone] = _in("school", "id", None)  # None: the station is its own school
    school_name: Annotated[Name | None, EmptyIsNone] = _in("school", "name", None)
    # Who opens a case for a pupil not seen when a session closes: this gate alone (one gate), this gate asking the
    # upstream who was seen at the school's other gates ("school"), or another gate of the school ("off").
    absence_cases: Literal["this-gate", "school", "off"] = _in("school", "absence_cases", "this-gate")
    # How many gates the school has (None: the bureau's count); unknown: no zero report (a silent partner or none?)
    school_gates: int | None = _in("school", "gates", None, ge=1, le=50)
    sessions: Annotated[tuple[SessionConfig, ...], Field(strict=False)] = tuple(
        SessionConfig.of(s) for s in DEFAULT_SESSIONS)
    # The 24-hour report rule: pupils of one class with similar symptoms on one day, or within a few days
    cluster_same_day: int = _in("clusters", "same_day_pupils", 3, **CLUSTERS["same_day_pupils"])
    cluster_window_days: int = _in("clusters", "window_days", 3, **CLUSTERS["window_days"])
    cluster_window_pupils: int = _in("clusters", "window_pupils", 5, **CLUSTERS["window_pupils"])
    retention_days: int = _in("retention", "screening_days", 30, ge=1, le=3650)
    audit_retention_days: int = _in("retention", "audit_days", 365, ge=30, le=3650)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    # True: a sensor never calibrated counts as not usable
    calibration_required: bool = _in("calibration", "required", False)
    calibration_interval_days: float = _in("calibration", "interval_days", DEFAULT_INTERVAL_DAYS, ge=1.0, le=365.0)
    calibration_warn_days: float = _in("calibration", "warn_days", DEFAULT_WARN_DAYS, ge=0.0, le=60.0)
    calibration_grace_days: float = _in("calibration", "grace_days", DEFAULT_GRACE_DAYS, ge=0.0, le=30.0)
    calibration_tolerance_c: float = _in("calibration", "tolerance_c", DEFAULT_TOLERANCE_C, ge=0.05, le=1.0)
    calibration_max_correction_c: float = _in("calibration", "max_correction_c", DEFAULT_MAX_CORRECTION_C,
                                              ge=MAX_CORRECTION_RANGE_C[0], le=MAX_CORRECTION_RANGE_C[1])
    body_site_offset_c: float = _in("calibration", "body_site_offset_c", BODY_SITE_OFFSET_RANGE_C[0],
                                    ge=BODY_SITE_OFFSET_RANGE_C[0], le=BODY_SITE_OFFSET_RANGE_C[1])
    source: str = Field("<defaults>", exclude=True)  # the file it came from

    @model_validator(mode="before")
    @classmethod
    def _sensor_ids(cls, data: Any) -> Any:
        # A sensor table without an id is named by its place, as it always was.
        if isinstance(data, dict) and isinstance(data.get("sensors"), list):
            data = {**data, "sensors": [{"id": f"sensor-{i + 1}", **s} if isinstance(s, dict) else s
                                        for i, s in enumerate(data["sensors"])]}
        return data

    @model_validator(mode="after")
    def _settings_agree(self, info: ValidationInfo) -> "Config":
        from gate.config_checks import contradictions

        found = contradictions(self)
        collect = (info.context or {}).get("contradictions")
        if collect is not None:  # parse_config reports them one by one, with the other problems
            collect.extend(found)
        elif found:
            raise ValueError("; ".join(text for _keys, text in found))
        return self

    def policy(self, sensor: SensorConfig | None = None) -> PolicyConfig:
        ranges = {"ambient_min_c": sensor.ambient_min_c, "ambient_max_c": sensor.ambient_max_c} if sensor else {}
        return PolicyConfig(threshold_c=self.threshold_c, plausible_min_c=self.plausible_min_c,
                            plausible_max_c=self.plausible_max_c, mask_mode=self.mask_mode, **ranges)

    @property
    def school(self) -> str:
        """The school this station belongs to (its own id when the config names no school)."""
        return self.school_id or self.station_id

    def school_sessions(self) -> tuple[Session, ...]:
        return tuple(s.session() for s in self.sessions)

    def sensor(self, sensor_id: str) -> SensorConfig | None:
        return next((s for s in self.sensors if s.id == sensor_id), None)


def toml_key(field: str) -> str:
    """A Config field's dotted TOML key: ``threshold_c`` -> ``screening.threshold_c``."""
    alias = Config.model_fields[field].validation_alias
    return ".".join(map(str, alias.path)) if isinstance(alias, AliasPath) else field


def parse_config(data: dict, source: str = "<config>") -> Config:
    """A Config from parsed TOML, or ConfigError listing every problem (unknown keys, bad values, contradictions)."""
    from gate.config_checks import field_problems, known_part, sanitised, unknown_keys, unrelated

    problems = unknown_keys(data)
    data = known_part(data)
    found: list[tuple[tuple[str, ...], str]] = []
    try:
        cfg = Config.model_validate({**data, "source": source}, context={"contradictions": found})
    except ValidationError as exc:
        cfg = None
        bad, texts = field_problems(exc)
        problems += texts
        # Check how the remaining settings agree with each other, leaving out the ones already reported as wrong.
        retry: list[tuple[tuple[str, ...], str]] = []
        try:
            Config.model_validate({**sanitised(data, exc), "source": source}, context={"contradictions": retry})
        except ValidationError:
            retry = []
        found = unrelated(retry, bad)
    problems += [text for _keys, text in found]
    if problems or cfg is None:
        raise ConfigError(source, problems or ["the config could not be read"])
    return cfg


def load_config(path: str | Path) -> Config:
    from gate.input_files import FileRefused, read_bounded

    path = Path(path)
    try:
        raw = read_bounded(path, CONFIG_MAX_BYTES, "a config file")  # /dev/zero or a FIFO: refused, not read
    except FileRefused as exc:
        raise ConfigError(str(path), [str(exc)]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["the file is not UTF-8 text; save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(data, str(path))


def _example() -> str:
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


EXAMPLE = _example()
