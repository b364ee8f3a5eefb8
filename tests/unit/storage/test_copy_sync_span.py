"""The seq range of each (school, station) in a sync batch (storage.copy_sync._seq_span), worked out a column at a
time for the usual one-station batch, is the range a row-by-row look finds, for any mix of stations and seqs: the
straight COPY's check and the registry's highest seq rest on it."""
from hypothesis import given
from hypothesis import strategies as st

from storage.copy_sync import _seq_span

ROWS = st.lists(st.tuples(st.sampled_from(["s1", "s2"]), st.sampled_from(["g1", "g2", "g3"]),
                          st.integers(min_value=1, max_value=10**9)), min_size=1, max_size=50)


@given(ROWS)
def test_each_stations_lowest_and_highest_seq(rows):
    items = [((n, "screening", f"id{n}"), row) for n, row in enumerate(rows)]
    expected: dict = {}
    for school, station, seq in rows:
        low, high = expected.get((school, station), (seq, seq))
        expected[(school, station)] = (min(low, seq), max(high, seq))
    assert _seq_span(items, 0, 1, 2) == expected
    assert _seq_span(items, 0, 1, None) == {key: (0, 0) for key in expected}  # records without a seq
