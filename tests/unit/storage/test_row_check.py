"""The sync's re-hash of each row it sends (storage.row_check) writes, for any row a pupil could leave in the SQLite
file, exactly the text the chain digests (storage.chain.link over the chain's own content function) or refuses where
that function or the chain's encoder refuses; its digest is the station key's. A fast path that wrote other bytes
could only miss (the row is then looked at the slow way), but one that wrote the same bytes for an edited row would
send the edit: these tests hold the two texts equal."""
import json

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import chain
from storage import upstream_schema as up
from storage.cases import case_content
from storage.keys import StationKey
from storage.records import audit_content, clearance_content, edited_json, row_content
from storage.row_check import _one_value, canonical_text, digest_for, misses
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
    """The definition: what storage.chain.link digests for this stored row (None where the chain refuses it: its
    content cannot be made, or its check finds a JSON text not as the station writes it, storage.records)."""
    stored = dict(zip(NAMES[kind], row))
    try:
        text = stored["prev_hash"] + "\n" + chain.canonical(CONTENT[kind](stored))
    except REFUSED:
        return None
    return None if edited_json(stored, SPEC[kind][1]) else text


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
        detail = json.dumps(content["detail"], ensure_ascii=False, sort_keys=True)  # as storage.records writes it
        stored = {**content, "detail": detail, "prev_hash": prev,
                  "row_hash": row_hash, "school_id": "s", "seq": i + 1}
        batch.append(tuple(stored[n] for n in names))
        prev = row_hash
    edited = list(batch)
    at = {n: i for i, n in enumerate(names)}
    edited[1] = tuple("delete" if n == at["action"] else v for n, v in enumerate(batch[1]))
    edited[3] = tuple('{"by": "班主任", "rows": 3}' if n == at["detail"] else v for n, v in enumerate(batch[3]))
    edited[4] = tuple('{"rows":40,"by":"班主任"}' if n == at["detail"] else v for n, v in enumerate(batch[4]))
    edited[5] = tuple(b"\x00" if n == at["actor"] else v for n, v in enumerate(batch[5]))
    edited[2] = tuple('{"by": "\\u73ed主任", "rows": 2}' if n == at["detail"] else v for n, v in enumerate(batch[2]))
    spec = (*SPEC["audit"], names)
    assert misses(spec, batch, digest_for(key.chain_key), {}) == []
    # 3: rewritten as the station writes it, the same text; 2: the same value spelt with an escape is an edit
    assert misses(spec, edited, digest_for(key.chain_key), {}) == [1, 2, 4, 5]
    assert misses(spec, batch, digest_for(StationKey.new().chain_key), {}) == list(range(6))  # another key


# -- the spliced fast path: JSON columns put in as stored (the station writes them canonically) ----------------------
CANONICAL_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                                       allow_infinity=False) | TEXTS,
                                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
                                max_leaves=8)


def spliced_text(kind: str, row: tuple) -> str | None:
    try:
        return canonical_text(*SPEC[kind], NAMES[kind], spliced=True)(row)
    except REFUSED:
        return None


@st.composite
def stored_rows(draw, kind: str):
    """A row as the station stores it now (JSON columns canonical), then perhaps a pupil's edit that moves text
    across a JSON column's edge: a later column's member (an optional one emptied, or any key) appended to it, or its
    end cut off into nothing."""
    names, (_hashed, as_json, optional) = NAMES[kind], SPEC[kind]
    row = list(draw(rows(kind)))
    row[names.index("prev_hash")] = chain.GENESIS
    for n, value in enumerate(row):  # mostly what the station writes: values the chain can hash
        if isinstance(value, (bytes, float)) and draw(st.booleans()):
            row[n] = draw(st.sampled_from(["x", 36.5, 1]))
    for name in as_json:
        try:
            row[names.index(name)] = chain.canonical(draw(CANONICAL_VALUES))
        except ValueError:
            pass
    if as_json and draw(st.booleans()):
        at = names.index(draw(st.sampled_from(as_json)))
        key = draw(st.sampled_from([*optional, *names]) if optional else st.sampled_from(names))
        member = f',"{key}":' + draw(st.sampled_from(['"morning"', "null", "1", '"x"}', "]", "[1]"]))
        if isinstance(row[at], str):
            row[at] = draw(st.sampled_from([row[at] + member, row[at][:-1], row[at][1:]]))
        for name in optional:
            if name == key:
                row[names.index(name)] = None
    return tuple(row)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_a_spliced_text_that_could_match_a_hash_is_the_chains_own_text(data):
    """Every hash is of a canonical text, so the spliced text can only match one when it is canonical: whenever it
    is, it is the very text the chain's own check digests for the row. So the fast path believes no row that
    `gate verify` would refuse, whatever a pupil left in the columns or moved across their edges."""
    kind = data.draw(st.sampled_from(list(SPEC)))
    row = data.draw(st.one_of(rows(kind), stored_rows(kind)))
    text = spliced_text(kind, row)
    if text is None:
        return
    body = text[len(row[NAMES[kind].index("prev_hash")]) + 1:]
    try:
        canonical = chain.canonical(json.loads(body)) == body
    except (ValueError, TypeError, RecursionError):
        canonical = False
    if canonical:
        assert text == chains_text(kind, row)


def test_a_session_moved_into_the_end_of_reasons_is_not_believed():
    """The attack the splice must not fall for: the text is the very one hashed, only its edge moved."""
    key, names = StationKey.new(), NAMES["screening"]
    at = {n: i for i, n in enumerate(names)}
    stored = {n: "x" for n in names}
    stored.update(reasons='["normal"]', mask='{"state":"yes"}', readings='[{"body_c":36.5,"ts":1.5}]',
                  session="morning", created_at=1.5, threshold_c=37.3, temperature_c=36.5, follows=None,
                  prev_hash=chain.GENESIS)
    row = tuple(stored[n] for n in names)
    row = tuple(chain.link(chain.GENESIS, row_content(dict(zip(names, row))), key.chain_digest)
                if n == at["row_hash"] else v for n, v in enumerate(row))
    spec, digest = (*SPEC["screening"], names), digest_for(key.chain_key)
    assert misses(spec, [row], digest, {}) == []  # the station's own row: held, the spliced way
    moved = tuple('["normal"],"session":"morning"' if n == at["reasons"] else None if n == at["session"] else v
                  for n, v in enumerate(row))
    # spliced as stored, its text would be the one hashed: the member after reasons is the session moved into it
    assert '"reasons":["normal"],"session":"morning","station_id"' in canonical_text(*spec)(row)
    assert misses(spec, [moved], digest, {}) == [0]
    assert chains_text("screening", moved) is None  # the chain's own check refuses it too (reasons is not JSON)



@settings(max_examples=400, deadline=None)
@given(st.one_of(json_texts(), st.text(max_size=40), st.text(alphabet='[]{}",:0123456789.eE+-nulltrue \\u', max_size=30)))
def test_the_splice_takes_a_text_as_one_value_only_where_json_loads_does_too(text):
    """The splice's parser (msgspec's grammar, in C) is the stricter one: a text it takes as one complete JSON value,
    json.loads takes as one complete value too (so no column edge can move past it), and where msgspec makes the value
    it is the same one (msgspec alone refuses a number out of a float's range, e.g. 1e5000: json.loads makes inf)."""
    if not isinstance(text, str):
        return
    try:
        _one_value(text)
    except ValueError:
        return
    value = json.loads(text)  # raises if the splice took a text json.loads refuses
    try:
        made = msgspec.json.decode(text)
    except msgspec.DecodeError:
        assert isinstance(value, float) or "e" in text.lower()  # only a number out of range is refused so
        return
    assert made == value or (made != made and value != value)
