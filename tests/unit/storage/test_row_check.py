"""The sync's re-hash of each row it sends (storage.row_check) writes, for any row a pupil could leave in the SQLite
file, exactly the text the chain digests (storage.chain.link over the chain's own content function) or refuses where
that function or the chain's encoder refuses; its digest is the station key's. A fast path that wrote other bytes
could only miss (the row is then looked at the slow way), but one that wrote the same bytes for an edited row would
send the edit: these tests hold the two texts equal."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import chain
from storage import upstream_schema as up
from storage.cases import case_content
from storage.keys import StationKey
from storage.records import audit_content, clearance_content, row_content
from storage.row_check import canonical_text, digest_for, misses
from storage.sync_unverified import SPEC

NAMES = {kind: ("school_id", *(str(c.name) for c in up.record_columns(up.TABLES[kind]))) for kind in SPEC}
CONTENT = {"screening": row_content, "case": case_content, "audit": audit_content, "clearance": clearance_content}
REFUSED = (ValueError, TypeError, KeyError)

TEXTS = st.one_of(st.text(max_size=30), st.sampled_from(["", "班级", "\x00", "\\\"", "\u2028", "\ud800", "é" * 40]),
                  st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2030), max_size=12))
# What SQLite can hand back for a column a pupil edited: text, integer, real (any), NULL, blob
SQLITE = st.one_of(TEXTS, st.integers(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                   st.floats(allow_nan=True, allow_infinity=True), st.none(), st.binary(max_size=8))
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXTS,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
                           max_leaves=10)


@st.composite
def json_texts(draw):
    """A JSON column as a pupil could leave it: the station's own writing, another key order, spacing, escapes, NaN,
    or not JSON at all."""
    value = draw(JSON_VALUES)
    return draw(st.one_of(
        st.just(json.dumps(value, ensure_ascii=False, separators=(",", ":"))),
        st.builds(lambda s, a: json.dumps(value, sort_keys=s, ensure_ascii=a), st.booleans(), st.booleans()),
        st.sampled_from(["", "[", "{}", "[1,]", " [] ", "NaN", "[Infinity]", '{"a":1,"a":2}', "1e400", "-0",
                         '"\\ud800"', "[1.0, 1]", '{"b":1,"a":[{"d":null,"c":true}]}']),
        SQLITE))


def rows(kind: str):
    hashed, as_json, _optional = SPEC[kind]
    columns = {name: (json_texts() if name in as_json else SQLITE) for name in NAMES[kind]}
    columns["prev_hash"] = st.one_of(st.just(chain.GENESIS), st.text(alphabet="0123456789abcdef", max_size=64),
                                     SQLITE)
    return st.tuples(*(columns[name] for name in NAMES[kind]))


def chains_text(kind: str, row: tuple) -> str | None:
    """The definition: what storage.chain.link digests for this stored row (None where the chain refuses it)."""
    stored = dict(zip(NAMES[kind], row))
    try:
        return stored["prev_hash"] + "\n" + chain.canonical(CONTENT[kind](stored))
    except REFUSED:
        return None


def fast_text(text, row: tuple) -> str | None:
    try:
        return text(row)
    except REFUSED:
        return None


def check_kind(kind: str, batch: list[tuple]) -> None:
    text = canonical_text(*SPEC[kind], NAMES[kind])  # one builder for the batch: its memory of JSON texts in play
    for row in batch * 2:
        assert fast_text(text, row) == chains_text(kind, row)


@settings(max_examples=300, deadline=None)
@given(st.lists(rows("screening"), min_size=1, max_size=6))
def test_a_screening_row_gives_the_chains_own_text_or_is_refused_as_the_chain_refuses_it(batch):
    check_kind("screening", batch)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_audit_events_case_events_and_clearances_too(data):
    kind = data.draw(st.sampled_from(["audit", "case", "clearance"]))
    check_kind(kind, data.draw(st.lists(rows(kind), min_size=1, max_size=4)))


def test_a_session_set_or_not_is_hashed_as_the_chain_hashes_it():
    names, at = NAMES["screening"], {n: i for i, n in enumerate(NAMES["screening"])}
    base = [None] * len(names)
    for n in ("reasons", "mask", "readings"):
        base[at[n]] = '{"z":1,"a":[2.5,"班"]}'
    for n in ("id", "station_id", "day", "decision", "message", "prev_hash"):
        base[at[n]] = "x"
    text = canonical_text(*SPEC["screening"], names)
    for session in (None, "morning", "晨检"):
        row = list(base)
        row[at["session"]] = session
        assert text(tuple(row)) == chains_text("screening", tuple(row))
        assert ('"session"' in text(tuple(row))) == (session is not None)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_the_digest_is_the_station_keys_keyed_one_or_plain_sha256_for_an_unkeyed_log(message):
    key = StationKey.new()
    assert digest_for(key.chain_key)(message) == key.chain_digest(message)
    assert digest_for(None)(message) == chain.sha256(message)
    assert key.chain_digest(message) == StationKey(key.master, key.pseudonym_key).chain_digest(message)


def test_misses_names_exactly_the_rows_whose_hash_does_not_recompute():
    key = StationKey.new()
    names = NAMES["audit"]
    prev, batch = chain.GENESIS, []
    for i in range(6):
        content = {"id": f"e{i}", "station_id": "north", "at": 1.5 + i, "actor": "wu", "action": "export",
                   "detail": {"rows": i, "by": "班主任"}}
        row_hash = chain.link(prev, content, key.chain_digest)
        stored = {**content, "detail": json.dumps(content["detail"], ensure_ascii=False), "prev_hash": prev,
                  "row_hash": row_hash, "school_id": "s", "seq": i + 1}
        batch.append(tuple(stored[n] for n in names))
        prev = row_hash
    edited = list(batch)
    at = {n: i for i, n in enumerate(names)}
    edited[1] = tuple("delete" if n == at["action"] else v for n, v in enumerate(batch[1]))
    edited[3] = tuple('{"by": "班主任", "rows": 3}' if n == at["detail"] else v for n, v in enumerate(batch[3]))
    edited[4] = tuple('{"rows":40,"by":"班主任"}' if n == at["detail"] else v for n, v in enumerate(batch[4]))
    edited[5] = tuple(b"\x00" if n == at["actor"] else v for n, v in enumerate(batch[5]))
    spec = (*SPEC["audit"], names)
    assert misses(spec, batch, digest_for(key.chain_key), {}) == []
    # 3: the same content written otherwise (keys, spaces) is the same content, as for the chain's own check
    assert misses(spec, edited, digest_for(key.chain_key), {}) == [1, 4, 5]
    assert misses(spec, batch, digest_for(StationKey.new().chain_key), {}) == list(range(6))  # another key
