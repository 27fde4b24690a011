"""From and Return-Path reduced to an address and a domain."""

from __future__ import annotations

import pytest

from verifier.parsers.addresses import parse_address


@pytest.mark.parametrize(
    ("value", "address", "domain"),
    [
        ("<bounce@Sender.Example>", "bounce@sender.example", "sender.example"),
        ("Alice <alice@a.example>", "alice@a.example", "a.example"),
        ('"Doe, John" <john@a.example>', "john@a.example", "a.example"),
        ('"ceo@bank.example" <evil@spoof.example>', "evil@spoof.example", "spoof.example"),
        ("alice@a.example (Alice)", "alice@a.example", "a.example"),
        ("(comment <x@y.example>) alice@a.example", "alice@a.example", "a.example"),
        ("=?UTF-8?B?w4lsb2RpZQ==?= <elodie@a.example>", "elodie@a.example", "a.example"),
        ("Team: alice@a.example, bob@b.example;", "alice@a.example", "a.example"),
        ("undisclosed-recipients:;", None, None),
        ("<>", None, None),
        ("< >", None, None),
        ("<@relay.example:user@a.example>", "user@a.example", "a.example"),
        ("MAILER-DAEMON", None, None),
        ("<MAILER-DAEMON>", None, None),
        ("", None, None),
        ("<unclosed@a.example", "unclosed@a.example", "a.example"),
        ("user@a.example.", "user@a.example", "a.example"),
    ],
)
def test_addresses(value, address, domain):
    a = parse_address(value, 3)
    assert a.header_index == 3
    assert a.raw == value
    assert a.address == address
    assert a.domain == domain
