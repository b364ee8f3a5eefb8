"""A card scanned into the manual form's temperature field names the person; it is never read as a temperature, and
what is meant as a temperature is never taken for an id."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.manual import ManualEntryError, parse_temperature, scanned_id


@pytest.mark.parametrize("text, entrant", [("S00042", "S00042"), ("20230417", "20230417"), ("p42", "p42"),
                                           ("Ｐ４２", "P42"), ("P-42", "P-42"), ("  S1\t", "S1")])
def test_what_a_scanner_types_is_an_id(text, entrant):
    assert scanned_id(text) == entrant


@pytest.mark.parametrize("text", ["36.6", "36,6", "366", "37C", "98F", "97.9F", "36 °C", "-36", "36°", "3b.6", "",
                                  "   ", "S 42", "P\x1b[2J42", "x" * 200, "36.6.6"])
def test_a_temperature_or_garbage_is_not_an_id(text):
    assert scanned_id(text) is None


@given(st.text(max_size=40))
def test_never_raises_and_never_takes_a_temperature_for_an_id(text):
    entrant = scanned_id(text)
    if entrant is not None:
        with pytest.raises(ManualEntryError):
            parse_temperature(text)
        assert entrant == entrant.strip() and " " not in entrant


@given(st.decimals(min_value=30, max_value=45, places=2, allow_nan=False), st.sampled_from(["", "C", "°C", " C"]))
def test_every_temperature_a_teacher_types_stays_a_temperature(value, unit):
    assert scanned_id(f"{value}{unit}") is None
