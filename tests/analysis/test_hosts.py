"""Host patterns and addresses: what a smarthost or platform pattern matches, how
strongly, and which addresses count as internal. Each HostSet here is built directly
(not through the shared cache), so every case compiles its own patterns."""

from __future__ import annotations

import pytest

from verifier.analysis.hosts import (
    DEFAULT_PLATFORM_PATTERNS,
    HostSet,
    Match,
    host_set,
    ip_or_none,
    is_internal_ip,
    org_domain,
    same_org,
)


def test_patterns_are_trimmed_and_empty_ones_dropped() -> None:
    hs = HostSet(["  smtp.relay.example ", "", "   ", None, "198.51.100.0/24"])  # type: ignore[list-item]
    assert hs.patterns == ("smtp.relay.example", "198.51.100.0/24")
    assert hs
    assert not HostSet([])
    assert not HostSet(["", "  "])
    m = hs.match_name("smtp.relay.example")
    assert m == Match("smtp.relay.example", "host", "smtp.relay.example")


def test_a_network_with_host_bits_and_a_bracketed_address() -> None:
    hs = HostSet(["198.51.100.7/24", "[192.0.2.10]", "2001:db8::/32"])
    assert hs.match_ip("198.51.100.200") == Match("198.51.100.7/24", "ip", "198.51.100.200")
    assert hs.match_ip("192.0.2.10") == Match("[192.0.2.10]", "ip", "192.0.2.10")
    assert hs.match_ip("192.0.2.11") is None
    assert hs.match_ip("2001:DB8::1") == Match("2001:db8::/32", "ip", "2001:DB8::1")
    assert hs.match_ip("2001:db9::1") is None
    assert hs.match_ip("not an address") is None
    assert hs.match_ip(None) is None
    # an address pattern is not a name pattern
    assert hs.match_name("198.51.100.7/24") is None


def test_every_pattern_after_an_address_is_compiled_too() -> None:
    hs = HostSet(["192.0.2.0/24", "smtp.relay.example", "*.pool.example"])
    assert hs.match_name("smtp.relay.example") is not None
    assert hs.match_name("out-3.pool.example") is not None
    assert hs.match_ip("192.0.2.9") is not None


def test_names_are_matched_without_case_or_root_dot() -> None:
    hs = HostSet(["SMTP.Relay.Example.", "*.Pool.Example"])
    assert hs.match_name("smtp.relay.example") == Match("SMTP.Relay.Example.", "host", "smtp.relay.example")
    assert hs.match_name("smtp.RELAY.example.") == Match("SMTP.Relay.Example.", "host", "smtp.RELAY.example.")
    assert hs.match_name("OUT-3.pool.example.") == Match("*.Pool.Example", "glob", "OUT-3.pool.example.")
    assert hs.match_name("relay.example") is None
    assert hs.match_name("") is None
    assert hs.match_name(None) is None


def test_a_plain_name_is_exact_and_a_leading_dot_is_not_stripped() -> None:
    hs = HostSet([".relay.example"])
    assert hs.match_name("relay.example") is None
    assert hs.match_name(".relay.example") is not None


def test_glob_characters() -> None:
    star = HostSet(["ex*.mail.ovh.net"])
    assert star.match_name("ex4.mail.ovh.net").kind == "glob"
    assert star.match_name("ex4.x.mail.ovh.net") is not None  # * crosses dots
    assert star.match_name("mx4.mail.ovh.net") is None
    q = HostSet(["out?.relay.example"])
    assert q.match_name("out1.relay.example").kind == "glob"
    assert q.match_name("out12.relay.example") is None
    br = HostSet(["out[12].relay.example"])
    assert br.match_name("out2.relay.example").kind == "glob"
    assert br.match_name("out3.relay.example") is None


def test_a_name_that_is_an_address_literal_matches_a_network() -> None:
    hs = HostSet(["192.0.2.0/24"])
    assert hs.match_name("[192.0.2.5]") == Match("192.0.2.0/24", "ip", "192.0.2.5")
    assert hs.match_name("192.0.2.5") == Match("192.0.2.0/24", "ip", "192.0.2.5")
    assert HostSet(["relay.example"]).match_name("[192.0.2.5]") is None


def test_the_provider_domain_is_a_weak_match_for_smarthosts_only() -> None:
    provider = HostSet(["smtp-relay.relay.example", "*.pool.example"], provider=True)
    m = provider.match_name("out-7.Relay.Example")
    assert m == Match("smtp-relay.relay.example", "provider-domain", "out-7.Relay.Example")
    assert not m.strong
    assert provider.match_name("smtp-relay.relay.example").strong
    assert provider.match_name("out-7.other.example") is None
    # a glob gives no organisational domain of its own
    assert provider.match_name("x.y.pool.example").kind == "glob"
    assert provider.match_name("pool.example") is None
    plain = HostSet(["smtp-relay.relay.example"])
    assert plain.match_name("out-7.relay.example") is None
    # the first plain name of an organisation names it
    two = HostSet(["a.relay.example", "b.relay.example"], provider=True)
    assert two.match_name("c.relay.example").pattern == "a.relay.example"
    # a name with no organisational domain adds none
    assert HostSet(["localhost"], provider=True).match_name("mail.localhost") is None


def test_match_any_prefers_the_address_then_a_strong_name() -> None:
    hs = HostSet(["198.51.100.0/24", "smtp-relay.relay.example"], provider=True)
    assert hs.match_any(ip="198.51.100.9", names=("smtp-relay.relay.example",)).kind == "ip"
    weak_then_strong = hs.match_any(ip="203.0.113.1", names=("out-1.relay.example", "smtp-relay.relay.example"))
    assert weak_then_strong == Match("smtp-relay.relay.example", "host", "smtp-relay.relay.example")
    weak_only = hs.match_any(ip="203.0.113.1", names=("out-1.relay.example", "out-2.relay.example", None))
    assert weak_only == Match("smtp-relay.relay.example", "provider-domain", "out-1.relay.example")
    assert hs.match_any(ip=None, names=()) is None
    assert hs.match_any(names=(None, "mx.elsewhere.example")) is None


def test_host_set_is_shared_and_equal_to_a_fresh_one() -> None:
    a = host_set(("smtp-relay.relay.example",), True)
    assert a is host_set(("smtp-relay.relay.example",), True)
    assert a.match_name("out-1.relay.example").kind == "provider-domain"
    assert host_set(("smtp-relay.relay.example",)).match_name("out-1.relay.example") is None


def test_default_platform_patterns() -> None:
    hs = HostSet(DEFAULT_PLATFORM_PATTERNS)
    for name in ("ex4.mail.ovh.net", "3.mo541.mail-out.ovh.net", "DAG1EX2.indiv4.local"):
        assert hs.match_name(name) is not None, name
    assert hs.match_name("mx1.recipient.example") is None


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("10.1.2.3", True), ("172.16.2.12", True), ("172.32.0.1", False), ("192.168.10.5", True), ("127.0.0.1", True),
        ("100.64.0.1", True), ("100.128.0.1", False), ("169.254.1.1", True), ("0.0.0.0", True),
        ("::1", True), ("fd00::1", True), ("fe80::1%eth0", True), ("::ffff:10.0.0.1", True), ("::ffff:198.51.100.1", False),
        ("192.0.2.1", False), ("198.51.100.33", False), ("2001:db8::1", False),
        ("11.22.333.44", False), ("", False), (None, False), ("mx.example", False),
    ],
)
def test_internal_addresses(address: str | None, internal: bool) -> None:
    assert is_internal_ip(address) is internal


def test_ip_or_none() -> None:
    # the zone of a scoped address is dropped, whatever follows the first %
    assert str(ip_or_none("fe80::1%eth0")) == "fe80::1"
    assert str(ip_or_none("fe80::1%eth0%1")) == "fe80::1"
    assert str(ip_or_none("192.0.2.1")) == "192.0.2.1"
    assert ip_or_none("[192.0.2.1]") is None
    assert ip_or_none("") is None and ip_or_none(None) is None


def test_organisational_domains() -> None:
    assert org_domain("out-1.Relay.Example.") == "relay.example"
    assert org_domain("a.b.mail.ovh.net") == "ovh.net"
    assert org_domain(" mx.example.co.uk ") == "example.co.uk"
    assert org_domain("localhost") is None
    assert org_domain("192.0.2.1") is None
    assert org_domain("[192.0.2.1]") is None
    assert org_domain("") is None and org_domain(None) is None
    assert org_domain(".") is None
    assert same_org("mx.relay.example", "OUT.relay.example")
    assert not same_org("mx.relay.example", "relay.other")
    assert not same_org("localhost", "localhost")
    assert not same_org(None, None)
