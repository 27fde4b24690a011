"""Property tests: arbitrary and mutated inputs never raise and give the right types."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.parsers import samples as S
from verifier.model import (
    Address,
    AuthResults,
    Defect,
    HeaderBlock,
    Headers,
    ParsedDate,
    Received,
    SpfResult,
    TagList,
)
from verifier.parsers import (
    normalise,
    parse_address,
    parse_authentication_results,
    parse_date,
    parse_headers,
    parse_received,
    parse_received_spf,
    parse_tag_list,
    split_messages,
)

CORPUS = Path(__file__).resolve().parent.parent / ".." / "shared" / "corpus" / "headers"
CORPUS_FILES = sorted(CORPUS.glob("*.hdr")) if CORPUS.is_dir() else []
# Seeds: our own sample lines, the guide's block and, when present, a spread of corpus files.
SEED_BLOCKS: list[bytes] = [S.GUIDE_SAMPLE.encode()] + [
    b.encode() for b in (S.block(("Received", v)) for v in S.ALL_RECEIVED)
]
SEED_BLOCKS += [p.read_bytes() for p in CORPUS_FILES[::7]]
SEED_VALUES: list[str] = S.ALL_RECEIVED + [S.MICROSOFT_AR, S.GMAIL_AR, S.MICROSOFT_AAR]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INSERTS = [
    b"(",
    b")",
    b";",
    b"&lt;",
    b"&gt;",
    b"[",
    b"]",
    b"<",
    b">",
    b"\r",
    b"\n",
    b"\n\n",
    b"\x00",
    b"\t",
    b":",
    b'"',
    b"\xff",
]


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "duplicate", "delete"]))
        if not data:
            data = bytearray(draw(st.binary(max_size=20)))
            continue
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            data = data[:pos]
        elif kind == "flip":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from(INSERTS)) * draw(st.integers(1, 50))
        elif kind == "duplicate":
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        else:
            end = min(len(data), pos + draw(st.integers(1, 40)))
            del data[pos:end]
    return bytes(data)


def check_headers(h: Headers) -> None:
    assert isinstance(h, Headers)
    assert isinstance(h.block, HeaderBlock)
    n = len(h.block.fields)
    for f in h.block.fields:
        assert isinstance(f.name, str) and isinstance(f.value, str) and f.name
    assert [f.index for f in h.block.fields] == list(range(n))
    for r in h.received:
        check_received(r)
        assert 0 <= r.header_index < n
    for a in h.auth_results:
        assert isinstance(a, AuthResults) and 0 <= a.header_index < n
    for s in h.spf:
        assert isinstance(s, SpfResult) and isinstance(s.result, str)
    for t in h.dkim_signatures + h.arc_seals + h.arc_message_signatures:
        assert isinstance(t, TagList) and isinstance(t.tags, dict)
    for a in (h.from_, h.return_path):
        assert a is None or isinstance(a, Address)
    if h.date is not None:
        check_date(h.date)
    assert all(isinstance(d, Defect) for d in h.defects + h.block.defects)
    assert not [d for d in h.defects if d.code == "parser.internal"]


def check_date(d: ParsedDate) -> None:
    assert isinstance(d, ParsedDate)
    if d.utc is not None:
        assert isinstance(d.utc, datetime) and d.utc.utcoffset().total_seconds() == 0


def check_received(r: Received) -> None:
    assert isinstance(r, Received)
    assert (r.from_ip is None) == (r.ip_valid is None)
    for v in (
        r.from_host,
        r.from_rdns,
        r.from_ip,
        r.by_host,
        r.with_,
        r.id,
        r.for_,
        r.envelope_from,
        r.via,
    ):
        assert v is None or (isinstance(v, str) and v != "")
    assert r.tls in (True, False, None)
    if r.date is not None:
        check_date(r.date)


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data):
    check_headers(parse_headers(data))
    assert isinstance(normalise(data), HeaderBlock)
    assert b"".join(split_messages(data)) == data


@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_text(text):
    check_headers(parse_headers(text))


@SETTINGS
@given(mutated(SEED_BLOCKS))
def test_mutated_blocks(data):
    check_headers(parse_headers(data))


@SETTINGS
@given(mutated([v.encode() for v in SEED_VALUES]))
def test_mutated_values_each_parser(data):
    value = data.decode("utf-8", "replace")
    r = parse_received(value, 3)
    check_received(r)
    assert r.raw == value and r.header_index == 3
    check_date(parse_date(value))
    for kind in ("authentication-results", "arc-authentication-results"):
        a = parse_authentication_results(value, 1, kind)
        assert isinstance(a, AuthResults) and a.kind == kind
        assert all(isinstance(m.method, str) for m in a.results)
    assert isinstance(parse_received_spf(value, 1), SpfResult)
    assert isinstance(parse_tag_list(value, 1, "dkim-signature"), TagList)
    assert isinstance(parse_address(value, 1), Address)


@SETTINGS
@given(
    st.text(alphabet=st.sampled_from(list('()[]<>;"@:=,. \tabcfromby0123456789&lt')), max_size=400)
)
def test_punctuation_soup(text):
    r = parse_received(text, 0)
    check_received(r)
    check_date(parse_date(text))
    parse_authentication_results(text, 0)
    parse_tag_list(text, 0)
    parse_address(text, 0)


FIELD_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True)
# Printable ASCII without "&" (entities) and "w" (so no "download original" caption);
# words are joined by single spaces so that unfolding gives the value back exactly.
WORDS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="&w"),
    min_size=1,
    max_size=12,
)


@st.composite
def header_blocks(draw):
    fields = []
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        name = draw(FIELD_NAMES)
        words = draw(st.lists(WORDS, min_size=1, max_size=10))
        fields.append((name, " ".join(words)))
        text = f"{name}: {words[0]}"
        for w in words[1:]:
            text += draw(st.sampled_from([" ", "\n\t", "\n    "])) + w
        lines.append(text)
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return fields, "\n".join(lines).replace("\n", eol) + eol


@SETTINGS
@given(header_blocks())
def test_well_formed_blocks_round_trip(case):
    fields, text = case
    b = normalise(text.encode())
    assert [(f.name, f.value) for f in b.fields] == fields
    assert not [d for d in b.defects if d.code != "input.line-endings"]
    # the normalised text reads back to the same fields
    assert [(f.name, f.value) for f in normalise(b.text).fields] == fields
