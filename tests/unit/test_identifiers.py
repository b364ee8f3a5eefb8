"""Identifiers and names are checked the same way wherever they enter."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identifiers import ID_MAX, IdentifierError, check_id, check_name


@pytest.mark.parametrize("good", ["P42", "gate-north.1", "三年级二班-07", "a" * ID_MAX])
def test_good_ids_pass_stripped(good):
    assert check_id(f"  {good} ") == good


@pytest.mark.parametrize("bad, says", [
    ("", "empty"), ("   ", "empty"), ("a" * (ID_MAX + 1), "at most 64"), ("P\x1b[2J42", "control"),
    ("P4\r2", "control"), ("P\u202e24", "invisible"), ("P 42", "space"), (None, "text"), ("P\u200b42", "invisible"),
])
def test_bad_ids_are_refused_with_a_reason(bad, says):
    with pytest.raises(IdentifierError, match=says):
        check_id(bad, "entrant id")


def test_names_allow_spaces_but_not_escapes():
    assert check_name("Wang Xiaoming") == "Wang Xiaoming"
    with pytest.raises(IdentifierError):
        check_name("Wang\nXiaoming")


@given(st.text(max_size=200))
def test_whatever_passes_is_printable_and_fits(text):
    try:
        out = check_id(text)
    except IdentifierError as e:
        assert str(e)
    else:
        assert 0 < len(out) <= ID_MAX and out == out.strip() and out.isprintable() and " " not in out


def test_full_width_ids_are_the_same_id():
    assert check_id("Ｐ４２") == "P42" and check_id("P４２") == "P42"
