"""A card scanner is told from a person by the time between keys alone: whatever was typed before it, a run typed at
a scanner's pace and ended by a quick Enter is the card, and nothing typed at a person's pace ever is."""
from hypothesis import given, settings, strategies as st

from drivers.card_scanner import MIN_SCAN_CHARS, SCANNER_GAP_S, KeyTimes

CHARS = st.characters(min_codepoint=33, max_codepoint=0x2FFF, blacklist_categories=("Cs", "Cc"))
PERSON_GAP = st.floats(min_value=SCANNER_GAP_S * 1.01, max_value=5.0, allow_nan=False)
SCANNER_GAP = st.floats(min_value=0.0, max_value=SCANNER_GAP_S * 0.99, allow_nan=False)


def typed(keys: KeyTimes, text: str, gaps: list[float], at: float) -> float:
    for ch, gap in zip(text, gaps):
        at += gap
        keys.char(ch, at)
    return at


@settings(max_examples=300, deadline=None)
@given(st.data(), st.text(CHARS, max_size=12), st.text(CHARS, min_size=MIN_SCAN_CHARS, max_size=40))
def test_a_card_after_anything_a_person_typed_is_the_card_exactly(data, before, card):
    keys = KeyTimes()
    at = typed(keys, before, data.draw(st.lists(PERSON_GAP, min_size=len(before), max_size=len(before))), 100.0)
    at += data.draw(PERSON_GAP)  # the scanner starts after a pause
    keys.char(card[0], at)
    at = typed(keys, card[1:], data.draw(st.lists(SCANNER_GAP, min_size=len(card), max_size=len(card))), at)
    entry = keys.enter(at + data.draw(SCANNER_GAP))
    assert entry.scanned == card and entry.text == before + card


@settings(max_examples=300, deadline=None)
@given(st.data(), st.text(CHARS, min_size=1, max_size=30))
def test_nothing_typed_at_a_persons_pace_is_a_card(data, text):
    keys = KeyTimes()
    gaps = data.draw(st.lists(PERSON_GAP, min_size=len(text), max_size=len(text)))
    at = typed(keys, text, gaps, 0.0)
    entry = keys.enter(at + data.draw(st.one_of(PERSON_GAP, SCANNER_GAP)))
    assert entry.scanned == "" and entry.text == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(CHARS, st.none(), st.just("\n")),
                          st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)), max_size=60))
def test_whatever_the_keys_and_times_the_card_is_the_end_of_what_was_typed(events):
    keys, at = KeyTimes(), 0.0
    for ch, gap in events:  # a clock going backwards included: never a crash, never text from nowhere
        at += gap
        if ch is None:
            keys.other()
        elif ch == "\n":
            entry = keys.enter(at)
            assert entry.text.endswith(entry.scanned)
            assert entry.scanned == "" or len(entry.scanned) >= MIN_SCAN_CHARS
        else:
            keys.char(ch, at)


def test_a_slow_enter_after_a_fast_run_is_a_person_and_a_single_key_is_never_a_card():
    keys = KeyTimes()
    typed(keys, "S00042", [0.005] * 6, 0.0)
    assert keys.enter(1.0).scanned == ""  # the card's characters, but Enter a second later: someone pressed it
    keys.char("7", 0.0)
    assert keys.enter(0.001).scanned == ""
