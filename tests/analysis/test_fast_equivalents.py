"""Shortcuts of the analysis against what they replace: HostSet reads its globs through one
combined pattern (it must pick the same glob as trying each with ``fnmatch.fnmatchcase`` in
order), a set with no address pattern matches no address, and findings are built without
the dataclass's keyword constructor (the same object as ``Finding(...)``)."""

from __future__ import annotations

import fnmatch
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.analysis import findings as F
from verifier.analysis.hosts import HostSet

_glob = st.lists(st.sampled_from(["*", "?", ".", "a", "b", "ex", "mail", "[ab]", "[!a]", "[", "]", "-", "\\"]), min_size=1, max_size=8).map("".join)
_name = st.lists(st.sampled_from([".", "a", "b", "ex", "mail", "[", "]", "-", "\\", "x", "A"]), max_size=10).map("".join)


def _first_glob(patterns: list[str], name: str) -> str | None:
    if not name:
        return None  # an empty name matches nothing
    n = name.lower().rstrip(".")
    for p in patterns:
        lp = p.lower().rstrip(".")
        if any(c in lp for c in "*?[") and fnmatch.fnmatchcase(n, lp):
            return p
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(_glob, min_size=1, max_size=6), _name)
def test_combined_globs_pick_the_first_matching_glob(patterns: list[str], name: str) -> None:
    hs = HostSet(patterns)
    m = hs.match_name(name)
    expected = _first_glob(patterns, name)
    if m is not None and m.kind == "glob":
        assert m.pattern == expected
    elif m is None:
        assert expected is None


def test_defaults_and_order() -> None:
    hs = HostSet(["ex*.mail.ovh.net", "*.mail-out.ovh.net", "*.ovh.net", "*.local"])
    assert hs.match_name("EX3.mail.ovh.net.").pattern == "ex*.mail.ovh.net"
    assert hs.match_name("mo1.mail-out.ovh.net").pattern == "*.mail-out.ovh.net"
    assert hs.match_name("x.ovh.net").pattern == "*.ovh.net"
    assert hs.match_name("exch.corp.local").pattern == "*.local"
    assert hs.match_name("ovh.net") is None


def test_no_address_pattern_matches_no_address() -> None:
    names_only = HostSet(["smtp-relay.example.com", "*.example.net"])
    assert names_only.match_ip("192.0.2.1") is None
    with_net = HostSet(["192.0.2.0/24", "*.example.net"])
    m = with_net.match_ip("192.0.2.1")
    assert m is not None and m.kind == "ip" and m.pattern == "192.0.2.0/24"
    assert with_net.match_any(ip="198.51.100.1", names=("a.example.net",)).kind == "glob"


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(F.SPECS)), st.lists(st.integers(min_value=0, max_value=5), max_size=4))
def test_say_builds_the_dataclass_own_finding(code: str, headers: list[int]) -> None:
    spec = F.SPECS[code]
    values = {name: f"<{name}>" for _, name, _, _ in string.Formatter().parse(spec.text) if name}
    f = F.say(code, headers, **values)
    expected = F.Finding(code, spec.severity, spec.text.format(**values), tuple(sorted(set(headers))))
    assert f == expected and hash(f) == hash(expected) and repr(f) == repr(expected)
    assert type(f.headers) is tuple
