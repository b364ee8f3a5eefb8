"""A JSON column's stored text is believed only in a form the station writes (storage.row_check.as_written): any
value in each of those forms is taken, and gives the chain's canonical text; the same value spelt any other way (a
pupil's \\u escape, spaces, a duplicate key, a longer number) is refused, though Python parses it alike."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.chain import canonical
from storage.records import edited_json
from storage.row_check import as_written

KEYS = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2030, blacklist_categories=("Cs",)),
               max_size=8)
VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20)
                      | st.floats(allow_nan=False, allow_infinity=False) | KEYS,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=12)
WRITTEN = (  # storage.records: a screening's columns now and before 2026-11-29, an audit event's detail
    lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False),
    lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False),
    lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True),
)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.sampled_from(WRITTEN))
def test_every_form_the_station_writes_is_believed_and_gives_the_chains_canonical_text(value, write):
    text = write(value)
    assert as_written(text) == json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert as_written(text) == canonical({"v": value})[5:-1]


@settings(max_examples=300, deadline=None)
@given(VALUES, st.sampled_from(["ascii", "indent", "space-before", "space-after"]))
def test_the_same_value_spelt_another_way_is_refused(value, how):
    text = {"ascii": lambda: json.dumps(value, sort_keys=True, separators=(",", ":")),
            "indent": lambda: json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1),
            "space-before": lambda: " " + json.dumps(value, sort_keys=True, ensure_ascii=False),
            "space-after": lambda: json.dumps(value, sort_keys=True, ensure_ascii=False) + "\n"}[how]()
    if any(write(value) == text for write in WRITTEN):
        return  # no character this way of writing changes (plain ASCII, no container to indent)
    with pytest.raises(ValueError):
        as_written(text)


@pytest.mark.parametrize("text", [r'["\u0066ever-confirmed"]', '[ "fever-confirmed" ]', '["fever-confirmed"] ',
                                  '{"a":1,"a":1}', '{"t":38.6000000000000000000001}', '{"t":38.60}', '[1E1]',
                                  '[NaN]', '[Infinity]', '[1e400]', "not json", ""])
def test_a_pupils_spellings_are_refused(text):
    with pytest.raises(ValueError):
        as_written(text)


def test_a_row_names_the_column_whose_text_was_changed():
    row = {"reasons": '["fever-confirmed"]', "mask": r'{"state":"\u006eo"}', "readings": "[]"}
    assert edited_json(row, ("reasons", "mask", "readings")) == \
        "its mask column's text was changed outside the station (not as the station writes it)"
    assert edited_json({**row, "mask": '{"state":"no"}'}, ("reasons", "mask", "readings")) is None
    assert edited_json({**row, "mask": None}, ("mask",)) is not None  # NULL is not a text the station writes
