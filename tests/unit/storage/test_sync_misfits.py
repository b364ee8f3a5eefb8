"""The sync's check of identifiers before sending (storage.sync_misfits), made fast by looking a column at a time, takes
out exactly the records the careful look one value at a time takes out, with the same reason, whatever the text (a
pupil's edit of the log: control characters, U+3000, a NUL, 10 KB, a number where a text belongs)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identifiers import IdentifierError, check_text
from storage.sync_misfits import misfits, plain
from storage.upstream_schema import TABLES

TEXTS = st.one_of(st.text(max_size=80), st.text(alphabet="ab1-\u3000\x00\t\n\u200b\u00e9班", max_size=70),
                  st.sampled_from(["", " ", "S00042", "x" * 36, "x" * 37, "y" * 64, "y" * 65, "A" * 10_240]))
VALUES = st.one_of(TEXTS, st.none(), st.integers(), st.floats(allow_nan=False))
COLUMNS = [c.name for c in TABLES["screening"].columns]
CHECKED = ("school_id", "id", "station_id", "entrant_id", "operator", "follows", "decision", "prev_hash", "row_hash",
           "session")


def one_at_a_time(groups: dict) -> dict[str, str]:
    """The definition: each record, each identifier column (the school's last), the first problem found."""
    lengths = {c.name: c.type.length for c in TABLES["screening"].columns if c.name in CHECKED}
    order = [n for n in COLUMNS if n in CHECKED and n != "school_id"] + ["school_id"]
    out = {}
    for (_seq, _kind, record_id), row in groups["screening"]:
        for name in order:
            value, length = row[COLUMNS.index(name)], lengths[name]
            if not isinstance(value, str):
                continue
            if len(value) > length:
                out[record_id] = f"refused here, not sent: {name} is {len(value)} characters long: " \
                                 f"the upstream takes at most {length}"
                break
            if value.strip() and not value.isprintable():
                try:
                    check_text(value, name, max_len=length)
                except IdentifierError as exc:
                    out[record_id] = f"refused here, not sent: {exc}"
                    break
    return out


def batch(draw_rows) -> dict:
    items = []
    for n, changes in enumerate(draw_rows):
        row = ["school-1", f"id-{n}", "gate-1", n + 1, 1.5e9, "2026-11-27", "S00001", "duty", None, "admit",
               '["normal"]', "ok", 37.3, 36.5, "{}", "[]", "0" * 64, "1" * 64, "morning"]
        for name, value in changes.items():
            row[COLUMNS.index(name)] = value
        items.append(((n + 1, "screening", f"id-{n}"), tuple(row)))
    return {"screening": items}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(CHECKED + ("message", "readings")), VALUES, max_size=3),
                min_size=1, max_size=30))
def test_the_column_check_takes_out_exactly_what_the_careful_look_would(changes):
    groups = batch(changes)
    expected = one_at_a_time(groups)
    kept_before = [item for item in groups["screening"] if item[0][2] not in expected]
    bad = misfits(groups)
    assert {record_id: reason for _seq, _kind, record_id, reason in bad} == expected
    assert groups["screening"] == kept_before  # the rest are kept, in order


@given(st.lists(VALUES, max_size=20), st.integers(min_value=0, max_value=80))
def test_a_column_is_plain_exactly_when_each_text_is_short_and_printable(values, length):
    each = all(len(v) <= length and v.isprintable() for v in values if type(v) is str)
    assert plain(values, length) == each


def test_a_clean_batch_loses_nothing_and_a_control_character_is_named():
    groups = batch([{}, {"entrant_id": "S\x1b[31m42"}, {}, {"station_id": "g" * 65}])
    bad = misfits(groups)
    assert [record_id for (_s, _k, record_id), _row in groups["screening"]] == ["id-0", "id-2"]
    reasons = {record_id: reason for _seq, _kind, record_id, reason in bad}
    assert "entrant_id" in reasons["id-1"] and "station_id is 65 characters long" in reasons["id-3"]
