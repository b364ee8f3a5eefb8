"""The onset of an illness against the case's day (hypothesis): taken when it is within ONSET_BEFORE_CASE_DAYS before
the case (and not after today), refused naming the case's day otherwise; never anything but a date or a ValueError."""
import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.case import ONSET_BEFORE_CASE_DAYS, onset_from

DAYS = st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31))


@given(DAYS, DAYS)
def test_an_onset_is_taken_within_two_weeks_before_the_case(onset, case_day):
    today = max(onset, case_day)
    gap = (case_day - onset).days
    if gap > ONSET_BEFORE_CASE_DAYS:
        with pytest.raises(ValueError, match=f"{gap} days before the case \\({case_day.isoformat()}\\)"):
            onset_from(onset.isoformat(), today, case_day.isoformat())
    else:
        assert onset_from(onset.isoformat(), today, case_day.isoformat()) == onset.isoformat()


@given(st.text(max_size=20), DAYS)
def test_any_text_is_a_date_or_one_clear_refusal(text, case_day):
    try:
        got = onset_from(text, case_day, case_day.isoformat())
    except ValueError as exc:
        assert str(exc).startswith("onset ") and "\n" not in str(exc)
    else:
        assert datetime.date.fromisoformat(got) <= case_day
