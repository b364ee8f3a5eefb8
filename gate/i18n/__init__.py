"""User-facing text in zh-CN and en, one JSON catalogue per language; missing keys fall back to English.

JSON rather than TOML: every command that prints a decision reads a catalogue, and the C JSON decoder reads one
in a fraction of a millisecond where the pure-Python TOML parser took about 3 ms of `gate screen`'s start-up."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    name = {"zh-CN": "zh_CN.json", "en": "en.json"}[lang]
    with resources.files("gate.i18n").joinpath(name).open("rb") as f:
        return _flatten(json.load(f))


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


def normalise(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANGUAGE
    low = lang.replace("_", "-").lower()
    if low.startswith("zh"):
        return "zh-CN"
    if low.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


class Localised(str):
    """A message argument that is itself text to translate (" at north gate"): it reads as English where it is
    formatted as it is, and ``t`` puts it in the message's own language."""

    def __new__(cls, key: str, **kw: object) -> "Localised":
        made = super().__new__(cls, t(key, "en", **kw))
        made.key, made.kw = key, kw
        return made

    def in_language(self, lang: str) -> str:
        return t(self.key, lang, **self.kw)


def t(key: str, lang: str = DEFAULT_LANGUAGE, **kw: object) -> str:
    text = catalogue(normalise(lang)).get(key) or catalogue("en").get(key) or key
    if not kw:
        return text
    return text.format(**{k: v.in_language(lang) if isinstance(v, Localised) else v for k, v in kw.items()})
