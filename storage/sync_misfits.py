"""What a sync batch must not send: a record whose identifier the upstream would refuse (too long for its column, or
with control or other unprintable characters). Such a record is taken out of the batch here, to quarantine, with one
line naming the column, instead of failing the batch upstream.

Checked a column at a time: the common batch (every identifier short and printable) costs a few C calls per column;
only the rows of a column that fails get looked at one by one.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Iterable

from sqlalchemy import String, Text

from domain.identifiers import IdentifierError, check_text
from storage.upstream_schema import TABLES


def plain(values: Iterable, length: int) -> bool:
    """True when every text of ``values`` is at most ``length`` characters long and printable (other values, e.g.
    None, are not texts). Joined, the texts are printable exactly when each one is: one C call, not one per value."""
    texts = list(filter(None, values))  # None (and "") say nothing either way; in C, not one test per value
    try:
        joined = "".join(texts)
    except TypeError:  # not all texts
        texts = [v for v in texts if type(v) is str]
        joined = "".join(texts)
    return not texts or (max(map(len, texts)) <= length and joined.isprintable())


def misfits(groups: dict) -> list[tuple[int, str, str, str]]:
    """Records the upstream would refuse for an identifier's length or characters: taken out of ``groups``."""
    bad = []
    for kind, items in groups.items():
        checks = [(i, c.name, c.type.length) for i, c in enumerate(TABLES[kind].columns)
                  if isinstance(c.type, String) and not isinstance(c.type, Text) and c.type.length]
        checks.sort(key=lambda check: check[1] == "school_id")  # a school named after its station: say station
        # Fast pass, a column at a time in C: only rows with a value too long or not plainly printable get the
        # careful look below (a column all short and printable, the common case, has no suspect to look for).
        suspects: set[int] = set()
        rows = list(map(itemgetter(1), items))
        for i, _name, length in checks:
            if not plain(map(itemgetter(i), rows), length):  # the column's values straight into the C calls
                suspects.update(n for n, v in enumerate(map(itemgetter(i), rows))
                                if type(v) is str and (len(v) > length or not v.isprintable()))
        if not suspects:
            continue
        keep = []
        for n, item in enumerate(items):
            if n not in suspects:
                keep.append(item)
                continue
            (seq, _kind, record_id), row = item
            problem = None
            for i, name, length in checks:
                value = row[i]
                if isinstance(value, str) and len(value) > length:
                    problem = f"refused here, not sent: {name} is {len(value)} characters long: " \
                              f"the upstream takes at most {length}"
                elif isinstance(value, str) and value.strip() and not value.isprintable():
                    # isprintable() is the fast, stricter test; check_text decides the rest (e.g. U+3000)
                    try:
                        check_text(value, name, max_len=length)
                    except IdentifierError as exc:
                        problem = f"refused here, not sent: {exc}"
                if problem:
                    break
            (bad.append((seq, kind, record_id, problem)) if problem else keep.append(item))
        groups[kind] = keep
    return bad

