"""Text a teacher types for a case (symptoms, onset day) and the classes an admin types for a teacher: every input is
read or refused with one line saying what to write; nothing else comes out."""
import argparse
import datetime

from hypothesis import given, strategies as st

from domain.case import SYMPTOMS, onset_from, symptoms_from
from gate.cli.common import class_list
from tests.support import read_or_refused


@given(st.text(max_size=60))
def test_symptoms_are_known_words_or_refused_naming_the_known_ones(text):
    try:
        got = symptoms_from(text)
    except ValueError as exc:
        assert "use fever, cough" in str(exc) and "\n" not in str(exc)
    else:
        assert set(got) <= set(SYMPTOMS) and list(got) == sorted(set(got))


@given(st.lists(st.sampled_from(SYMPTOMS), min_size=1), st.sampled_from([",", "，", " , "]))
def test_symptoms_in_any_case_and_separator_are_read(words, sep):
    assert symptoms_from(sep.join(w.upper() for w in words)) == tuple(sorted(set(words)))


@given(st.text(max_size=20))
def test_an_onset_is_a_date_or_refused(text):
    got = read_or_refused(onset_from, text, ValueError, "use YYYY-MM-DD")
    if got is not None:
        assert datetime.date.fromisoformat(got).isoformat() == got == text


@given(st.dates(), st.dates())
def test_an_onset_after_today_is_refused_naming_both_days(onset, today):
    try:
        got = onset_from(onset.isoformat(), today)
    except ValueError as exc:
        assert onset > today and f"onset {onset.isoformat()} is after today ({today.isoformat()})" in str(exc)
        assert "\n" not in str(exc)
    else:
        assert onset <= today and got == onset.isoformat()


@given(st.text(max_size=200))
def test_classes_are_printable_names_or_refused(text):
    try:
        got = class_list(text)
    except argparse.ArgumentTypeError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert got and all(c.isprintable() and c.strip() == c and 0 < len(c) <= 64 for c in got)
