"""The retest queue without a screen or a clock: every time is set by the test, nothing sleeps."""
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import Decision, MaskResult, Reading, Reason, Screening
from gate.retests import RetestQueue

T0 = 1_800_000_000.0  # a school morning, as seconds since the epoch


def screening(decision: Decision, *reasons: str, at: float = T0, follows: str | None = None,
              entrant: str | None = None, temp: float = 38.0) -> Screening:
    return Screening("north", (Reading(object_c=temp, body_c=temp, source="gun-1"),), MaskResult(), decision,
                     tuple(reasons), "", 37.3, entrant_id=entrant, follows=follows, created_at=at)


def test_a_suspected_fever_rests_ten_minutes_from_its_screening():
    q = RetestQueue(rest_minutes=10)
    s = screening(Decision.RETEST, Reason.FEVER_SUSPECTED, at=T0)
    q.record(s, now=T0 + 2)  # shown two seconds after it was decided
    (w,) = q.waiting()
    assert w.began == T0 and w.needs_rest
    assert q.left_s(w, T0) == 600 and q.left_s(w, T0 + 599) == 1
    assert q.ready(T0 + 599) == [] and q.default_target(T0 + 599) is None
    assert q.ready(T0 + 600) == [w] and q.default_target(T0 + 600) is s


@pytest.mark.parametrize("reason", [Reason.AMBIENT_TOO_COLD, Reason.READING_TOO_LOW])
def test_a_cold_or_too_low_reading_rests_too(reason):
    q = RetestQueue(rest_minutes=10)
    q.record(screening(Decision.RETEST, reason), now=T0)
    assert q.ready(T0 + 300) == [] and len(q.ready(T0 + 600)) == 1


def test_a_mask_question_needs_no_rest_and_is_never_the_default_target():
    q = RetestQueue(rest_minutes=10)
    s = screening(Decision.RETEST, Reason.NORMAL, Reason.MASK_UNCONFIRMED, temp=36.5)
    q.record(s, now=T0)
    (w,) = q.waiting()
    assert not w.needs_rest and q.left_s(w, T0) == 0
    assert q.ready(T0 + 3600) == [] and q.default_target(T0 + 3600) is None  # answered with F3/F4, not a reading
    assert s.id in q and q.get(s.id) is s


def test_a_mask_confirmation_keeps_the_rest_already_taken():
    q = RetestQueue(rest_minutes=10)
    first = screening(Decision.RETEST, Reason.FEVER_SUSPECTED, Reason.MASK_UNCONFIRMED, at=T0)
    q.record(first, now=T0)
    confirmed = screening(Decision.RETEST, Reason.FEVER_SUSPECTED, at=T0 + 240, follows=first.id)
    q.record(confirmed, now=T0 + 240)
    (w,) = q.waiting()
    assert w.screening is confirmed and w.began == T0  # four minutes already rested, six to go
    assert first.id not in q and q.left_s(w, T0 + 240) == 360


@pytest.mark.parametrize("decision", [Decision.ADMIT, Decision.DENY])
def test_the_retest_decision_closes_the_wait(decision):
    q = RetestQueue(rest_minutes=10)
    first = screening(Decision.RETEST, Reason.FEVER_SUSPECTED)
    q.record(first, now=T0)
    q.record(screening(decision, Reason.RETEST_NORMAL, at=T0 + 700, follows=first.id), now=T0 + 700)
    assert len(q) == 0 and q.waiting() == [] and q.get(first.id) is None


def test_the_person_who_rested_longest_comes_first():
    q = RetestQueue(rest_minutes=10)
    late = screening(Decision.RETEST, Reason.FEVER_SUSPECTED, at=T0 + 60, entrant="S2")
    early = screening(Decision.RETEST, Reason.FEVER_SUSPECTED, at=T0, entrant="S1")
    q.record(late, now=T0 + 60)
    q.record(early, now=T0 + 61)  # shown later, decided earlier (the order of messages is not the order of time)
    assert [w.screening for w in q.waiting()] == [early, late]
    assert q.default_target(T0 + 630) is early and q.default_target(T0 + 600) is early
    assert [w.screening for w in q.ready(T0 + 660)] == [early, late]


def test_a_retest_of_a_screening_the_queue_never_saw_starts_its_rest_now():
    # e.g. the station restarted between the first reading and the mask confirmation
    q = RetestQueue(rest_minutes=10)
    q.record(screening(Decision.RETEST, Reason.FEVER_SUSPECTED, at=T0, follows="unknown-id"), now=T0 + 30)
    (w,) = q.waiting()
    assert w.began == T0 + 30


def test_no_rest_configured_means_ready_at_once_and_a_negative_rest_is_refused():
    q = RetestQueue(rest_minutes=0)
    s = screening(Decision.RETEST, Reason.FEVER_SUSPECTED)
    q.record(s, now=T0)
    assert q.default_target(T0) is s
    with pytest.raises(ValueError, match="rest_minutes"):
        RetestQueue(rest_minutes=-1)


steps = st.lists(st.tuples(st.sampled_from(list(Decision)), st.booleans(), st.integers(0, 5),
                           st.floats(0, 3600, allow_nan=False)), max_size=30)


@given(steps)
def test_the_queue_holds_exactly_the_retests_not_yet_followed(plan):
    q = RetestQueue(rest_minutes=10)
    decided: list[Screening] = []
    for n, (decision, follows_one, pick, dt) in enumerate(plan):
        follows = decided[pick % len(decided)].id if follows_one and decided else None
        s = screening(decision, Reason.FEVER_SUSPECTED, at=T0 + n, follows=follows)
        q.record(s, now=T0 + n + dt)
        decided.append(s)
    followed = {s.follows for s in decided}
    expected = {s.id for s in decided if s.decision is Decision.RETEST and s.id not in followed}
    assert {w.screening.id for w in q.waiting()} == expected
    assert all(q.left_s(w, T0 + 10_000) <= 0 for w in q.waiting())  # nobody's rest outlasts the rule
    waiting = q.waiting()
    assert [w.began for w in waiting] == sorted(w.began for w in waiting)


def test_a_screening_is_not_changed_by_the_queue():
    q = RetestQueue(rest_minutes=10)
    s = screening(Decision.RETEST, Reason.FEVER_SUSPECTED)
    before = msgspec.to_builtins(s)
    q.record(s, now=T0)
    assert msgspec.to_builtins(q.get(s.id)) == before
