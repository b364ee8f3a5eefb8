"""Temperatures are never shown in a way that contradicts the decision: 37.27 °C is admitted, so it is not "37.3 °C"."""

from hypothesis import given
from hypothesis import strategies as st

from domain import Decision, MaskResult, MaskState, Reading
from domain.temperature import at_or_above, judged, shown_c
from gate.policy import PolicyConfig, decide
from tests.support import run_gate

VALUES = st.floats(min_value=-60.0, max_value=150.0, allow_nan=False, allow_infinity=False)


def parsed(text: str) -> float:
    return float(text.removesuffix(" °C"))


@given(VALUES, VALUES)
def test_the_shown_text_is_at_or_above_the_threshold_iff_the_value_is(value, threshold):
    text = shown_c(value, threshold)
    assert at_or_above(parsed(text), threshold) == at_or_above(value, threshold), text


@given(VALUES, st.lists(VALUES, max_size=4))
def test_the_text_keeps_the_value_on_its_side_of_every_limit(value, limits):
    shown = parsed(shown_c(value, *limits))
    for lim in limits:
        assert (shown > judged(lim)) == (judged(value) > judged(lim))
        assert (shown < judged(lim)) == (judged(value) < judged(lim))
    assert abs(shown - value) <= 0.055 + 1e-9  # never further than judging (0.005) plus one-decimal rounding


@given(st.floats(min_value=34.0, max_value=39.0).map(lambda v: round(v, 1)), VALUES)
def test_one_decimal_wherever_it_cannot_mislead(threshold, value):
    text = shown_c(value, threshold, unit=False)
    if abs(judged(value) - threshold) >= 0.05 + 1e-9:
        assert text == f"{judged(value):.1f}"


def test_the_issue_cases():
    assert shown_c(37.27, 37.3) == "37.27 °C"
    assert shown_c(37.28, 37.3) == "37.28 °C" and shown_c(37.25, 37.3) == "37.2 °C"
    assert shown_c(37.29, 37.3, unit=False) == "37.29"
    assert shown_c(37.3, 37.3) == "37.3 °C" and shown_c(37.296, 37.3) == "37.3 °C"  # judged 37.30: a fever
    assert shown_c(36.6, 37.3) == "36.6 °C" and shown_c(37.34, 37.3) == "37.34 °C" and shown_c(37.36, 37.3) == "37.4 °C"
    assert shown_c(None) == "—" and shown_c(float("nan")) == "—"


def gun(v):
    return Reading(object_c=v, body_c=v, source="gun-1", ambient_c=22.0)


def test_spoken_messages_agree_with_the_decision():
    cfg = PolicyConfig()
    low = decide([gun(33.994)], MaskResult(MaskState.YES), cfg)
    assert low.decision is Decision.RETEST and "33.99 °C is too low" in low.message
    high = decide([gun(43.04)], MaskResult(MaskState.YES), cfg)
    assert "43.04 °C is not a plausible reading" in high.message
    fever = decide([gun(37.296)], MaskResult(MaskState.YES), cfg)
    assert fever.decision is Decision.RETEST and "37.3 °C is at or above 37.3 °C" in fever.message
    cold = decide([Reading(object_c=36.5, body_c=36.5, source="gun-1", ambient_c=9.996)], MaskResult(MaskState.YES),
                  cfg)
    assert "ambient-too-cold" not in cold.reasons  # judged 10.00: inside the range, as its text says


def test_the_command_line_shows_an_admitted_37_27_below_the_threshold(db_path):
    out = run_gate("screen", "--temp", "37.27", "--mask", "yes", "--db", db_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ADMIT") and "37.27 °C" in out.stdout and "37.3" not in out.stdout
