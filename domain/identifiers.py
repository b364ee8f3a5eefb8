"""Identifiers and names as they enter the station: printable text of a bounded length, checked the same way in the
config, the command line, the roster and the UI, so the upstream never refuses a record for its length."""
from __future__ import annotations

import functools
import unicodedata

from domain.errors import UsageError

# Upstream columns are String(64) for ids, String(128) for names: a value that fits here fits there.
ID_MAX = 64
NAME_MAX = 128


class IdentifierError(UsageError):
    """A value that cannot be an identifier or a name; the message says which and what is allowed."""


def _printable(text: str) -> bool:
    # Control, format (bidi overrides, zero-width), surrogate and unassigned characters can forge or hide text on a
    # terminal or in a spreadsheet; letters of every script, digits, punctuation and the plain space are fine.
    return all(unicodedata.category(ch)[0] not in "C" and ch not in "\u2028\u2029" for ch in text)


def check_text(value: object, what: str, *, max_len: int, allow_space: bool = True) -> str:
    """Return ``value`` stripped if it is printable text of 1..max_len characters, else raise IdentifierError."""
    if not isinstance(value, str):
        raise IdentifierError(f"{what} must be text")
    text = value.strip()
    if not text:
        raise IdentifierError(f"{what} is empty: type the {what}")
    if len(text) > max_len:
        raise IdentifierError(f"{what} is {len(text)} characters long: at most {max_len} are allowed")
    if not _printable(text):
        raise IdentifierError(f"{what} contains control or invisible characters: use printable text only")
    if not allow_space and any(ch.isspace() for ch in text):
        raise IdentifierError(f"{what} {text!r} contains a space: use letters, digits, '-', '_' or '.'")
    return text


def check_id(value: object, what: str = "id") -> str:
    """An entrant, station, operator or sensor id: printable, no spaces, at most ID_MAX characters.

    Compatibility forms are folded (NFKC): a scanner or an input method that types full-width "Ｐ４２" means P42, and a
    fever recorded under P42 must follow that person whichever way the id was typed.
    """
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value)
    return check_text(value, what, max_len=ID_MAX, allow_space=False)


def id_key(value: str) -> str:
    """The key under which two spellings of one entrant id are the same person: compatibility forms and case folded
    (NFKC, casefold, NFKC: Unicode's identifier caseless matching). School ids are written P42 on the card, p42 by a
    tired hand and Ｐ４２ by an input method; a fever recorded under one must follow the pupil under every other, and a
    roster cannot hold two pupils who differ only by case. The id is still stored and shown as it was given."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def check_name(value: object, what: str = "name") -> str:
    """A person's or a class's name: printable, at most NAME_MAX characters (spaces allowed)."""
    return check_text(value, what, max_len=NAME_MAX)


CLASS_MAX = 64  # the upstream's class_name column


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def check_class(value: object, what: str = "class") -> str:
    """A class (or department) in the one spelling the station files it under, wherever it is typed (the roster,
    a teacher's --classes, a --class filter): compatibility forms folded (NFKC: full-width Ｂ, ３ and the ideographic
    space are B, 3 and a space), each run of spaces one space, and no space beside a Chinese character (三年级 二班
    is 三年级二班: a school never means two classes by it); printable, at most CLASS_MAX characters. Case is kept
    (class_key matches it)."""
    text = check_text(value, what, max_len=CLASS_MAX)  # controls refused before any folding
    text = check_text(" ".join(unicodedata.normalize("NFKC", text).split()), what, max_len=CLASS_MAX)
    return "".join(ch for i, ch in enumerate(text)
                   if not (ch == " " and (_wide(text[i - 1]) or _wide(text[i + 1]))))


@functools.lru_cache(maxsize=4096)
def class_key(value: str) -> str:
    """The key under which two spellings of one class are the same class: its filed form without spaces, case
    folded ("Class 3B", "class 3b", "Class3B", "ｃｌａｓｓ３Ｂ"). Classes are matched by it everywhere (a teacher's
    classes, a --class filter, the roster, cases, clusters), so a spelling filed before these rules still matches."""
    try:
        text = check_class(value)
    except IdentifierError:
        text = value or ""
    return unicodedata.normalize("NFKC", "".join(text.split()).casefold())


def class_keys(classes) -> frozenset[str]:
    """The keys of ``classes``: ``class_key(name) in class_keys(classes)`` matches a class under any spelling."""
    return frozenset(class_key(c) for c in classes)


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029"


def escaped(text: str, keep: str = "") -> str:
    """``text`` safe to show on a terminal: every character a terminal would obey or hide instead of showing (ESC,
    CR and the other controls, bidi overrides and other format characters, surrogates, private-use and unassigned
    code points, line separators) is written as a JSON-style ``\\uXXXX`` escape, so a value read from a file or the
    log can neither forge a line nor paint the screen; characters in ``keep`` (e.g. a newline) pass as they are."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in keep or not _hidden(ch):
            out.append(ch)
        elif ord(ch) > 0xFFFF:  # as JSON writes it: a surrogate pair
            cp = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)
