"""What is wrong with a config, in one line per problem: unknown keys (with a hint), values outside the schema, and
settings that contradict each other (a threshold the plausible range can never reach, an empty ambient range, …).

msgspec stops at a struct's first error; a teacher wants them all. So each key is converted on its own against its
declared type (``msgspec.convert``) in one generic loop, every problem is collected, a bad value's default stands in
so that the rest can still be cross-checked, and only then are the structs built. Everything here is derived from the
schema in ``gate.config``: no second list of keys or bounds.
"""
from __future__ import annotations

import math
import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from domain.sessions import overlaps
from drivers.registry import PROTOCOLS
from gate.config import (OPTION_KEYS, REMOVED, Checked, Config, ConfigError, SecurityConfig, SensorConfig,
                         SessionConfig)

Problem = tuple[tuple[str, ...], str]  # the dotted keys involved, and the sentence
MIN_AMBIENT_SPAN_C = 5.0  # a narrower operating range refuses readings on an ordinary morning


class Field(msgspec.Struct, frozen=True):
    """One field of a config struct, as the checks read its declaration (a struct: no class built by exec)."""

    name: str
    type: Any
    required: bool
    toml: tuple[str, str] | None  # its [section] and key, for Config's flat fields
    part: type | None  # a struct (or a tuple of them) built from its own table(s)
    choices: tuple
    kinds: tuple[type, ...]
    meta: dict  # bounds and lengths: ge, le, min_length, max_length
    checks: tuple
    empty_is_none: bool


def _field(f: msgspec.structs.FieldInfo) -> Field:
    metas: list[msgspec.Meta] = []
    choices: list = []
    kinds: list[type] = []

    def walk(tp: Any) -> None:
        origin = get_origin(tp)
        if origin is Annotated:
            metas.extend(m for m in tp.__metadata__ if isinstance(m, msgspec.Meta))
            walk(tp.__origin__)
        elif origin in (Union, types.UnionType):
            for arg in get_args(tp):
                walk(arg)
        elif origin is Literal:
            choices.extend(get_args(tp))
        elif origin is tuple:
            kinds.append(tuple)
        elif tp is not type(None):
            kinds.append(origin or tp)

    walk(f.type)
    extra = {k: v for m in metas for k, v in (m.extra or {}).items()}
    part = next((k for k in kinds if isinstance(k, type) and issubclass(k, Checked)), None)
    if tuple in kinds:
        part = get_args(f.type)[0]
    bounds = {k: getattr(m, k) for m in metas for k in ("ge", "le", "min_length", "max_length")
              if getattr(m, k) is not None}
    return Field(f.name, f.type, f.required, extra.get("toml"), part, tuple(choices), tuple(kinds), bounds,
                 tuple(m.extra["check"] for m in metas if m.extra and "check" in m.extra),
                 bool(extra.get("empty_is_none")))


_FIELDS: dict[type, tuple[Field, ...]] = {}


def fields(cls: type) -> tuple[Field, ...]:
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(map(_field, msgspec.structs.fields(cls)))
    return _FIELDS[cls]


# -- the schema's keys ---------------------------------------------------------------------------------------------
TOML_KEYS = {f.name: ".".join(f.toml) for f in fields(Config) if f.toml}
SECTIONS: dict[str, set[str]] = {}
for _f in fields(Config):
    if _f.toml:
        SECTIONS.setdefault(_f.toml[0], set()).add(_f.toml[1])
SECTIONS["security"] = {f.name for f in fields(SecurityConfig)}
SENSOR_KEYS = {f.name for f in fields(SensorConfig)} - {"options"} | set(OPTION_KEYS)
SESSION_KEYS = {f.name for f in fields(SessionConfig)}
LISTS = {"sensors": SENSOR_KEYS, "sessions": SESSION_KEYS}  # [[tables]] in the TOML


def _hint(key: str, known: set[str]) -> str:
    import difflib  # only when a key is wrong

    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return f" (did you mean `{close[0]}`?)"
    home = next((f"[{s}]" for s, keys in SECTIONS.items() if key in keys), None)
    home = home or ("[[sensors]]" if key in SENSOR_KEYS else None)
    return f" (`{key}` belongs in `{home}`)" if home else ""


def _unknown(key: str, where: str, known: set[str]) -> str:
    if key in REMOVED:
        return f"`{where}` is no longer a config key: {REMOVED[key]}"
    return f"unknown key `{where}`{_hint(key, known)}; known: {', '.join(sorted(known))}"


def unknown_keys(data: dict) -> list[str]:
    """Keys and sections the schema does not know, each with the nearest known name."""
    problems = []
    for section, value in data.items():
        if section in LISTS:
            for i, s in enumerate(value if isinstance(value, list) else []):
                for key in s if isinstance(s, dict) else ():
                    if key not in LISTS[section]:
                        problems.append(_unknown(key, f"{section}[{i}].{key}", LISTS[section]))
        elif section not in SECTIONS:
            known = set(SECTIONS) | set(LISTS)
            problems.append(f"unknown section `[{section}]`{_hint(section, known)}; known: {', '.join(sorted(known))}")
        elif not isinstance(value, dict):
            problems.append(f"`{section}` must be a table `[{section}]`")
        else:
            problems += [_unknown(k, f"{section}.{k}", SECTIONS[section]) for k in value if k not in SECTIONS[section]]
    return problems


# -- one value against its declaration -----------------------------------------------------------------------------
_KINDS = {float: "a number", int: "a whole number", bool: "true or false", str: "text", dict: "a table"}
_NEEDS = {"protocol": f"one of {', '.join(PROTOCOLS)}", "url": "e.g. /dev/ttyUSB0"}


def _allowed(f: Field) -> str:
    if f.choices:
        return ", ".join(map(str, f.choices))
    lo, hi = f.meta.get("ge"), f.meta.get("le")
    return f"{lo}–{hi}" if lo is not None and hi is not None else ""


def _of_kind(value: Any, f: Field) -> bool:
    for kind in f.kinds:
        try:
            msgspec.convert(value, kind)
            return True
        except msgspec.ValidationError:
            pass
    return False


def _why(f: Field, value: Any, key: str) -> str:
    """What is wrong with a value msgspec refused, said from the field's declaration."""
    if f.choices:
        return f"`{key}` is {value!r}; allowed: {_allowed(f)}"
    if not _of_kind(value, f):
        return f"`{key}` must be {_KINDS.get(f.kinds[0], 'a table') if f.kinds else 'set'}, not {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"`{key}` must be a finite number, not {value!r}"
    if isinstance(value, str) and len(value) < f.meta.get("min_length", 0):
        return f"`{key}` must not be empty"
    if isinstance(value, str) and len(value) > f.meta.get("max_length", len(value)):
        return f"`{key}` is {len(value)} characters long: at most {f.meta['max_length']} are allowed"
    return f"`{key}` is {value!r}; allowed: {_allowed(f)}"


def value(f: Field, raw: Any, key: str) -> tuple[Any, str | None]:
    """``raw`` converted to the field's type and checked, or a sentence saying what is wrong with it."""
    if f.empty_is_none and isinstance(raw, str) and raw == "":
        raw = None
    try:
        out = msgspec.convert(raw, f.type)
    except msgspec.ValidationError:
        return None, _why(f, raw, key)
    for check in f.checks if out is not None else ():
        try:
            out = check(out)
        except ValueError as exc:
            why = str(exc)
            if why.startswith("in steps"):
                return None, f"`{key}` is {raw!r}; allowed: {_allowed(f)} {why}"
            return None, f"`{key}`: {why}"
    return out, None


def check_struct(part: Checked) -> None:
    """Every field of a struct built in code (or from checked values), then how its settings agree; ConfigError
    listing every problem. Converted values are kept (an int where a number goes, an id NFKC-folded)."""
    problems: list[str] = []
    for f in fields(type(part)):
        raw = getattr(part, f.name)
        key = TOML_KEYS.get(f.name, f.name) if isinstance(part, Config) else f.name
        if f.part is not None:
            many = tuple in f.kinds
            items = raw if many and isinstance(raw, (tuple, list)) else (raw,)
            if not all(isinstance(x, f.part) for x in items) or (many and not isinstance(raw, (tuple, list))):
                problems.append(f"`{key}` must be {'a list of ' if many else ''}{f.part.__name__}")
            elif many and not isinstance(raw, tuple):
                msgspec.structs.force_setattr(part, f.name, tuple(raw))
            continue
        out, problem = value(f, raw, key)
        if problem:
            problems.append(problem)
        elif out is not raw:
            msgspec.structs.force_setattr(part, f.name, out)
    found = [] if problems else _between(part)
    if problems or found:
        raise ConfigError(getattr(part, "source", "the code"), problems + [text for _keys, text in found], found)


def _between(part: Checked) -> list[Problem]:
    if isinstance(part, Config):
        return contradictions(part)
    if isinstance(part, SessionConfig) and part.session().end <= part.session().start:
        return [((), f"session {part.name!r} must end after it starts, on the same day ({part.start}–{part.end}); "
                     "a check never runs past midnight")]
    return []


# -- a whole file: every key on its own, then the structs ----------------------------------------------------------
def _table(cls: type, table: dict, where: str, problems: list[str], bad: set[str],
           stand_in: dict[str, Any] | None = None) -> dict[str, Any]:
    """The checked values of one table; a bad or missing required value takes its stand-in, if there is one."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        key = f"{where}.{f.name}"
        if f.name in table:
            out, problem = value(f, table[f.name], key)
            if problem is None:
                values[f.name] = out
                continue
            problems.append(problem)
        elif f.required:
            problems.append(f"`{where}` needs `{f.name}`" + (f" ({_NEEDS[f.name]})" if f.name in _NEEDS else ""))
        else:
            continue
        bad.add(key)
        if f.required and stand_in is not None:
            values[f.name] = stand_in[f.name]
    return values


def _sensors(raw: Any, problems: list[str], bad: set[str]) -> tuple[SensorConfig, ...]:
    if not isinstance(raw, list):
        problems.append("`sensors` must be a list of tables `[[sensors]]`")
        bad.add("sensors")
        return ()
    ids = [s.get("id") for s in raw if isinstance(s, dict)]
    out = []
    for i, s in enumerate(raw):
        # Stand-ins for a sensor's required values that failed, so that it keeps its place (and its index in the
        # messages) while the other settings are cross-checked.
        stand_in = {"id": f"sensor-{i + 1}-being-fixed", "protocol": PROTOCOLS[0], "url": "-"}
        while stand_in["id"] in ids:
            stand_in["id"] += "-x"
        if not isinstance(s, dict):
            problems.append(f"`sensors[{i}]` must be a table")
            bad.add(f"sensors[{i}]")
            out.append(SensorConfig(**stand_in))
            continue
        # A sensor table without an id is named by its place; its protocol options sit beside the other keys.
        table = {"id": f"sensor-{i + 1}", **s, "options": {k: s[k] for k in OPTION_KEYS if k in s}}
        out.append(SensorConfig(**_table(SensorConfig, table, f"sensors[{i}]", problems, bad, stand_in)))
    return tuple(out)


def _sessions(raw: Any, problems: list[str], bad: set[str]) -> tuple[SessionConfig, ...] | None:
    """The sessions, or None when one is wrong (the default sessions stand in for the cross-checks)."""
    if not isinstance(raw, list):
        problems.append("`sessions` must be a list of tables `[[sessions]]`")
        return None
    before, out = len(problems), []
    for i, s in enumerate(raw):
        if not isinstance(s, dict):
            problems.append(f"`sessions[{i}]` must be a table")
            continue
        mark = len(problems)
        values = _table(SessionConfig, s, f"sessions[{i}]", problems, bad)
        if len(problems) == mark:
            try:
                out.append(SessionConfig(**values))
            except ConfigError as exc:
                problems += [f"`sessions[{i}]`: {text}" for text in exc.problems]
    return tuple(out) if len(problems) == before else None


def build(data: dict, source: str) -> Config:
    """A Config from parsed TOML, or ConfigError listing every problem (unknown keys, bad values, contradictions)."""
    problems = unknown_keys(data)
    bad: set[str] = set()
    values: dict[str, Any] = {"source": source}
    for f in fields(Config):
        table = data.get(f.toml[0]) if f.toml else None
        if isinstance(table, dict) and f.toml[1] in table:
            out, problem = value(f, table[f.toml[1]], TOML_KEYS[f.name])
            if problem is None:
                values[f.name] = out
            else:
                problems.append(problem)
                bad.add(TOML_KEYS[f.name])
    if isinstance(data.get("security"), dict):
        values["security"] = SecurityConfig(**_table(SecurityConfig, data["security"], "security", problems, bad))
    if "sensors" in data:
        values["sensors"] = _sensors(data["sensors"], problems, bad)
    if "sessions" in data and (sessions := _sessions(data["sessions"], problems, bad)) is not None:
        values["sessions"] = sessions
    try:
        return_value = Config(**values)
    except ConfigError as exc:  # the values are checked: what is left is how they agree
        return_value = None
        problems += [text for _keys, text in unrelated(exc.found, bad)] if exc.found else exc.problems
    if problems or return_value is None:
        raise ConfigError(source, problems or ["the config could not be read"])
    return return_value


def unrelated(found: list[Problem], bad: set[str]) -> list[Problem]:
    """The cross-check problems that involve no bad value (nor, for protocol options, a bad protocol)."""
    def involved(key: str) -> bool:
        sensor, _, option = key.partition(".")
        return key in bad or (option in OPTION_KEYS and f"{sensor}.protocol" in bad)

    return [(keys, text) for keys, text in found if not any(map(involved, keys))]


# -- settings that contradict each other ---------------------------------------------------------------------------
def _sensor_problems(i: int, s: SensorConfig) -> list[Problem]:
    p = f"sensors[{i}]"
    found: list[Problem] = []
    if s.options:
        from drivers.registry import OPTIONS  # the register maps and text presets: only for a sensor with options

        allowed = OPTIONS.get(s.protocol, {})
    for key, value in s.options.items():
        if key not in allowed:
            found.append(((f"{p}.{key}",), f"`{p}.{key}` does not apply to protocol {s.protocol}"))
            continue
        kind, what, ok = allowed[key]
        if not isinstance(value, kind) or isinstance(value, bool) or not ok(value):
            found.append(((f"{p}.{key}",), f"`{p}.{key}` is {value!r}; allowed: {what}"))
    if s.protocol == "text-line" and isinstance(s.options.get("pattern"), str):
        from drivers.text_line import compile_pattern

        try:
            compile_pattern(s.options["pattern"])
        except (ValueError, re.error) as exc:
            found.append(((f"{p}.pattern",), f"`{p}.pattern`: {exc}"))
    lo, hi = f"{p}.ambient_min_c", f"{p}.ambient_max_c"
    if s.ambient_min_c >= s.ambient_max_c:
        found.append(((lo, hi), f"`{lo}` ({s.ambient_min_c}) must be below `{hi}` ({s.ambient_max_c})"))
    elif s.ambient_max_c - s.ambient_min_c < MIN_AMBIENT_SPAN_C:
        found.append(((lo, hi), f"`{lo}`–`{hi}` ({s.ambient_min_c}–{s.ambient_max_c} °C) is narrower than "
                                f"{MIN_AMBIENT_SPAN_C:g} °C: readings would be refused on an ordinary morning"))
    return found


def _pair(cfg: Config, low: str, high: str, why: str) -> list[Problem]:
    a, b = getattr(cfg, low), getattr(cfg, high)
    if a < b:
        return []
    ka, kb = TOML_KEYS[low], TOML_KEYS[high]
    return [((ka, kb), f"`{ka}` ({a}) must be below `{kb}` ({b}): {why}")]


def contradictions(cfg: Config) -> list[Problem]:
    """Settings that are each allowed but make no sense together; each names the keys involved."""
    found: list[Problem] = []
    seen: set[str] = set()
    for i, s in enumerate(cfg.sensors):
        if s.id in seen:
            found.append(((f"sensors[{i}].id",), f"`sensors[{i}].id` {s.id!r} is used twice; each sensor needs its "
                                                  "own id"))
        seen.add(s.id)
        found += _sensor_problems(i, s)
    found += _pair(cfg, "plausible_min_c", "plausible_max_c", "the plausible range is empty")
    found += _pair(cfg, "threshold_c", "plausible_max_c",
                   "a reading at the threshold would count as implausible, so no fever could ever be denied")
    found += _pair(cfg, "plausible_min_c", "threshold_c",
                   "every normal temperature would count as implausible, so nobody could be admitted")
    found += _pair(cfg, "calibration_warn_days", "calibration_interval_days",
                   "the warning would start before the calibration was done")
    found += _pair(cfg, "calibration_tolerance_c", "calibration_max_correction_c",
                   "a calibration could not be both within tolerance and refused for its size")
    names = [s.name for s in cfg.sessions]
    for i, s in enumerate(cfg.sessions):
        if names.index(s.name) != i:
            found.append(((f"sessions[{i}].name",), f"`sessions[{i}].name` {s.name!r} is used twice; each session "
                                                    "needs its own name"))
    for a, b in overlaps(cfg.school_sessions()):
        found.append((("sessions",), f"sessions {a.name!r} ({a.window()}) and {b.name!r} ({b.window()}) overlap: "
                                     "a screening would belong to both; move one window"))
    if cfg.audit_retention_days < cfg.retention_days:
        a, s = TOML_KEYS["audit_retention_days"], TOML_KEYS["retention_days"]
        found.append(((a, s), f"`{a}` ({cfg.audit_retention_days}) must be at least `{s}` ({cfg.retention_days}): "
                              "the audit trail of a kept screening must be kept too"))
    return found
