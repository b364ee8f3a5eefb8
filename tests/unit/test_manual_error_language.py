"""Every typing error of the manual-entry form reads in zh-CN and English: whatever is typed, the refusal names a
message both catalogues hold, with the placeholders it fills."""
from hypothesis import given, settings, strategies as st

from drivers.manual import ManualEntryError, parse_temperature
from gate.i18n import catalogue, t

TYPED = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\s*[+-]?\d{1,4}([.,]\d{0,9})?\s*(°?\s*[cCfFkK])?\s*", fullmatch=True),
    st.sampled_from(["", "  ", "98.6", "99", "nan", "inf", "1e3", "36.6.6", "36,6", "-36", "451F", "29.99"]),
)


@settings(max_examples=400, deadline=None)
@given(TYPED)
def test_every_refusal_reads_in_both_languages(text):
    try:
        parse_temperature(text)
    except ManualEntryError as exc:
        key = f"manual_error.{exc.code}"
        assert key in catalogue("zh-CN") and key in catalogue("en"), key
        zh, en = t(key, "zh-CN", **exc.args_for_text), t(key, "en", **exc.args_for_text)
        filled = zh
        for value in exc.args_for_text.values():  # what was typed, as shown (cut to its first characters)
            filled = filled.replace(str(value), "")
        assert zh != en and "{" not in filled and zh.strip()  # every placeholder filled
        assert en == str(exc)  # the English line is the one the command line prints


def test_the_english_line_the_command_line_prints_is_unchanged():
    try:
        parse_temperature("98.6")
    except ManualEntryError as exc:
        assert str(exc) == "98.6 °C is outside 30–45 °C: check the thermometer and type the value again" \
                           " (for Fahrenheit add F, e.g. 98.1F)"
        assert exc.code == "out-of-range-f"
        assert t("manual_error.out-of-range-f", "zh-CN", **exc.args_for_text).startswith("98.6 °C 超出 30–45 °C")
