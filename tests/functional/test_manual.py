"""Manual readings typed by staff: what is accepted, what is refused and why; fuzzed for crashes."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import ManualReason
from drivers.manual import ManualEntryError, manual_reading, parse_temperature
from gate.cli import build_parser
from gate.ui.screens.manual import REASON_LABELS


@pytest.mark.parametrize("text, celsius, unit", [
    ("36.6", 36.6, "C"), ("36,6", 36.6, "C"), ("36.6C", 36.6, "C"), ("36.6 c", 36.6, "C"), (" 37 ", 37.0, "C"),
    ("36.6°C", 36.6, "C"), ("98.6F", 37.0, "F"), ("97.9 f", 36.61, "F"), ("30", 30.0, "C"), ("45.0", 45.0, "C"),
    ("37.2949", 37.2949, "C"), ("37,25", 37.25, "C"), ("36.60000000", 36.6, "C"), ("98.60F", 37.0, "F"),
])
def test_accepted(text, celsius, unit):
    assert parse_temperature(text) == (pytest.approx(celsius, abs=0.01), unit)


@pytest.mark.parametrize("text, says", [
    ("", "no temperature"), ("   ", "no temperature"), ("abc", "not a temperature"), ("nan", "not a temperature"),
    ("inf", "not a temperature"), ("1e9", "not a temperature"), ("3.73.1", "not a temperature"),
    ("98.6", "add F"), ("29.9", "outside 30–45"), ("45.1", "outside 30–45"), ("-36.6", "outside"),
    ("36.6K", "not a temperature"), ("120F", "outside"), ("36.6.", "not a temperature"),
    ("37.294900001", "not a temperature"), ("37.", "not a temperature"),
])
def test_refused_with_a_message_that_says_what_to_do(text, says):
    with pytest.raises(ManualEntryError) as err:
        parse_temperature(text)
    assert says in str(err.value)


def test_manual_reading_records_who_what_and_why():
    r = manual_reading("97.9F", operator="Wang Li", device_id="clinical-2", reason="sensor-fault")
    assert r.is_manual and r.operator == "Wang Li" and r.device_id == "clinical-2"
    assert r.manual_reason == "sensor-fault" and r.unit_entered == "F" and r.value_c == pytest.approx(36.61)
    with pytest.raises(ManualEntryError):
        manual_reading("36.6", operator=" ")
    with pytest.raises(ManualEntryError):
        manual_reading("36.6", operator="li", reason="bored")


def test_one_list_of_manual_reasons_for_the_driver_the_command_line_and_the_form():
    codes = ["sensor-fault", "cold", "retest", "other"]  # stored in logs already: the codes themselves never change
    assert [r.value for r in ManualReason] == codes
    for code in codes:
        assert manual_reading("36.6", operator="li", reason=code).manual_reason is ManualReason(code)
    screen = build_parser(["screen"])._subparsers._group_actions[0].choices["screen"]
    reason = next(a for a in screen._actions if a.dest == "reason")
    assert list(reason.choices) == codes and reason.default == "other"
    assert list(REASON_LABELS) == list(ManualReason)
    with pytest.raises(ManualEntryError, match="not one of sensor-fault, cold, retest, other"):
        manual_reading("36.6", operator="li", reason="Cold")


@given(st.text(max_size=30))
def test_any_text_either_parses_in_range_or_is_refused(text):
    try:
        value, unit = parse_temperature(text)
    except ManualEntryError as exc:
        assert str(exc)
    else:
        assert 30.0 <= value <= 45.0 and unit in ("C", "F")
