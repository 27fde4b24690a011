"""The likely route's shapes at the edges of the chain, and the names the sentences give
to hosts: a reverse name over a HELO name, a host with no name, a host with no
address, an Authentication-Results without authserv-id; plus the ARC instance range
and the reason an input gave no header."""

from __future__ import annotations

from verifier.analysis.arc import arc_instance
from verifier.analysis.defects import unread_reason
from verifier.analysis.engine import Options, analyze_bytes
from verifier.model import Confidence, Verdict
from verifier.parsers import parse_headers

SMARTHOST = "filter.gateway.example"
D = "Fri, 01 Dec 2023 11:30:0{} +0000"
LIST_BORDER = (
    b"Received-SPF: pass client-ip=198.51.100.60; envelope-from=owner@lists.other.example\n"
    b"Received: from lists.other.example (lists.other.example [198.51.100.60]) by mx.recipient.example with ESMTPS id 4; Fri, 01 Dec 2023 11:30:04 +0000\n"
)
MAILBOX = b"Received: from localhost (203.0.113.45) by DAG1EX2.indiv4.local (172.16.2.12) with Microsoft SMTP Server id 15.1.2507.34; Fri, 01 Dec 2023 11:30:01 +0000\n"
FROM = b"From: a@mydomain.example\nDate: Fri, 01 Dec 2023 11:30:00 +0000\n"


def _messages(a, code: str) -> list[str]:
    return [f.message for f in a.findings if f.code == code]


def test_a_platform_hand_off_from_an_unnamed_host() -> None:
    """The platform's address is given as a network; the list received from an address only."""
    data = LIST_BORDER + b"Received: from ([192.0.2.181]) by lists.other.example with ESMTP id 3; Fri, 01 Dec 2023 11:30:03 +0000\n" + FROM
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,), platform=("192.0.2.0/24",)))
    assert a.verdict == Verdict.INCONCLUSIVE
    assert a.likely is not None and (a.likely.route, a.likely.confidence, a.likely.hop_index) == (Verdict.BYPASSED, Confidence.UNCONFIRMED, 1)
    assert a.likely.reason == (
        "Received #1 shows lists.other.example, neither the platform nor the smarthost, receiving the message from the platform "
        "server an unnamed host [192.0.2.181]; not proven, because the recipient's border (Received #0) received the message from "
        "lists.other.example [198.51.100.60], which is neither the platform nor the smarthost (a mailing list, a forwarder or an "
        "unlisted relay), and only that relay's own header tells what happened before."
    )
    assert _messages(a, "route.likely") == ["The most likely route is bypassed (unconfirmed): " + a.likely.reason]


def test_a_platform_hand_off_from_a_host_without_address() -> None:
    data = LIST_BORDER + b"Received: from 2.mo512.mail-out.ovh.net by lists.other.example with ESMTP id 3; Fri, 01 Dec 2023 11:30:03 +0000\n" + FROM
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.likely is not None and a.likely.route == Verdict.BYPASSED
    assert "receiving the message from the platform server 2.mo512.mail-out.ovh.net; not proven" in a.likely.reason


def test_a_smarthost_hand_off_from_a_host_without_address() -> None:
    data = LIST_BORDER + b"Received: from filter.gateway.example by lists.other.example with ESMTP id 3; Fri, 01 Dec 2023 11:30:03 +0000\n" + FROM
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.likely is not None and (a.likely.route, a.likely.confidence) == (Verdict.VIA_CONNECTOR, Confidence.UNCONFIRMED)
    assert a.likely.reason.startswith("Received #1 shows lists.other.example, neither the platform nor the smarthost, receiving the message from the smarthost host filter.gateway.example; not proven")


def test_without_smarthost_a_hand_off_at_the_bottom_of_the_chain_suggests_nothing() -> None:
    """The platform server that handed the message out wrote nothing below it: nothing
    shows the platform relaying between its own servers, so no route is suggested."""
    data = (
        b"Received: from gw.other.example (gw.other.example [198.51.100.8]) by mo512.mail-out.ovh.net with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        b"Received: from ex4.mail.ovh.net (ex4.mail.ovh.net [192.0.2.61]) by gw.other.example with ESMTPS id 1; Fri, 01 Dec 2023 11:30:01 +0000\n"
        + FROM
    )
    a = analyze_bytes(data)
    assert a.verdict == Verdict.INCONCLUSIVE and a.border is None
    assert a.likely is None


def test_a_smarthost_hand_off_the_platform_handled_again_suggests_no_connector() -> None:
    data = (
        b"Received: from gw2.other.example (gw2.other.example [198.51.100.9]) by mx.recipient.example with ESMTPS id 4; Fri, 01 Dec 2023 11:30:04 +0000\n"
        b"Received: from gw.other.example (gw.other.example [198.51.100.8]) by mo512.mail-out.ovh.net with ESMTPS id 3; Fri, 01 Dec 2023 11:30:03 +0000\n"
        b"Received: from filter.gateway.example (filter.gateway.example [198.51.100.90]) by gw.other.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        b"Received: from DAG1EX2.indiv4.local (gw1.ex4.mail.ovh.net [192.0.2.61]) by filter.gateway.example with ESMTPS id 1; Fri, 01 Dec 2023 11:30:01 +0000\n"
        + FROM
    )
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.border is None and a.verdict == Verdict.INCONCLUSIVE
    assert a.likely is None


def test_the_border_sender_is_named_by_its_reverse_name() -> None:
    data = (
        b"Received-SPF: pass client-ip=198.51.100.71; envelope-from=a@mydomain.example\n"
        b"Received: from helo-name.example (out-7.pool.example [198.51.100.71]) by mx.recipient.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        + FROM
    )
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert (a.border.sender_host, a.border.sender_rdns) == ("helo-name.example", "out-7.pool.example")
    assert _messages(a, "verdict.inconclusive")[0].startswith("No route can be proven: out-7.pool.example [198.51.100.71] handed it")


def test_a_border_sender_without_address_is_named_alone() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from out-7.pool.example by mx.recipient.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        + FROM
    )
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.border is not None and a.border.sender_ip is None
    assert _messages(a, "border.from-unknown")[0].startswith("out-7.pool.example handed the message to the recipient,")


def test_spf_from_an_authentication_results_without_authserv_id() -> None:
    data = (
        b"Authentication-Results: spf=pass smtp.mailfrom=mydomain.example\n"
        b"Received-SPF: pass client-ip=198.51.100.71; envelope-from=a@mydomain.example\n"
        b"Received: from out-7.pool.example (out-7.pool.example [198.51.100.71]) by mx.recipient.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        + FROM
    )
    a = analyze_bytes(data)
    assert "SPF passed for mydomain.example (Authentication-Results)." in _messages(a, "spf.pass")


def test_arc_instance_range() -> None:
    assert arc_instance("1") == 1
    assert arc_instance(" 50 ") == 50
    assert arc_instance(7) == 7
    for bad in ("0", "51", "99", "007", "-1", "", None, "1a", "١"):
        assert arc_instance(bad) is None, bad


def test_why_no_header_was_read() -> None:
    assert unread_reason(parse_headers(b"X-A: b\n" * 20_001)) == "it holds more than 20000 header fields, far more than a real message; it was not read."
    assert unread_reason(parse_headers(b"hello world")) == "no email header found (expected lines such as 'Received: ...')."
    assert unread_reason(parse_headers(b"X-A: b\n")) is None


def test_a_platform_hand_off_to_an_unnamed_receiver() -> None:
    data = LIST_BORDER + (
        b"Received: from 2.mo512.mail-out.ovh.net (2.mo512.mail-out.ovh.net [192.0.2.181]) with ESMTP id 3; Fri, 01 Dec 2023 11:30:03 +0000\n"
    ) + FROM
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.likely is not None and a.likely.hop_index == 1
    assert a.likely.reason.startswith("Received #1 shows an unnamed host, neither the platform nor the smarthost, receiving the message from the platform server 2.mo512.mail-out.ovh.net [192.0.2.181];")


def test_a_smarthost_hop_below_an_outside_one_suggests_the_connector() -> None:
    """No border: an outside host above the smarthost's own hop received from a host that
    is neither the platform nor the smarthost; the smarthost's hop still suggests the route."""
    data = (
        b"Received: from gw.other.example (gw.other.example [198.51.100.8]) by mx.recipient.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        b"Received: from DAG1EX2.indiv4.local (gw1.ex4.mail.ovh.net [192.0.2.61]) by filter.gateway.example with ESMTPS id 1; Fri, 01 Dec 2023 11:30:01 +0000\n"
        + FROM
    )
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.border is None
    assert a.likely is not None and (a.likely.route, a.likely.confidence, a.likely.hop_index) == (Verdict.VIA_CONNECTOR, Confidence.UNCONFIRMED, 1)


def test_a_proven_connector_route_points_at_the_border() -> None:
    data = (
        b"Received-SPF: pass client-ip=198.51.100.90; envelope-from=a@mydomain.example\n"
        b"Received: from filter.gateway.example (filter.gateway.example [198.51.100.90]) by mx.recipient.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        + FROM
    )
    a = analyze_bytes(data, Options(smarthosts=(SMARTHOST,)))
    assert a.verdict == Verdict.VIA_CONNECTOR
    assert (a.likely.confidence, a.likely.hop_index, a.likely.header_index) == (Confidence.CONFIRMED, 0, 1)
    assert a.likely.reason == "the recipient's border received the message from the smarthost host filter.gateway.example [198.51.100.90]."
