"""What is wrong with a config, in one line per problem: unknown keys (with a hint), values outside the schema, and
settings that contradict each other (a threshold the plausible range can never reach, an empty ambient range, …).

Everything here is derived from the schema in ``gate.config``: no second list of keys or bounds.
"""
from __future__ import annotations

import copy
import difflib
import re
import types
import uuid
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AliasPath, ValidationError

from drivers.registry import OPTIONS, PROTOCOLS
from domain.sessions import overlaps
from gate.config import OPTION_KEYS, REMOVED, Config, SecurityConfig, SensorConfig, SessionConfig, toml_key

Problem = tuple[tuple[str, ...], str]  # the dotted keys involved, and the sentence
MIN_AMBIENT_SPAN_C = 5.0  # a narrower operating range refuses readings on an ordinary morning


# -- the schema's keys ---------------------------------------------------------------------------------------------
def _sections() -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for name, f in Config.model_fields.items():
        if isinstance(f.validation_alias, AliasPath):
            section, key = f.validation_alias.path
            known.setdefault(str(section), set()).add(str(key))
    known["security"] = set(SecurityConfig.model_fields)
    return known


SECTIONS = _sections()
SENSOR_KEYS = (set(SensorConfig.model_fields) - {"options"}) | set(OPTION_KEYS)
SESSION_KEYS = set(SessionConfig.model_fields)
LISTS = {"sensors": SENSOR_KEYS, "sessions": SESSION_KEYS}  # [[tables]] in the TOML
_FIELD_AT = {tuple(f.validation_alias.path): name for name, f in Config.model_fields.items()
             if isinstance(f.validation_alias, AliasPath)}


def _hint(key: str, known: set[str]) -> str:
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


def known_part(data: dict) -> dict:
    """The sections and keys the schema knows (the rest is reported by ``unknown_keys``), for validation."""
    known = {s: {k: v for k, v in t.items() if k in SECTIONS[s]} for s, t in data.items()
             if s in SECTIONS and isinstance(t, dict)}
    known = {s: t for s, t in known.items() if t}
    return {**known, **{name: data[name] for name in LISTS if name in data}}


# -- values outside the schema -------------------------------------------------------------------------------------
def dotted(loc: tuple) -> str:
    """('sensors', 1, 'protocol') -> 'sensors[1].protocol'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _field(loc: tuple):
    if len(loc) == 1 and str(loc[0]) in SensorConfig.model_fields and str(loc[0]) not in Config.model_fields:
        return SensorConfig.model_fields[str(loc[0])]  # a sensor given on the command line
    if loc[:1] == ("sensors",) and len(loc) >= 3:
        return SensorConfig.model_fields.get(str(loc[2]))
    if loc[:1] == ("security",) and len(loc) >= 2:
        return SecurityConfig.model_fields.get(str(loc[1]))
    name = _FIELD_AT.get(tuple(loc[:2]), loc[0] if loc else None)
    return Config.model_fields.get(name)


def _choices(annotation: Any) -> list:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if get_origin(annotation) in (Union, types.UnionType):
        return [c for a in get_args(annotation) for c in _choices(a)]
    return []


def _allowed(loc: tuple) -> str:
    f = _field(loc)
    if f is None:
        return ""
    choices = _choices(f.annotation)
    if choices:
        return ", ".join(map(str, choices))
    lo = next((m.ge for m in f.metadata if hasattr(m, "ge")), None)
    hi = next((m.le for m in f.metadata if hasattr(m, "le")), None)
    return f"{lo}–{hi}" if lo is not None and hi is not None else ""


_KINDS = {"float_type": "a number", "int_type": "a whole number", "bool_type": "true or false", "string_type": "text",
          "finite_number": "a finite number"}
_NEEDS = {"protocol": f"one of {', '.join(PROTOCOLS)}", "url": "e.g. /dev/ttyUSB0"}


def _say(err: dict) -> str | None:
    loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
    key = dotted(loc)
    if kind == "extra_forbidden":
        return None  # unknown_keys names it, with a hint
    if kind == "missing":
        parent, field = dotted(loc[:-1]), loc[-1]
        return f"`{parent}` needs `{field}`" + (f" ({_NEEDS[field]})" if field in _NEEDS else "")
    if kind in _KINDS:
        return f"`{key}` must be {_KINDS[kind]}, not {value!r}"
    if kind == "literal_error" or kind.startswith(("greater_than", "less_than")):
        return f"`{key}` is {value!r}; allowed: {_allowed(loc)}"
    if kind == "value_error":
        why = str(err.get("ctx", {}).get("error", err["msg"]))
        if why.startswith("in steps"):
            return f"`{key}` is {value!r}; allowed: {_allowed(loc)} {why}"
        return f"`{key}`: {why}"
    if kind == "string_too_short":
        return f"`{key}` must not be empty"
    if kind == "string_too_long":
        return f"`{key}` is {len(value)} characters long: at most {err['ctx']['max_length']} are allowed"
    if kind in ("tuple_type", "list_type") and loc in (("sensors",), ("sessions",)):
        return f"`{loc[0]}` must be a list of tables `[[{loc[0]}]]`"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"`{key}` must be a table"
    return f"`{key}`: {err['msg']}"


def field_problems(exc: ValidationError) -> tuple[set[str], list[str]]:
    """The keys with bad values, and one sentence for each problem."""
    errors = exc.errors(include_url=False)
    texts = [t for t in map(_say, errors) if t]
    return {dotted(tuple(e["loc"])) for e in errors}, list(dict.fromkeys(texts))


# Stand-ins for a sensor's required values that failed, so that the sensor keeps its place (and its index in the
# messages) while the other settings are cross-checked.
_STAND_IN = {"id": lambda i: f"sensor-{i + 1}-being-fixed-{uuid.uuid4().hex[:8]}", "protocol": lambda i: PROTOCOLS[0],
             "url": lambda i: "-"}


def _drop(data: Any, loc: tuple) -> None:
    *parents, last = loc
    for part in parents:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(data, dict):
        data.pop(last, None)


def sanitised(data: dict, exc: ValidationError) -> dict:
    """``data`` without the values that failed (their defaults apply), so the others can still be cross-checked."""
    data = copy.deepcopy(data)
    for _ in range(4):
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc == ("sensors",) or loc[:1] == ("sessions",):  # the default sessions stand in for bad ones
                data.pop(loc[0], None)
            elif loc[:1] == ("sensors",) and len(loc) == 2:  # not a table: a stand-in keeps the place
                data["sensors"][loc[1]] = {k: make(loc[1]) for k, make in _STAND_IN.items()}
            elif loc[:1] == ("sensors",) and len(loc) == 3 and loc[2] in _STAND_IN:
                data["sensors"][loc[1]][loc[2]] = _STAND_IN[loc[2]](loc[1])
            else:
                _drop(data, loc)
        try:
            Config.model_validate(data, context={"contradictions": []})
            return data
        except ValidationError as again:
            exc = again
    return {}


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
    ka, kb = toml_key(low), toml_key(high)
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
        a, s = toml_key("audit_retention_days"), toml_key("retention_days")
        found.append(((a, s), f"`{a}` ({cfg.audit_retention_days}) must be at least `{s}` ({cfg.retention_days}): "
                              "the audit trail of a kept screening must be kept too"))
    return found

