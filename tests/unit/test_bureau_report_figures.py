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
    assert report_figures("[1, 2]") == {"clusters": None, "zero_report": None, "provisional": False,
                                        "unscreened": None, "sessions": ()}
    assert report_figures('{"clusters": "3", "zero_report": "true"}') == {"clusters": None, "zero_report": False,
                                                                          "provisional": False, "unscreened": None,
                                                                          "sessions": ()}
    assert report_figures('{"clusters": true}')["clusters"] is None
    assert report_figures('{"clusters": -1}')["clusters"] is None
    assert report_figures("[" * 100000)["clusters"] is None  # deeply nested: refused, not a crash
    assert report_figures('{"clusters": [{"class": "三年级二班"}], "zero_report": true}') == {
        "clusters": 1, "zero_report": True, "provisional": False, "unscreened": None, "sessions": ()}


def test_a_provisional_report_is_undecided_not_a_missing_zero_report():
    # A gate waiting for the other gate's sync sends zero_report null and provisional true (gate report daily).
    assert report_figures('{"zero_report": null, "provisional": true, "clusters": []}') == {
        "clusters": 0, "zero_report": None, "provisional": True, "unscreened": None, "sessions": ()}
    assert report_figures('{"provisional": "yes"}')["provisional"] is False  # only exactly true
    assert report_figures('{"clusters": []}')["zero_report"] is False  # silent about it: not a zero report


def test_the_checks_a_report_lists_are_names_only():
    said = {"sessions": {"morning": {"window": "06:30–08:30"}, "evening": {}, "": 1}}
    assert report_figures(json.dumps(said))["sessions"] == ("morning", "evening", "")
    assert report_figures('{"sessions": ["evening"]}')["sessions"] == ()  # not the gate's shape: nothing
    assert len(report_figures(json.dumps({"sessions": {str(i): 0 for i in range(10**4)}}))["sessions"]) == 32


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


@given(st.dictionaries(st.sampled_from(["unscreened_ids", "roster", "unscreened"]), JSON, max_size=3))
def test_the_unscreened_a_report_sends_are_ids_or_not_reported(report):
    got = report_figures(json.dumps(report))["unscreened"]
    ids, roster = report.get("unscreened_ids"), report.get("roster")
    if got is not None:  # only a list of ids, from a gate with a roster (or an older report listing someone)
        assert isinstance(ids, list) and got == frozenset(ids) and all(isinstance(i, str) for i in ids)
    if roster == 0 and not isinstance(roster, bool) or not isinstance(ids, list):
        assert got is None  # no roster at that gate, or nothing usable: the figure is not reported, never 0


def test_the_schools_unscreened_is_its_gates_lists_intersected_and_half_a_school_is_not_reported():
    from storage.bureau import half_school, school_unscreened

    north = report_figures(json.dumps({"unscreened_ids": ["P1", "P2", "P3"], "roster": 4}))
    south = report_figures(json.dumps({"unscreened_ids": ["P2", "P3", "P4"], "roster": 4}))
    bare = report_figures(json.dumps({"unscreened_ids": [], "roster": 0, "unscreened": 0}))  # a gate with no roster
    both = {"north": north, "south": south, "east": bare}
    assert half_school(both, ["north", "south", "east"], 3) is None
    assert school_unscreened(list(both.values()), None) == 2  # P2, P3: no gate saw them; a gate's 0 is no figure
    half = half_school({"north": north}, ["north", "south"], None)
    assert half == {"not_reported": ["south"], "unregistered": 0, "said_provisional": []}
    assert school_unscreened([north], half) is None  # south's pupils may be the ones north did not see
    assert half_school({"north": north}, ["north"], 2)["unregistered"] == 1  # the bureau expects two gates
    assert school_unscreened([bare], None) is None  # nobody keeps a roster: not reported, never 0
    assert half_school({}, ["north"], 3) is None  # nothing reported at all: "not reported", not half a report
