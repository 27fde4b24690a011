"""What each position of the from clause means, per MTA family (the table in
verifier/parsers/received/from_clause.py), and the hops that record no connection.

Lines are written for these tests after each MTA's source or documentation, with
documentation addresses."""

from __future__ import annotations

import pytest

from verifier.parsers.received import _parse_fast, _parse_full, parse_received

D = "; Mon, 1 Jan 2024 10:00:00 +0000"

# (family, line, HELO, reverse name, address)
FAMILIES = [
    ("postfix", "from helo.example (rdns.example [192.0.2.1]) by mx.example (Postfix) with ESMTPS id 4Ab",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("postfix-no-rdns", "from helo.example (unknown [192.0.2.1]) by mx.example (Postfix) with ESMTP id 4Ab",
     "helo.example", None, "192.0.2.1"),
    ("postfix-literal-helo", "from [192.0.2.9] (rdns.example [192.0.2.1]) by mx.example (Postfix) with ESMTP id 4A",
     "[192.0.2.9]", "rdns.example", "192.0.2.1"),
    ("postfix-localhost", "from localhost (localhost [127.0.0.1]) by mx.example (Postfix) with ESMTP id 4A",
     "localhost", "localhost", "127.0.0.1"),
    ("exim", "from rdns.example ([192.0.2.1] helo=helo.example) by mx.example with esmtps (TLS1.3) tls"
     " TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@b.example>) id 1abc",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("exim-helo-equals-name", "from rdns.example ([192.0.2.1]) by mx.example with esmtp (Exim 4.96) id 1abc",
     "rdns.example", "rdns.example", "192.0.2.1"),
    ("exim-no-rdns", "from [192.0.2.1] (port=4455 helo=helo.example) by mx.example with esmtp (Exim 4.96) id 1a",
     "helo.example", None, "192.0.2.1"),
    ("exim-localhost", "from localhost ([127.0.0.1] helo=mx.example) by mx.example with esmtp (Exim 4.96) id 1a",
     "mx.example", "localhost", "127.0.0.1"),
    ("sendmail", "from helo.example (user@rdns.example [192.0.2.1]) by mx.example (8.17.1/8.17.1) with ESMTP id X",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("sendmail-no-rdns", "from helo.example ([192.0.2.1]) by mx.example (8.17.1/8.17.1) with ESMTP id X",
     "helo.example", None, "192.0.2.1"),
    ("opensmtpd", "from helo.example (rdns.example [192.0.2.1]) by mx.example (OpenSMTPD) with ESMTPS id 1a2b3c4d",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("qmail", "from rdns.example (HELO helo.example) (192.0.2.1) by mx.example with SMTP",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("microsoft", "from helo.example (192.0.2.1) by mx.example (10.0.0.1) with Microsoft SMTP Server"
     " (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.1.2",
     "helo.example", None, "192.0.2.1"),
    ("gmail", "from helo.example (rdns.example. [192.0.2.1]) by mx.google.com with ESMTPS id x1",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("communigate-verified", "from helo.example ([192.0.2.1] verified) by mx.example (CommuniGate Pro SMTP 6.3)"
     " with ESMTPS id 1", "helo.example", "helo.example", "192.0.2.1"),
    ("communigate-unverified", "from helo.example ([192.0.2.1] unverified) by mx.example (CommuniGate Pro SMTP 6.3)"
     " with ESMTP id 1", "helo.example", None, "192.0.2.1"),
    ("opensmtpd-no-rdns", "from helo.example (<unknown> [192.0.2.1]) by mx.example (OpenSMTPD) with ESMTP id 1a2b",
     "helo.example", None, "192.0.2.1"),
    ("opensmtpd-local-socket", "from localhost (mx.example [local]) by mx.example (OpenSMTPD) with ESMTP id 1a2b3c4d",
     "localhost", None, None),
    ("haraka", "from helo.example (rdns.example [192.0.2.1]) by mx.example (Haraka/3.0.0) with ESMTPS id 1-2-3",
     "helo.example", "rdns.example", "192.0.2.1"),
    ("zimbra-lmtp", "from rdns.example (LHLO helo.example) (192.0.2.1) by mbox.example with LMTP",
     "helo.example", "rdns.example", "192.0.2.1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("family", "line", "helo", "rdns", "ip"), FAMILIES, ids=[f[0] for f in FAMILIES]
)
def test_positions(family, line, helo, rdns, ip):
    r = parse_received(line + D, 0)
    assert (r.from_host, r.from_rdns, r.from_ip) == (helo, rdns, ip)
    assert _parse_full(line + D, 0) == r


def test_address_literal_is_never_a_reverse_name():
    for line in (
        "from helo.example ([192.0.2.1] [192.0.2.1]) by mx.example with ESMTP id 1",
        "from helo.example (192.0.2.1 [192.0.2.1]) by mx.example with ESMTP id 1",
        "from [192.0.2.1] ([192.0.2.1]) by mx.example with esmtp (Exim 4.96) id 1",
        "from 192.0.2.1 (HELO helo.example) (192.0.2.1) by mx.example with SMTP",
    ):
        r = parse_received(line + D, 0)
        assert r.from_rdns is None, line
        assert r.from_ip == "192.0.2.1", line


# No connection: (name, line, the HELO the local client really gave)
LOCAL = [
    ("postfix-pickup", "by mx.example (Postfix, from userid 1000) id 4AbCdE", None),
    ("exim-local", "from root by mx.example with local (Exim 4.96) (envelope-from <root@mx.example>) id 1a-2b",
     None),
    ("exim-bs", "from alice by mx.example with local-esmtp (Exim 4.96) (envelope-from <alice@mx.example>) id 1a",
     None),
    ("exim-bs-helo", "from alice (helo=ws.example) by mx.example with local-esmtp (Exim 4.96) id 1a",
     "ws.example"),
    ("exim-local-plain", "from alice by mx.example with local (Exim 4.96) id 1a-2b", None),
    ("sendmail-submit", "(from alice@localhost) by mx.example (8.17.1/8.17.1/Submit) id 3AB1", None),
    ("dma", "from alice (uid 1000) (envelope-from alice@mx.example) id 1a2b by mx.example"
     " (DragonFly Mail Agent v0.13)", None),
    ("qmail-inject", "(qmail 4242 invoked by uid 1000)", None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "line", "helo"), LOCAL, ids=[x[0] for x in LOCAL])
def test_no_connection_hops(name, line, helo):
    r = parse_received(line + D, 0)
    assert r.from_host == helo  # never a host invented from a user name
    assert r.from_ip is None and r.from_rdns is None
    assert r.tls is False  # no connection was made
    assert r.ident is None  # the user is no RFC 1413 answer
    assert _parse_full(line + D, 0) == r
    fast = _parse_fast(line + D, 0)
    assert fast is None or fast == r


def test_network_hop_with_local_looking_words_keeps_its_host():
    # "local" only as a protocol name marks a local submission
    r = parse_received(
        "from local.example (local.example [192.0.2.1]) by mx.example (Postfix) with ESMTP id 4A"
        + D,
        0,
    )
    assert r.from_host == "local.example" and r.tls is False and r.from_ip == "192.0.2.1"
    r = parse_received(
        "from helo.example (rdns.example [192.0.2.1]) by mx.example with SMTP id 1" + D, 0
    )
    assert r.from_host == "helo.example"
