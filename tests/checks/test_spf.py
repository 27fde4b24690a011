"""SPF check_host (RFC 7208) through StaticResolver: mechanisms, modifiers, macros, limits, errors."""

from __future__ import annotations

import asyncio

import pytest

from verifier.checks.dns import TEMPFAIL, StaticResolver
from verifier.checks.spf import check_host

from .support import run


def spf(ip: str, sender: str, records: dict, helo: str = "mail.example.org"):
    resolver = StaticResolver(records)
    res = run(check_host(ip, sender, helo, resolver))
    return res


def txt(value: str) -> dict:
    return {"TXT": [value]}


BASE = {
    "example.com": {
        "TXT": ["v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:1::/48 a mx a:relay.example.com/28 -all", "unrelated text record"],
        "A": ["198.51.100.10"],
        "MX": [(10, "mx1.example.com"), (20, "mx2.example.com")],
    },
    "mx1.example.com": {"A": ["198.51.100.20"]},
    "mx2.example.com": {"A": ["198.51.100.21"], "AAAA": ["2001:db8:2::21"]},
    "relay.example.com": {"A": ["203.0.113.1"]},
}


@pytest.mark.parametrize(
    ("ip", "result", "mechanism"),
    [
        ("192.0.2.1", "pass", "ip4:192.0.2.0/25"),
        ("192.0.2.200", "fail", "-all"),
        ("2001:db8:1::5", "pass", "ip6:2001:db8:1::/48"),
        ("198.51.100.10", "pass", "a"),
        ("198.51.100.21", "pass", "mx"),
        ("2001:db8:2::21", "pass", "mx"),
        ("203.0.113.14", "pass", "a:relay.example.com/28"),
        ("203.0.113.17", "fail", "-all"),
    ],
)
def test_mechanisms(ip, result, mechanism):
    r = spf(ip, "alice@example.com", BASE)
    assert (r.result, r.mechanism) == (result, mechanism)
    assert r.domain == "example.com" and r.identity == "mailfrom"
    assert r.explanation.endswith(".")


@pytest.mark.parametrize(
    ("qualifier", "result"), [("+", "pass"), ("-", "fail"), ("~", "softfail"), ("?", "neutral")]
)
def test_qualifiers(qualifier, result):
    assert spf("192.0.2.9", "a@q.example", {"q.example": txt(f"v=spf1 {qualifier}all")}).result == result


def test_no_record_is_none_and_default_is_neutral():
    assert spf("192.0.2.9", "a@none.example", {"none.example": txt("google-site-verification=abc")}).result == "none"
    assert spf("192.0.2.9", "a@nx.example", {}).result == "none"
    assert spf("192.0.2.9", "a@d.example", {"d.example": txt("v=spf1 ip4:10.0.0.1")}).result == "neutral"


def test_include_and_redirect():
    records = {
        "example.org": txt("v=spf1 include:_spf.provider.example include:_spf2.provider.example ~all"),
        "_spf.provider.example": txt("v=spf1 ip4:203.0.113.0/24 -all"),
        "_spf2.provider.example": txt("v=spf1 redirect=_spf3.provider.example"),
        "_spf3.provider.example": txt("v=spf1 ip6:2001:db8:99::/64 -all"),
    }
    assert spf("203.0.113.7", "a@example.org", records).result == "pass"
    assert spf("2001:db8:99::1", "a@example.org", records).result == "pass"
    # a fail inside include: only "no match" there, the outer ~all decides
    assert spf("198.51.100.1", "a@example.org", records).result == "softfail"


def test_include_of_a_domain_without_record_is_permerror():
    r = spf("192.0.2.1", "a@e.example", {"e.example": txt("v=spf1 include:missing.example -all")})
    assert r.result == "permerror"
    assert r.explanation.startswith("The SPF record of e.example is broken")


def test_redirect_to_nothing_is_permerror_and_all_beats_redirect():
    assert spf("192.0.2.1", "a@r.example", {"r.example": txt("v=spf1 redirect=missing.example")}).result == "permerror"
    # redirect is ignored when the record has an all mechanism (RFC 7208 §6.1)
    recs = {"r.example": txt("v=spf1 ?all redirect=other.example"), "other.example": txt("v=spf1 +all")}
    assert spf("192.0.2.1", "a@r.example", recs).result == "neutral"


def test_exists_and_ptr():
    recs = {
        "x.example": txt("v=spf1 exists:%{ir}.bl.x.example ptr:x.example -all"),
        "1.2.0.192.bl.x.example": {"A": ["127.0.0.2"]},
        "9.2.0.192.in-addr.arpa": {"PTR": ["host9.x.example"]},
        "host9.x.example": {"A": ["192.0.2.9"]},
        "10.2.0.192.in-addr.arpa": {"PTR": ["host10.x.example"]},
        "host10.x.example": {"A": ["192.0.2.99"]},  # does not validate back
    }
    assert spf("192.0.2.1", "a@x.example", recs).mechanism == "exists:%{ir}.bl.x.example"
    r = spf("192.0.2.9", "a@x.example", recs)
    assert (r.result, r.mechanism) == ("pass", "ptr:x.example")
    assert spf("192.0.2.10", "a@x.example", recs).result == "fail"


def test_macros():
    recs = {
        "m.example": txt("v=spf1 exists:%{l}.%{o}.%{v}.%{h}._spf.m.example exists:%{d2}.%{l-}.chk.m.example -all"),
        "john.m.example.in-addr.helo.example._spf.m.example": {"A": ["127.0.0.2"]},
        "m.example.jane.doe.chk.m.example": {"A": ["127.0.0.2"]},
    }
    r = spf("192.0.2.1", "john@m.example", recs, helo="helo.example")
    assert (r.result, r.mechanism) == ("pass", "exists:%{l}.%{o}.%{v}.%{h}._spf.m.example")
    # %{l-}: local part split on "-" and joined with dots; %{d2}: the last two labels
    r = spf("192.0.2.1", "jane-doe@m.example", recs, helo="other.example")
    assert (r.result, r.mechanism) == ("pass", "exists:%{d2}.%{l-}.chk.m.example")
    # IPv6 %{i} is nibble-wise
    recs6 = {
        "six.example": txt("v=spf1 exists:%{ir}.%{v}.six.example -all"),
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.six.example": {"A": ["127.0.0.2"]},
    }
    assert spf("2001:db8::1", "a@six.example", recs6).result == "pass"


def test_ten_lookup_limit():
    chain = {f"l{i}.example": txt(f"v=spf1 include:l{i + 1}.example -all") for i in range(12)}
    chain["l12.example"] = txt("v=spf1 ip4:192.0.2.1 -all")
    r = spf("192.0.2.1", "a@l0.example", chain)
    assert r.result == "permerror"
    assert "10" in r.explanation or "limit" in r.explanation.lower()
    # exactly 10 DNS-querying terms is still allowed
    ok = {f"k{i}.example": txt(f"v=spf1 include:k{i + 1}.example -all") for i in range(10)}
    ok["k10.example"] = txt("v=spf1 ip4:192.0.2.1 -all")
    r = spf("192.0.2.1", "a@k0.example", ok)
    assert r.result == "pass" and r.lookups == 10


def test_void_lookup_limit():
    recs = {"v.example": txt("v=spf1 a:n1.v.example a:n2.v.example a:n3.v.example ip4:192.0.2.1 -all")}
    r = spf("192.0.2.1", "a@v.example", recs)
    assert r.result == "permerror" and "void" in r.explanation.lower()
    recs2 = {"v.example": txt("v=spf1 a:n1.v.example a:n2.v.example ip4:192.0.2.1 -all")}
    r = spf("192.0.2.1", "a@v.example", recs2)
    assert r.result == "pass" and r.void_lookups == 2


def test_temperror_versus_permerror():
    # a temporary failure anywhere in the evaluation is temperror
    r = spf("192.0.2.1", "a@t.example", {"t.example": {"TXT": TEMPFAIL}})
    assert r.result == "temperror"
    assert "temporary" in r.explanation and "t.example" in r.explanation
    r = spf("192.0.2.1", "a@t.example", {"t.example": txt("v=spf1 include:inc.example -all"), "inc.example": {"TXT": TEMPFAIL}})
    assert r.result == "temperror"
    # a broken record is permerror
    assert spf("192.0.2.1", "a@p.example", {"p.example": txt("v=spf1 ip4:192.0.2.300 -all")}).result == "permerror"
    assert spf("192.0.2.1", "a@p.example", {"p.example": txt("v=spf1 frobnicate -all")}).result == "permerror"
    two = {"p.example": {"TXT": ["v=spf1 -all", "v=spf1 +all"]}}
    assert spf("192.0.2.1", "a@p.example", two).result == "permerror"


def test_null_sender_uses_helo_identity():
    recs = {"mx.sender.example": {"TXT": ["v=spf1 a -all"], "A": ["192.0.2.50"]}}
    r = spf("192.0.2.50", "", recs, helo="mx.sender.example")
    assert (r.result, r.identity, r.domain, r.sender) == ("pass", "helo", "mx.sender.example", "postmaster@mx.sender.example")


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="not an IP address"):
        run(check_host("300.1.1.1", "a@b.example", "h", StaticResolver({})))
    with pytest.raises(ValueError):
        run(check_host("192.0.2.1", "", "", StaticResolver({})))


def test_concurrent_evaluations_use_their_own_resolvers():
    """Two evaluations at once, each with its own resolver: no shared DNS state between them."""
    a = StaticResolver({"c.example": txt("v=spf1 ip4:192.0.2.1 -all")})
    b = StaticResolver({"c.example": txt("v=spf1 -ip4:192.0.2.1 +all")})

    async def both():
        return await asyncio.gather(
            *(check_host("192.0.2.1", "x@c.example", "h", r) for r in (a, b, a, b, a, b))
        )

    results = run(both())
    assert [r.result for r in results] == ["pass", "fail"] * 3
    assert spf("192.0.2.1", "x@c.example", {"c.example": txt("v=spf1 ip4:192.0.2.1 -all")}).to_json()["result"] == "pass"
