"""DMARC (RFC 7489): discovery with the organisational-domain fallback, and evaluation."""

from __future__ import annotations

import pytest

from verifier.checks.dmarc import (
    DmarcSyntaxError,
    aligned,
    check_dmarc,
    evaluate,
    fetch_policy,
    parse_record,
)
from verifier.checks.dns import TEMPFAIL, StaticResolver

from .support import run


def R(mapping: dict) -> StaticResolver:
    return StaticResolver({k: {"TXT": v} for k, v in mapping.items()})


def test_parse_record_defaults_and_tags():
    r = parse_record("v=DMARC1; p=quarantine; rua=mailto:a@example.com,mailto:b@example.com; pct=50; adkim=s; fo=1; x-unknown=1")
    assert (r.p, r.sp, r.adkim, r.aspf, r.pct, r.fo) == ("quarantine", None, "s", "r", 50, "1")
    assert r.rua == ("mailto:a@example.com", "mailto:b@example.com")
    with pytest.raises(DmarcSyntaxError):
        parse_record("p=reject; v=DMARC1")  # v must come first
    with pytest.raises(DmarcSyntaxError):
        parse_record("v=DMARC1; p=bogus")
    # an invalid p with a rua is read as p=none (§6.6.3 step 6)
    r = parse_record("v=DMARC1; p=bogus; rua=mailto:d@example.com")
    assert r.p == "none" and r.warnings
    r = parse_record("v=DMARC1; p=reject; pct=250; sp=maybe")
    assert r.pct == 100 and r.sp is None and len(r.warnings) == 2


def test_record_at_the_from_domain():
    res = R({"_dmarc.example.com": ["v=DMARC1; p=reject"]})
    pol = run(fetch_policy("Example.COM", res))
    assert (pol.status, pol.found_at, pol.record.p, pol.is_subdomain_policy) == ("found", "example.com", "reject", False)
    assert res.log == [("_dmarc.example.com", "TXT")]


def test_fallback_to_the_organisational_domain_and_sp():
    res = R({"_dmarc.example.co.uk": ["v=DMARC1; p=reject; sp=quarantine"]})
    pol = run(fetch_policy("news.mail.example.co.uk", res))
    assert (pol.status, pol.org_domain, pol.found_at) == ("found", "example.co.uk", "example.co.uk")
    assert pol.is_subdomain_policy
    assert [n for n, _ in res.log] == ["_dmarc.news.mail.example.co.uk", "_dmarc.example.co.uk"]
    out = evaluate("news.mail.example.co.uk", pol, spf_pass_domains=["bounce.provider.example"])
    assert (out.result, out.policy, out.disposition) == ("fail", "quarantine", "quarantine")
    assert "sp=quarantine" in out.explanation
    # without sp the subdomain gets p
    res = R({"_dmarc.example.co.uk": ["v=DMARC1; p=reject"]})
    out = run(check_dmarc("news.example.co.uk", res))
    assert (out.result, out.policy, out.disposition) == ("fail", "reject", "reject")


def test_a_record_at_the_subdomain_wins_over_the_organisational_one():
    res = R({"_dmarc.shop.example.com": ["v=DMARC1; p=none"], "_dmarc.example.com": ["v=DMARC1; p=reject; sp=reject"]})
    pol = run(fetch_policy("shop.example.com", res))
    assert (pol.found_at, pol.record.p, pol.is_subdomain_policy) == ("shop.example.com", "none", False)
    out = evaluate("shop.example.com", pol)
    assert (out.result, out.policy, out.disposition) == ("fail", "none", "none")
    assert "only asks for reports" in out.explanation


def test_no_policy_multiple_records_and_temperror():
    assert run(fetch_policy("nopolicy.example", R({}))).status == "none"
    out = run(check_dmarc("nopolicy.example", R({}), spf_pass_domains=["nopolicy.example"]))
    assert out.result == "none" and out.disposition == "none" and "no DMARC policy" in out.explanation
    two = R({"_dmarc.two.example": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]})
    pol = run(fetch_policy("two.example", two))
    assert pol.status == "none" and "2 DMARC records" in pol.reason
    # not DMARC records at all are ignored
    other = R({"_dmarc.o.example": ["v=spf1 -all", "hello"]})
    assert run(fetch_policy("o.example", other)).status == "none"
    temp = StaticResolver({"_dmarc.t.example": {"TXT": TEMPFAIL}})
    out = run(check_dmarc("t.example", temp))
    assert out.result == "temperror" and "could not be fetched" in out.explanation


def test_relaxed_and_strict_alignment():
    assert aligned("bounce.example.com", "example.com", "r")
    assert aligned("example.com", "mail.example.com", "r")
    assert not aligned("bounce.example.com", "example.com", "s")
    assert aligned("EXAMPLE.com.", "example.com", "s")
    assert not aligned("example.net", "example.com", "r")
    # org domains under a multi-label public suffix
    assert not aligned("a.co.uk", "b.co.uk", "r")

    relaxed = R({"_dmarc.example.com": ["v=DMARC1; p=reject"]})
    strict = R({"_dmarc.example.com": ["v=DMARC1; p=reject; adkim=s; aspf=s"]})
    for res, expected in ((relaxed, "pass"), (strict, "fail")):
        out = run(check_dmarc("example.com", res, spf_pass_domains=["bounce.example.com"]))
        assert out.result == expected and out.spf_aligned == (expected == "pass")
        out = run(check_dmarc("example.com", res, dkim_pass_domains=["mail.example.com"]))
        assert out.result == expected and out.dkim_aligned == (expected == "pass")
    out = run(check_dmarc("example.com", strict, dkim_pass_domains=["example.com"], spf_pass_domains=["bounce.example.com"]))
    assert (out.result, out.dkim_aligned, out.spf_aligned) == ("pass", True, False)
    assert out.explanation.startswith("DMARC passes for example.com: DKIM")


def test_the_provider_case_neither_aligned():
    """A connector's provider signs with its own domain and uses its own bounce domain."""
    res = R({"_dmarc.customer.example": ["v=DMARC1; p=reject; rua=mailto:dmarc@customer.example"]})
    out = run(check_dmarc("customer.example", res, spf_pass_domains=["bounces.provider.example"], dkim_pass_domains=["provider.example"]))
    assert (out.result, out.spf_aligned, out.dkim_aligned, out.disposition) == ("fail", False, False, "reject")
    assert "bounces.provider.example" in out.explanation and "provider.example" in out.explanation
    assert out.to_json()["lookup"]["record"]["p"] == "reject"


@pytest.mark.parametrize(
    ("policy", "pct", "disposition", "softer"),
    [
        ("reject", 100, "reject", None),
        ("reject", 50, "reject", "quarantine"),
        ("quarantine", 20, "quarantine", "none"),
        ("reject", 0, "quarantine", "quarantine"),
        ("none", 10, "none", None),
    ],
)
def test_pct(policy, pct, disposition, softer):
    res = R({"_dmarc.p.example": [f"v=DMARC1; p={policy}; pct={pct}"]})
    out = run(check_dmarc("p.example", res))
    assert (out.result, out.pct, out.disposition, out.sampled_out_disposition) == ("fail", pct, disposition, softer)
    if 0 < pct < 100 and policy != "none":
        assert f"{pct}%" in out.explanation
