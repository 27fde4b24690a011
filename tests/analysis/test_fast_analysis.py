"""Shortcuts of the analysis step against the plain code they replace, on every header
fixture and every corpus file (when the shared corpus is present): each shortcut must give
the same result, object for object."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.analysis import alignment, border, chain, defects, engine, hosts
from verifier.analysis.engine import Options, analyze
from verifier.analysis.hosts import (
    DEFAULT_PLATFORM_PATTERNS,
    HostSet,
    glob_tails,
    host_set,
    may_be_ip,
)
from verifier.analysis.likely import likely_route
from verifier.analysis.verdict import sbr_fields, sending_side, verdict
from verifier.model import HeaderBlock, HeaderField
from verifier.parsers import parse_headers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(p for p in (ROOT / "fixtures" / "headers").iterdir() if p.suffix in (".txt", ".eml"))
_CORPUS_DIRS = [ROOT.parent / "shared" / "corpus" / "headers", ROOT.parent.parent / "shared" / "corpus" / "headers"]
CORPUS = next((sorted(d.glob("*.hdr")) for d in _CORPUS_DIRS if d.is_dir()), [])

_glob = st.lists(st.sampled_from(["*", "?", ".", "a", "b", "ex", "mail", "[ab]", "[!a]", "[", "]", "-", "\\"]), min_size=1, max_size=8).map("".join)
_name = st.lists(st.sampled_from([".", "a", "b", "ex", "mail", "[", "]", "-", "\\", "x"]), max_size=10).map("".join)


@pytest.fixture(scope="module")
def all_headers():
    out = [parse_headers(p.read_bytes()) for p in FIXTURES + CORPUS]
    assert len(out) >= len(FIXTURES) > 50
    return out


def test_first_field_index_is_block_get(all_headers) -> None:
    names = ("date", "from", "received", "subject", "x-mclm-sbr-processed", "dkim-signature", "x-absent")
    found = 0
    for h in all_headers:
        for name in names:
            plain = h.block.get(name)
            assert chain.first_field_index(h.block, name) == (plain.index if plain else None)
            found += plain is not None
    assert found > len(all_headers)  # most blocks have several of these


def test_first_field_index_takes_the_first_in_any_case() -> None:
    fields = (HeaderField(0, "Dates", "x", 1), HeaderField(1, "DATE", "a", 2), HeaderField(2, "date", "b", 3))
    block = HeaderBlock(fields)
    assert chain.first_field_index(block, "date") == 1 == block.get("date").index
    assert chain.first_field_index(HeaderBlock(()), "date") is None


def test_hop_constructor_is_the_dataclass(all_headers) -> None:
    r = next(h.received[0] for h in all_headers if h.received)
    made = chain._new_hop(3, r, "unknown", 1.5, None)
    plain = chain.Hop(3, r, "unknown", 1.5, None)
    assert made == plain and repr(made) == repr(plain) and hash(made) == hash(plain)


def _plain_collect_defects(headers):
    """collect_defects as first written: dataclasses.replace and a dict of every field's name."""
    per_header = list(headers.defects)
    for r in headers.received:
        per_header.extend(d if d.header_index is not None else replace(d, header_index=r.header_index) for d in r.defects)
    for ar in headers.auth_results:
        per_header.extend(d if d.header_index is not None else replace(d, header_index=ar.header_index) for d in ar.defects)
    for t in (*headers.dkim_signatures, *headers.arc_seals, *headers.arc_message_signatures):
        per_header.extend(d if d.header_index is not None else replace(d, header_index=t.header_index) for d in t.defects)
    per_header.sort(key=lambda d: d.header_index if d.header_index is not None else -1)
    if not per_header and not headers.block.defects:
        return ()
    names = {f.index: f.name for f in headers.block.fields}
    return tuple(
        replace(d, header_name=names[d.header_index]) if d.header_name is None and d.header_index in names else d
        for d in (*headers.block.defects, *per_header)
    )


def test_collect_defects_is_the_plain_collection(all_headers) -> None:
    with_defects = 0
    for h in all_headers:
        fast, plain = defects.collect_defects(h), _plain_collect_defects(h)
        assert fast == plain and [repr(d) for d in fast] == [repr(d) for d in plain]
        with_defects += bool(fast)
    assert with_defects > 10


def test_collect_defects_names_fields_numbered_otherwise() -> None:
    h = parse_headers(b"Received: (only a comment)\nDate: nonsense\nFrom: a@example.com\n")
    assert _plain_collect_defects(h) == defects.collect_defects(h) != ()
    # the same headers with their fields numbered from 5: names found by the search
    moved = HeaderBlock(tuple(HeaderField(f.index + 5, f.name, f.value, f.line) for f in h.block.fields), h.block.defects)
    r = replace(h.received[0], header_index=5, defects=tuple(replace(d, header_index=None) for d in h.received[0].defects))
    shifted = replace(h, block=moved, received=(r,), defects=tuple(replace(d, header_name=None) for d in h.defects))
    fast = defects.collect_defects(shifted)
    assert fast == _plain_collect_defects(shifted)
    assert any(d.header_index == 5 and d.header_name == "Received" for d in fast)


def test_field_name_is_the_dict_lookup(all_headers) -> None:
    for h in all_headers[:40]:
        fields = h.block.fields
        names = {f.index: f.name for f in fields}
        for i in (-1, 0, 1, len(fields) - 1, len(fields), len(fields) + 3):
            assert defects.field_name(fields, i) == names.get(i)
    odd = (HeaderField(2, "B", "", 1), HeaderField(0, "A", "", 2))
    assert defects.field_name(odd, 0) == "A" and defects.field_name(odd, 1) is None and defects.field_name(odd, 2) == "B"


def test_glob_tails() -> None:
    assert glob_tails(["ex*.mail.ovh.net", "*.local", "a[bc]d", "x]y", "p[q"]) == (".mail.ovh.net", ".local", "d", "y", "q")
    assert glob_tails(["*.local", "mx*"]) is None and glob_tails(["a[bc]"]) is None
    assert glob_tails([]) == ()


@settings(max_examples=500, deadline=None)
@given(st.lists(_glob, min_size=1, max_size=5), _name)
def test_a_name_without_a_glob_tail_matches_no_glob(globs: list[str], name: str) -> None:
    tails = glob_tails(globs)
    if tails is not None and not name.endswith(tails):
        assert not any(fnmatch.fnmatchcase(name, g) for g in globs)


def test_host_names_of_every_hop_match_as_without_the_tails(all_headers) -> None:
    platform, plain = HostSet(DEFAULT_PLATFORM_PATTERNS), HostSet(DEFAULT_PLATFORM_PATTERNS)
    plain._glob_tails = None  # the combined pattern tried on every name
    names = {n for h in all_headers for r in h.received for n in (r.from_host, r.from_rdns, r.by_host)}
    assert sum(platform.match_name(n) is not None for n in names) > 5
    for n in names:
        assert platform.match_name(n) == plain.match_name(n)


def test_verdict_and_likely_route_read_a_given_sending_side_as_their_own(all_headers) -> None:
    opts = Options(smarthosts=("*.mailjet.com", "*.sendgrid.net", "*.amazonses.com", "*.google.com", "*.outlook.com"))
    sm, pf = host_set(tuple(opts.smarthosts), True), host_set(tuple(opts.platform))
    seen = set()
    for h in all_headers:
        a = analyze(h, opts)
        hops = list(a.hops)
        sending = sending_side(hops, a.border)
        given_out: list = []
        own_out: list = []
        v = verdict(h, hops, a.border, sm, given_out, None, sending)
        assert v == verdict(h, hops, a.border, sm, own_out) == a.verdict
        assert given_out == own_out
        assert likely_route(v, hops, a.border, sm, pf, sending) == likely_route(v, hops, a.border, sm, pf) == a.likely
        seen.add(v)
    assert len(seen) == 3


def test_positional_constructors_build_the_dataclasses_own_objects(all_headers) -> None:
    h = next(h for h in all_headers if h.received and h.from_)
    m = hosts.Match("*.example.com", "glob", "mx.example.com")
    args = (1, 4, "mx.example.net", "helo.example.org", "rdns.example.org", "192.0.2.1", "unknown", m, ("evidence",), (3,))
    assert border.new_border(*args) == border.Border(*args) and hash(border.new_border(*args)) == hash(border.Border(*args))
    assert border._new_search(2, ("a", "b"), (1, 2), True) == border.BorderSearch(2, ("a", "b"), (1, 2), True)
    al = ("example.com", ("example.com",), (), True, False, "results")
    assert alignment._new_alignment(*al) == alignment.Alignment(*al) and repr(alignment._new_alignment(*al)) == repr(alignment.Alignment(*al))
    a = analyze(h, Options())
    fields = [getattr(a, f.name) for f in dataclasses.fields(a)]
    made, plain = engine._new_analysis(*fields), engine.Analysis(*fields)
    assert made == plain == a and repr(made) == repr(plain)


@settings(max_examples=800, deadline=None)
@given(st.one_of(st.text(max_size=30), st.ip_addresses().map(str), st.lists(st.sampled_from(["1", "0", "255", ".", ":", "::", "a", "f", "%", "x", " ", "[", "]", "٣"]), max_size=12).map("".join)))
def test_may_be_ip_is_false_only_for_non_addresses(text: str) -> None:
    if not may_be_ip(text):
        assert hosts.ip_or_none(text) is None


def test_may_be_ip_on_every_hop_name_and_address(all_headers) -> None:
    texts = {t for h in all_headers for r in h.received for t in (r.from_host, r.from_rdns, r.by_host, r.from_ip) if t}
    addresses = 0
    for t in texts:
        t = t.strip("[]")
        if hosts.ip_or_none(t) is not None:
            addresses += 1
            assert may_be_ip(t)
    assert addresses > 50


def test_address_patterns_match_as_before() -> None:
    hs = HostSet(["192.0.2.0/24", "2001:db8::/32", "*.example.net"], provider=True)
    assert hs.match_name("[192.0.2.7]").kind == "ip" and hs.match_name("2001:db8::1").kind == "ip"
    assert hs.match_name("192.0.2.7%eth0").kind == "ip"
    assert hs.match_name("mx.example.net").kind == "glob" and hs.match_name("ex.example.org") is None
    assert hs.match_name("198.51.100.1") is None


def _plain_sbr(headers) -> list[int] | None:
    """The sender-based-routing mark as first read: the lower-cased text as a pre-filter,
    then every field's ``lname``."""
    text = headers.block.text
    name = "x-mclm-sbr-processed"
    if (not text or name in text.lower()) and any(f.lname == name and f.value.strip().lower() == "true" for f in headers.block.fields):
        return [f.index for f in headers.block.fields if f.lname == name]
    return None


def test_sbr_fields_find_the_mark_as_the_text_filter_did(all_headers) -> None:
    marked = 0
    for h in all_headers:
        out: list = []
        verdict(h, [], None, HostSet(()), out)
        got = [f.headers for f in out if f.code == "route.sbr-processed"]
        plain = _plain_sbr(h)
        assert got == ([tuple(plain)] if plain else [])
        assert [f.index for f in sbr_fields(h.block)] == [f.index for f in h.block.fields if f.lname == "x-mclm-sbr-processed"]
        marked += plain is not None
    assert marked >= 5
    odd = parse_headers(b"X-MCLM-SBR-Processed: TRUE \nx-mclm-sbr-processed: false\nX-Mclm-Sbr-Processedx: true\n")
    assert [f.index for f in sbr_fields(odd.block)] == [0, 1] and _plain_sbr(odd) == [0, 1]
