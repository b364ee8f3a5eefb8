"""Case events another gate sent upward are read without trusting them (storage.pulled_cases.event_from), and the
school's case list is folded the same way whatever order the events arrive in (storage.cases.fold): the first close
by time counts, at every gate."""
import json

from hypothesis import given, strategies as st

from domain.case import CaseReason, Outcome
from domain.identifiers import check_text
from storage.cases import fold
from storage.pulled_cases import EVENT_KEYS, event_from, symptoms_of

GOOD = {"id": "e1", "case_id": "c1", "event": "close", "station_id": "north", "entrant_id": "P42",
        "class_name": "三年级二班", "day": "2026-12-01", "session": "morning", "reason": "absent",
        "screening_id": None, "outcome": "sick-leave", "symptoms": '["fever"]', "onset": "2026-12-01", "note": "",
        "by": "chen", "role": "teacher", "at": 1796000000.0}
ANY = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
                   lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=10)


def test_a_well_formed_close_is_read_as_it_was_sent():
    e = event_from(GOOD)
    assert e is not None and e["outcome"] == "sick-leave" and json.loads(e["symptoms"]) == ["fever"]


@given(ANY)
def test_anything_at_all_is_an_event_or_nothing_never_a_crash(data):
    e = event_from(data)
    assert e is None or (e["event"] in ("open", "close") and CaseReason(e["reason"]))


@given(st.sampled_from(EVENT_KEYS), ANY)
def test_one_field_set_to_anything_is_refused_or_read_safely(key, value):
    e = event_from({**GOOD, key: value})
    if e is not None:  # still a close of a known outcome, with text where text belongs
        assert Outcome(e["outcome"]) and isinstance(e["entrant_id"], str) and isinstance(e["at"], float)
        assert all(isinstance(s, str) for s in json.loads(e["symptoms"]))


@given(st.sampled_from(["entrant_id", "class_name", "by", "note", "station_id", "session"]),
       st.text(alphabet=st.characters(codec="utf-8"), max_size=70))
def test_text_a_teacher_is_shown_is_printable_or_the_event_is_left_out(key, value):
    e = event_from({**GOOD, key: value})
    if e is not None and e[key] and e[key].strip():
        assert check_text(e[key], key, max_len=500)  # no escape, control, bidi or zero-width character


def test_a_note_with_a_terminal_escape_is_left_out():
    assert event_from({**GOOD, "note": "ok\x1b[2J\x1b[31mFAKE"}) is None
    assert event_from({**GOOD, "by": "wang\u202e"}) is None


@given(ANY)
def test_symptoms_are_text_whatever_was_sent(value):
    assert all(isinstance(s, str) for s in symptoms_of(value))


def _event(eid, event, station, at, outcome=None):
    return {**GOOD, "id": eid, "event": event, "station_id": station, "at": at, "outcome": outcome,
            "symptoms": "[]" if outcome != "sent-home" else '["fever"]'}


EVENTS = [_event("o1", "open", "north", 100.0), _event("x1", "close", "north", 305.0, "late-arrival"),
          _event("x2", "close", "south", 300.0, "sent-home"), _event("x3", "close", "east", 305.0, "false-alarm")]


@given(st.permutations(EVENTS))
def test_every_gate_folds_the_same_case_whatever_order_it_heard_the_closes(order):
    case = fold(order)["c1"]
    assert case.outcome is Outcome.SENT_HOME and case.closed_at_gate == "south" and case.gate == "north"
    # a tie in time is broken by the gate's id, so east's note comes before north's everywhere
    assert [(o.gate, o.outcome) for o in case.other_closes] == [("east", Outcome.FALSE_ALARM),
                                                                ("north", Outcome.LATE_ARRIVAL)]
