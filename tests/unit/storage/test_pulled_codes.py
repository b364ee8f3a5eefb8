"""The lists of codes another station sent upward are read without trusting them (storage.school_records.codes): any
text gives a list of text codes, and the code the pull matched on (a confirmed fever, a fever symptom) is never lost,
so an unreadable list never turns a fever at the other gate into an admit here."""
import json

from hypothesis import given
from hypothesis import strategies as st

from storage.school_records import codes

JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                       lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=10)


@given(st.one_of(st.text(), st.binary(), st.none(), st.integers(), JSONISH.map(json.dumps)))
def test_any_upstream_text_gives_text_codes_with_the_one_matched(text):
    found = codes(text, "fever-confirmed")
    assert "fever-confirmed" in found and all(isinstance(c, str) for c in found)


def test_a_readable_list_is_kept_as_sent():
    assert codes('["fever-suspected","fever-confirmed"]', "fever-confirmed") == ["fever-suspected", "fever-confirmed"]
    assert codes('["cough"]', "fever") == ["fever", "cough"]
    assert codes("not json", "fever") == ["fever"]
