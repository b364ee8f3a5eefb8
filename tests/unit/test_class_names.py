"""Class names as the station files them (domain.identifiers.check_class / class_key), for any text (hypothesis): a
filed name is printable, at most 64 characters, filed again unchanged and under the same key; spellings that differ
only by spaces, width or case share a key; anything else is one IdentifierError."""
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from domain.identifiers import CLASS_MAX, IdentifierError, check_class, class_key

SPACES = st.sampled_from([" ", "  ", "\u3000", "\u00a0", ""])
CJK = st.text(st.sampled_from("一二三四五六年级班初高(1)ABab3"), min_size=1, max_size=6)


@given(st.text(max_size=80))
def test_any_text_is_filed_or_refused_in_one_line(text):
    try:
        filed = check_class(text)
    except IdentifierError as exc:
        assert "\n" not in str(exc)
        return
    assert 0 < len(filed) <= CLASS_MAX and filed.isprintable() and filed == filed.strip()
    assert check_class(filed) == filed and class_key(filed) == class_key(text)
    assert "  " not in filed and unicodedata.normalize("NFKC", filed) == filed


@given(st.lists(CJK, min_size=1, max_size=4), st.lists(SPACES, min_size=4, max_size=4))
def test_spellings_that_differ_by_spaces_width_or_case_share_a_key(words, spaces):
    plain = "".join(words)
    spaced = "".join(w + s for w, s in zip(words, spaces))
    wide = unicodedata.normalize("NFKC", spaced).translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert class_key(plain) == class_key(spaced) == class_key(wide) == class_key(spaced.upper())


def test_a_cluster_counts_one_class_under_every_spelling_a_case_kept():
    """Cases opened under a roster from before these rules keep the spelling of their day: still one class."""
    from gate.clusters import Illness, Rules, alerts

    ill = [Illness(p, cls, "2026-12-01", frozenset({"cough"}))
           for p, cls in (("S1", "三年级二班"), ("S2", "三年级 二班"), ("S3", "三年级\u3000二班"))]
    found = alerts(ill, Rules(), "2026-12-01")
    assert [(a.class_name, a.pupils) for a in found] == [("三年级二班", ("S1", "S2", "S3"))]
