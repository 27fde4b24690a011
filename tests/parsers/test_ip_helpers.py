"""The IP helpers every package shares (verifier/parsers/ip.py): ip_value and is_ip."""

from __future__ import annotations

import ipaddress

import pytest

from verifier.analysis.hosts import ip_or_none
from verifier.checks import ipaddress_literal
from verifier.lab.api.schema import is_ip_address
from verifier.parsers.ip import ip_value, is_ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),  # the zone id is dropped
        ("::ffff:192.0.2.1", "::ffff:c000:201"),  # no MTA spelling undone here
        ("[192.0.2.1]", None),  # brackets only when asked
        ("192.0.2.256", None),
        ("192.0.2.1:25", None),
        ("mail.example", None),
        ("", None),
        (None, None),
    ],
)
def test_ip_value_reads_an_address_written_as_one(text, expected):
    got = ip_value(text)
    assert (str(got) if got is not None else None) == expected
    assert is_ip(text) is (expected is not None)


def test_brackets_and_zones_are_read_only_when_asked():
    assert str(ip_value("[192.0.2.1]", brackets=True)) == "192.0.2.1"
    assert str(ip_value("[2001:db8::1]", brackets=True)) == "2001:db8::1"
    assert ip_value("[192.0.2.1", brackets=True) is None  # half a literal is none
    assert ip_value("fe80::1%eth0", zone=False) is None
    assert str(ip_value("fe80::1", zone=False)) == "fe80::1"


def test_every_package_reads_addresses_through_the_shared_helper():
    # the analysis, the checks and the emulator's schema give the shared helper's answers
    cases = ["192.0.2.1", "[192.0.2.1]", "fe80::1%eth0", "2001:db8::1", "host.example", "1.2.3.4.5"]
    for text in cases:
        assert ip_or_none(text) == ip_value(text)
        assert ipaddress_literal(text) is is_ip(text, brackets=True)
        assert is_ip_address(text) is is_ip(text, zone=False)
    assert isinstance(ip_or_none("fe80::1%eth0"), ipaddress.IPv6Address)
    assert is_ip_address("fe80::1%eth0") is False
    assert ipaddress_literal("[2001:db8::1]") is True
