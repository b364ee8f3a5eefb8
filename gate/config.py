"""The station's one TOML config file: one declarative schema, every problem reported at once with its key.

Each setting is declared once below, with its TOML place (`[screening] threshold_c`), its default and its allowed
values (``msgspec.Meta``: bounds, lengths; a ``check`` for what a bound cannot say); the defaults themselves live with
the code that owns them (policy, calibration, drivers) and are only named here. Problems name the dotted key
(`sensors[1].protocol`) and what is allowed, and misspelled keys get a hint.

Why msgspec (and not pydantic): it loads in a few milliseconds (pydantic cost `gate screen` about 50 ms of its
start-up, bench/cli_startup.py). msgspec stops at a struct's first error, and a teacher fixing a config file wants
every problem in one go, so ``gate.config_checks`` converts each key on its own in one generic loop, collects every
problem, and only then builds the structs. Building a struct in code runs the same checks (``__post_init__``), so
code cannot make a config the file could not. Checks between settings are in ``gate.config_checks`` too.

No ``from __future__ import annotations`` here: msgspec would then compile every field's annotation from its text when
first asked for the fields (about 10 ms of `gate screen`'s start-up); evaluated with the class, they cost nothing.
"""

from pathlib import Path
from typing import Annotated, Any, Callable, Literal

import msgspec
from msgspec import Meta

from domain.tolerances import (
    BODY_SITE_OFFSET_RANGE_C,
    DEFAULT_GRACE_DAYS,
    DEFAULT_INTERVAL_DAYS,
    DEFAULT_MAX_CORRECTION_C,
    DEFAULT_TOLERANCE_C,
    DEFAULT_WARN_DAYS,
    MAX_CORRECTION_RANGE_C,
)
from domain.cluster_bounds import CLUSTER_BOUNDS as CLUSTERS
from domain.errors import UsageError
from domain.identifiers import check_id, check_name
from domain.reading import AMBIENT_RANGE_C
from domain.sessions import DEFAULT_SESSIONS, Session, hhmm
from drivers.presence import PRESENCE_FRAMES, PRESENCE_MARGIN_C
from drivers.registry import PROTOCOLS
from gate.i18n import DEFAULT_LANGUAGE, LANGUAGES
from gate.policy import (MASK_MODE, MASK_MODES, PLAUSIBLE_C, RETEST_WAIT_MINUTES, THRESHOLD_C, THRESHOLD_RANGE,
                         PolicyConfig)

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
OPTION_KEYS = ("slave", "register_map", "address", "pattern")  # protocol options: checked by drivers.registry.OPTIONS
# Keys a config may no longer carry, and what to do instead.
REMOVED = {
    "gain": "corrections come only from a blackbody calibration (gate calibrate run / fit), which is checked, "
            "recorded and audited: delete the line and calibrate the sensor instead",
    "offset_c": "corrections come only from a blackbody calibration (gate calibrate run / fit), which is checked, "
                "recorded and audited: delete the line and calibrate the sensor instead",
}
CONFIG_MAX_BYTES = 1024 * 1024  # a station's config is a few KB


class ConfigError(UsageError):
    """One or more problems in a config file (or in a config built in code); ``problems`` lists each with its key,
    ``found`` the checks between settings that failed, with the keys each involves."""

    def __init__(self, source: str, problems: list[str], found: list[tuple[tuple[str, ...], str]] = ()):
        self.source = source
        self.problems = problems
        self.found = list(found)
        super().__init__(f"{source}: " + "; ".join(problems))


def _tenths(value: float) -> float:
    if abs(value * 10 - round(value * 10)) > 1e-6:
        raise ValueError("in steps of 0.1")
    return value


def _clock(value: str) -> str:
    hhmm(value)
    return value


def _upstream_url(url: str) -> str:
    """No password in the config's URL (storage.upstream_url says where it goes instead)."""
    from storage.upstream_url import UpstreamUrlError, check  # SQLAlchemy's URL parser: only when a URL is set

    try:
        return check(url)
    except UpstreamUrlError as exc:
        raise ValueError(str(exc)) from None


def checked(check: Callable[[Any], Any]) -> Meta:
    """A check a bound cannot express; it returns the value to keep (an id NFKC-folded) or raises ValueError."""
    return Meta(extra={"check": check})


def _in(section: str, key: str, **allowed: Any) -> Meta:
    """A setting read from ``[section] key`` (the struct's field is named for the code that reads it)."""
    return Meta(extra={"toml": (section, key)}, **allowed)


EMPTY_IS_NONE = Meta(extra={"empty_is_none": True})  # `db = ""`: not set
Id = Annotated[str, checked(lambda v: check_id(v, "id"))]
Name = Annotated[str, checked(lambda v: check_name(v, "the name"))]
Clock = Annotated[str, checked(_clock)]


class Checked(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A part of the config: building one, from a file or in code, checks every field (``gate.config_checks``)."""

    def __post_init__(self) -> None:
        from gate.config_checks import check_struct  # the messages and the checks between settings

        check_struct(self)


class SensorConfig(Checked, frozen=True, kw_only=True):
    """One `[[sensors]]` table: a thermometer, its port and its operating range."""

    id: Id
    protocol: Literal[PROTOCOLS]  # type: ignore[valid-type]
    url: Annotated[str, Meta(min_length=1, max_length=512)]
    baud: Literal[BAUD_RATES] | None = None  # type: ignore[valid-type]
    mode: Literal["continuous", "query"] | None = None  # None: the protocol's usual mode
    # presence: a fixed sensor sees people come and go; each-reading: a handheld gun, one trigger pull per person
    trigger: Literal["presence", "each-reading"] = "presence"
    warmup_s: Annotated[float, Meta(ge=0.0, le=7200.0)] = 0.0
    # slave, register_map, address, pattern (in TOML beside the other keys): see drivers.registry
    options: dict = msgspec.field(default_factory=dict)
    ambient_min_c: Annotated[float, Meta(ge=-40.0, le=40.0)] = AMBIENT_RANGE_C[0]
    ambient_max_c: Annotated[float, Meta(ge=0.0, le=60.0)] = AMBIENT_RANGE_C[1]
    presence_margin_c: Annotated[float, Meta(ge=0.5, le=20.0)] = PRESENCE_MARGIN_C
    presence_frames: Annotated[int, Meta(ge=1, le=50)] = PRESENCE_FRAMES

    @classmethod
    def from_options(cls, **values: Any) -> "SensorConfig":
        """A sensor given by command-line options: a bad value is a usage problem with a message, not a traceback."""
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError("the command line", exc.problems) from None


class SessionConfig(Checked, frozen=True, kw_only=True):
    """One `[[sessions]]` table: a check of the school day (晨检, 午检, 晚检) and its window, HH:MM to HH:MM."""

    name: Id
    label_zh: Name
    label_en: Name
    start: Clock
    end: Clock

    def session(self) -> Session:
        return Session(self.name, self.label_zh, self.label_en, hhmm(self.start), hhmm(self.end))

    @classmethod
    def of(cls, s: Session) -> "SessionConfig":
        return cls(name=s.name, label_zh=s.label_zh, label_en=s.label_en, start=f"{s.start:%H:%M}", end=f"{s.end:%H:%M}")


class SecurityConfig(Checked, frozen=True, kw_only=True):
    """`[security]`: how many wrong PINs lock a user, for how long, and when the duty screen signs out."""

    lockout_failures: Annotated[int, Meta(ge=3, le=100)] = 10
    lockout_minutes: Annotated[float, Meta(ge=1.0, le=1440.0)] = 30.0
    idle_logout_minutes: Annotated[float, Meta(ge=0.5, le=120.0)] = 5.0


def _default_sessions() -> tuple[SessionConfig, ...]:
    return tuple(SessionConfig.of(s) for s in DEFAULT_SESSIONS)


class Config(Checked, frozen=True, kw_only=True):
    """The whole station configuration, flat for the code that reads it; each field knows its place in the TOML."""

    station_id: Annotated[Id, _in("station", "id")] = "gate-1"
    gate_name: Annotated[Name, _in("station", "gate")] = "Main gate"
    language: Annotated[Literal[LANGUAGES], _in("station", "language")] = DEFAULT_LANGUAGE  # type: ignore[valid-type]
    db: Annotated[str | None, EMPTY_IS_NONE, _in("station", "db")] = None
    # The station key (storage.keys); default beside the log as <db>.key. Back it up with the log.
    key_file: Annotated[str | None, EMPTY_IS_NONE, _in("station", "key_file")] = None
    threshold_c: Annotated[float, checked(_tenths), _in("screening", "threshold_c", ge=THRESHOLD_RANGE[0],
                                                        le=THRESHOLD_RANGE[1])] = THRESHOLD_C
    plausible_min_c: Annotated[float, _in("screening", "plausible_min_c", ge=25.0, le=40.0)] = PLAUSIBLE_C[0]
    plausible_max_c: Annotated[float, _in("screening", "plausible_max_c", ge=38.0, le=45.0)] = PLAUSIBLE_C[1]
    mask_mode: Annotated[Literal[MASK_MODES], _in("screening", "mask_mode")] = MASK_MODE  # type: ignore
    deny_bell: Annotated[bool, _in("screening", "deny_bell")] = True
    retest_wait_minutes: Annotated[float, _in("screening", "retest_wait_minutes", ge=0.0, le=60.0)] = \
        RETEST_WAIT_MINUTES
    sensors: tuple[SensorConfig, ...] = ()
    upstream_url: Annotated[str | None, EMPTY_IS_NONE, checked(_upstream_url), _in("upstream", "url")] = None
    # True: the roster (ids, names, classes) goes upward with the records, for the school's own server's report
    share_roster: Annotated[bool, _in("upstream", "share_roster")] = False
    # How long the sync waits for a table another session holds (then one line, and the next round tries again),
    # and an owner's sync for a day's partition (then the day's rows wait in the default one): storage.upstream_locks
    upstream_lock_wait_s: Annotated[float, _in("upstream", "lock_wait_s", ge=0.5, le=600.0)] = 10.0
    upstream_make_day_wait_s: Annotated[float, _in("upstream", "make_day_wait_s", ge=0.5, le=600.0)] = 2.0
    school_id: Annotated[Id | None, EMPTY_IS_NONE, _in("school", "id")] = None  # None: the station is its own school
    school_name: Annotated[Name | None, EMPTY_IS_NONE, _in("school", "name")] = None
    # Who opens a case for a pupil not seen when a session closes: this gate alone (one gate), this gate asking the
    # upstream who was seen at the school's other gates ("school"), or another gate of the school ("off").
    absence_cases: Annotated[Literal["this-gate", "school", "off"], _in("school", "absence_cases")] = "this-gate"
    # How many gates the school has (None: the bureau's count); unknown: no zero report (a silent partner or none?)
    school_gates: Annotated[Annotated[int, Meta(ge=1, le=50)] | None, _in("school", "gates")] = None
    sessions: tuple[SessionConfig, ...] = msgspec.field(default_factory=_default_sessions)
    # The 24-hour report rule: pupils of one class with similar symptoms on one day, or within a few days
    cluster_same_day: Annotated[int, _in("clusters", "same_day_pupils", **CLUSTERS["same_day_pupils"])] = 3
    cluster_window_days: Annotated[int, _in("clusters", "window_days", **CLUSTERS["window_days"])] = 3
    cluster_window_pupils: Annotated[int, _in("clusters", "window_pupils", **CLUSTERS["window_pupils"])] = 5
    retention_days: Annotated[int, _in("retention", "screening_days", ge=1, le=3650)] = 30
    audit_retention_days: Annotated[int, _in("retention", "audit_days", ge=30, le=3650)] = 365
    security: SecurityConfig = msgspec.field(default_factory=SecurityConfig)
    # True: a sensor never calibrated counts as not usable
    calibration_required: Annotated[bool, _in("calibration", "required")] = False
    calibration_interval_days: Annotated[float, _in("calibration", "interval_days", ge=1.0, le=365.0)] = \
        DEFAULT_INTERVAL_DAYS
    calibration_warn_days: Annotated[float, _in("calibration", "warn_days", ge=0.0, le=60.0)] = DEFAULT_WARN_DAYS
    calibration_grace_days: Annotated[float, _in("calibration", "grace_days", ge=0.0, le=30.0)] = DEFAULT_GRACE_DAYS
    calibration_tolerance_c: Annotated[float, _in("calibration", "tolerance_c", ge=0.05, le=1.0)] = \
        DEFAULT_TOLERANCE_C
    calibration_max_correction_c: Annotated[float, _in("calibration", "max_correction_c", ge=MAX_CORRECTION_RANGE_C[0],
                                                       le=MAX_CORRECTION_RANGE_C[1])] = DEFAULT_MAX_CORRECTION_C
    body_site_offset_c: Annotated[float, _in("calibration", "body_site_offset_c", ge=BODY_SITE_OFFSET_RANGE_C[0],
                                             le=BODY_SITE_OFFSET_RANGE_C[1])] = BODY_SITE_OFFSET_RANGE_C[0]
    source: str = "<defaults>"  # the file it came from (not a setting)

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

    def settings(self) -> dict[str, Any]:
        """Every setting by field name (not the file it came from), nested parts as plain dicts."""
        out = msgspec.to_builtins(self)
        out.pop("source")
        return out


def toml_key(field: str) -> str:
    """A Config field's dotted TOML key: ``threshold_c`` -> ``screening.threshold_c``."""
    from gate.config_checks import TOML_KEYS

    return TOML_KEYS.get(field, field)


def parse_config(data: dict, source: str = "<config>") -> Config:
    """A Config from parsed TOML, or ConfigError listing every problem (unknown keys, bad values, contradictions)."""
    from gate.config_checks import build

    return build(data, source)


def load_config(path: str | Path) -> Config:
    from gate.input_files import FileRefused, read_bounded

    path = Path(path)
    try:
        raw = read_bounded(path, CONFIG_MAX_BYTES, "a config file")  # /dev/zero or a FIFO: refused, not read
    except FileRefused as exc:
        raise ConfigError(str(path), [str(exc)]) from None
    import tomllib  # only when a config file is read: a station run without one does not parse TOML at all

    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))  # Notepad's "UTF-8 with BOM": the mark is not TOML
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["the file is not UTF-8 text; save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(data, str(path))


def __getattr__(name: str) -> str:
    if name == "EXAMPLE":  # built from the defaults when asked for (`gate config example`), not at every start
        from gate.config_example import example

        return example()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
