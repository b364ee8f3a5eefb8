"""What the bureau reads from a station's daily report is text from outside: any text gives figures or "not
reported", never an exception, and never a zero report it did not say."""
import json

from hypothesis import given
from hypothesis import strategies as st

from storage.bureau import report_figures

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4), max_leaves=12)


@given(st.text(max_size=300))
def test_any_text_gives_figures_or_nothing(text):
    got = report_figures(text)
    assert got["clusters"] is None or (isinstance(got["clusters"], int) and got["clusters"] >= 0)
    assert got["zero_report"] in (True, False, None)


@given(st.dictionaries(st.sampled_from(["clusters", "zero_report", "screened", "x"]), JSON, max_size=4))
def test_a_report_is_a_zero_report_only_when_it_says_exactly_true(report):
    got = report_figures(json.dumps(report))
    assert (got["zero_report"] is True) == (report.get("zero_report") is True)
    if isinstance(report.get("clusters"), list):
        assert got["clusters"] == len(report["clusters"])


def test_odd_reports():
    assert report_figures("[1, 2]") == {"clusters": None, "zero_report": None, "provisional": False}
    assert report_figures('{"clusters": "3", "zero_report": "true"}') == {"clusters": None, "zero_report": False,
                                                                          "provisional": False}
    assert report_figures('{"clusters": true}')["clusters"] is None
    assert report_figures('{"clusters": -1}')["clusters"] is None
    assert report_figures("[" * 100000)["clusters"] is None  # deeply nested: refused, not a crash
    assert report_figures('{"clusters": [{"class": "三年级二班"}], "zero_report": true}') == {
        "clusters": 1, "zero_report": True, "provisional": False}


def test_a_provisional_report_is_undecided_not_a_missing_zero_report():
    # A gate waiting for the other gate's sync sends zero_report null and provisional true (gate report daily).
    assert report_figures('{"zero_report": null, "provisional": true, "clusters": []}') == {
        "clusters": 0, "zero_report": None, "provisional": True}
    assert report_figures('{"provisional": "yes"}')["provisional"] is False  # only exactly true
    assert report_figures('{"clusters": []}')["zero_report"] is False  # silent about it: not a zero report


@given(st.text(max_size=12))
def test_a_cutoff_is_a_time_of_day_or_one_clear_refusal(text):
    import argparse

    from gate.cli.bureau import hhmm

    try:
        got = hhmm(text)
    except argparse.ArgumentTypeError as exc:
        assert "is not a time of day: use HH:MM" in str(exc)
    else:
        assert f"{got:%H:%M}" == text
