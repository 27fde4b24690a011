"""Edges of the analysis rules that no fixture reaches: a longer chain below the border,
IPv6 addresses in small and capital letters, the SPF hop that ends the border search,
a descent that goes on after a re-injection, ARC sets with parts missing, exactly six
repairs, a hand-off below a platform hop, and sentences that list several domains."""

from __future__ import annotations

from dataclasses import replace

from verifier.analysis.border import descend
from verifier.analysis.defects import input_findings
from verifier.analysis.engine import Options, analyze_bytes
from verifier.model import Confidence, Defect, Received, Verdict
from verifier.parsers import parse_headers

SMARTHOST = Options(smarthosts=("smtp-relay.relay.example",))
FROM = b"From: c@mydomain.example\n"
DATE = b"Date: Fri, 01 Dec 2023 18:10:00 +0000\n"
SPF_TOP = b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=b@relay.example\n"
BORDER = b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
BELOW = b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by out-1.relay.example (Postfix) with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
BOTTOM = b"Received: from client.indiv4.example (client.indiv4.example [192.0.2.45]) by DAG1EX2.indiv4.local with ESMTP id 1; Fri, 01 Dec 2023 18:10:01 +0000\n"


def _codes(a) -> list[str]:
    return [f.code for f in a.findings]


def _message(a, code: str) -> str:
    return next(f.message for f in a.findings if f.code == code)


# --- which results in the gap below the border are the recipient's -------------------


def test_the_sending_relays_gap_result_is_recognised_by_the_hop_just_below_in_a_longer_chain() -> None:
    """The relay that handed the message to the border wrote the Received just below it;
    its result in the gap is not trusted, even naming the border's client, however many
    hops lie further down."""
    relay = b"Authentication-Results: out-1.relay.example; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.33; dkim=pass header.d=mydomain.example\n"
    a = analyze_bytes(SPF_TOP + BORDER + relay + BELOW + BOTTOM + FROM, SMARTHOST)
    assert a.border is not None and a.border.index == 0
    assert a.trusted(2) is False
    assert "dkim.pass" not in _codes(a)


def test_a_gap_result_naming_an_ipv6_border_client_is_trusted_in_either_case() -> None:
    border = BORDER.replace(b"198.51.100.33", b"2001:db8::a")
    spf = SPF_TOP.replace(b"198.51.100.33", b"2001:db8::a")
    for written in (b"2001:db8::a", b"2001:DB8::A"):
        scanner = b"Authentication-Results: scanner-1.elsewhere.example; spf=pass smtp.mailfrom=relay.example smtp.client-ip=" + written + b"; dkim=pass header.d=mydomain.example\n"
        a = analyze_bytes(spf + border + scanner + BELOW + FROM, SMARTHOST)
        assert a.border is not None and a.border.index == 0
        assert a.trusted(2) is True, written
        assert "dkim.pass" in _codes(a)


# --- the border search -----------------------------------------------------------------


def test_an_spf_result_for_the_named_servers_client_ends_the_search_without_descent() -> None:
    """The topmost evidence is an authserv-id; SPF below it names the client of that same
    server's hop, an internal relay. SPF names the very client the border saw, so the
    border is that hop, even though a descent from it would continue to the relay's own
    receipt."""
    data = (
        b"Authentication-Results: mx.r.example; dkim=pass header.d=mydomain.example\n"
        b"Received-SPF: pass client-ip=10.1.1.1; envelope-from=b@relay.example\n"
        b"Received: from relay.r.example (relay.r.example [10.1.1.1]) by mx.r.example (Postfix) with ESMTP id 2; Fri, 01 Dec 2023 18:10:03 +0000\n"
        b"Received: from out.sender.example (out.sender.example [203.0.113.5]) by relay.r.example (Postfix) with ESMTPS id 1; Fri, 01 Dec 2023 18:10:02 +0000\n"
        + FROM
    )
    a = analyze_bytes(data)
    assert a.border is not None and a.border.index == 0
    assert a.border.evidence[0] == "Received-SPF client-ip 10.1.1.1"


def test_a_re_injection_into_a_host_written_with_a_root_dot_is_descended() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from localhost (localhost [127.0.0.1]) by mx.recipient.example (Postfix) with ESMTP id 8; Fri, 01 Dec 2023 18:10:04 +0000\n"
        + BORDER.replace(b"by mx.recipient.example", b"by mx.recipient.example.")
        + BELOW
        + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 1
    assert a.border.evidence[-1] == "re-injection into mx.recipient.example. from 127.0.0.1"


def _hop(i: int, by: str, from_host: str, ip: str) -> Received:
    return Received(i, "", from_host=from_host, from_ip=ip, by_host=by)


def test_the_descent_goes_on_below_a_re_injection() -> None:
    """A content filter re-injects into the MX, which had the message from an internal
    edge relay: the border is the edge relay's receipt."""
    rcv = (
        _hop(0, "mx.r.example", "localhost", "127.0.0.1"),
        _hop(1, "mx.r.example", "edge.r.example", "10.0.0.9"),
        _hop(2, "edge.r.example", "out.sender.example", "203.0.113.5"),
    )
    found = descend(rcv, 0, ["start"], [0])
    assert found.hop == 2
    assert found.evidence == ("start", "re-injection into mx.r.example from 127.0.0.1", "internal hand-off from edge.r.example")


def test_a_re_injection_lower_in_the_chain_moves_one_hop_down() -> None:
    rcv = (
        _hop(0, "mailbox.r.example", "store.r.example", "10.0.0.8"),
        _hop(1, "store.r.example", "gw.r.example", "203.0.113.9"),
        _hop(2, "mx.r.example", "localhost", "127.0.0.1"),
        _hop(3, "mx.r.example", "out.sender.example", "203.0.113.5"),
    )
    assert descend(rcv, 2, [], []).hop == 3


# --- ARC --------------------------------------------------------------------------------


def test_an_arc_set_with_only_one_of_its_three_headers_is_broken() -> None:
    ams = b"ARC-Message-Signature: i=1; a=rsa-sha256; d=relay.example; s=s1; h=from; bh=AAAA; b=BBBB\n"
    aar = b"ARC-Authentication-Results: i=1; mx.relay.example; spf=pass smtp.mailfrom=relay.example\n"
    for only in (ams, aar):
        a = analyze_bytes(BORDER + FROM + only)
        assert "arc.broken" in _codes(a), only
        assert "no ARC-Seal for i=1" in _message(a, "arc.broken")


def test_an_instance_that_is_not_a_number_is_not_read_as_out_of_range() -> None:
    seal = b"ARC-Seal: i=X1; a=rsa-sha256; cv=none; d=relay.example; s=s1; b=CCCC\n"
    a = analyze_bytes(BORDER + FROM + seal)
    text = _message(a, "arc.broken")
    assert "a ARC-Seal without a valid instance i=" in text
    assert "outside 1 to" not in text


# --- input repairs, signatures, alignment -------------------------------------------------


def test_six_repairs_are_all_named_and_nothing_is_said_of_more() -> None:
    h = parse_headers(BORDER + FROM)
    for count, more in ((6, ""), (7, " (1 more repairs not listed.)")):
        repairs = tuple(Defect(f"input.r{n}", f"Repair {n}.") for n in range(count))
        out: list = []
        input_findings(replace(h, block=replace(h.block, defects=repairs)), out)
        assert [f.code for f in out] == ["input.repaired"]
        assert out[0].message == "Repaired before reading: " + " ".join(f"Repair {n}." for n in range(min(count, 6))) + more


def test_a_signature_without_a_domain_is_never_the_providers() -> None:
    """A DKIM-Signature with no d= names no domain, so it cannot be signed by the
    provider, even when the smarthost pattern would match any name."""
    sig = b"DKIM-Signature: v=1; a=rsa-sha256; s=s1; h=from; bh=AAAA; b=BBBB\n"
    a = analyze_bytes(SPF_TOP + BORDER + BELOW + FROM + sig, Options(smarthosts=("*",)))
    assert "dkim.signed-by-provider" not in _codes(a)
    assert "dkim.signed-by-sender-domain" not in _codes(a)


def test_a_failed_alignment_lists_every_domain_spf_passed_for() -> None:
    data = (
        SPF_TOP
        + b"Authentication-Results: mx.recipient.example; spf=pass smtp.mailfrom=bounce.other.example\n"
        + BORDER + BELOW + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.alignment is not None and a.alignment.spf_domains == ("relay.example", "bounce.other.example")
    assert "relay.example, bounce.other.example" in _message(a, "dmarc.not-aligned")


# --- the likely route --------------------------------------------------------------------


def test_a_hand_off_below_a_platform_hop_still_suggests_the_route() -> None:
    """The sending side, topmost first: a list server, a platform hop, and below it an
    outside host receiving from a platform server. The platform hop in between is
    skipped, not the end of the search: the hand-off below it suggests bypassed."""
    data = (
        b"Authentication-Results: mx.recipient.example; spf=pass smtp.mailfrom=list.example\n"
        b"Received-SPF: pass client-ip=198.51.100.7; envelope-from=b@list.example\n"
        b"Received: from list.example (list.example [198.51.100.7]) by mx.recipient.example (Postfix) with ESMTPS id 4; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Received: from lists-in.example (lists-in.example [198.51.100.8]) by list.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        b"Received: from relay.other.example (relay.other.example [198.51.100.9]) by ex3.mail.ovh.net with ESMTPS id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
        b"Received: from ex1.mail.ovh.net (ex1.mail.ovh.net [192.0.2.10]) by relay.other.example with ESMTPS id 1; Fri, 01 Dec 2023 18:10:01 +0000\n"
        + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.verdict == Verdict.INCONCLUSIVE
    assert a.border is not None and a.border.index == 0
    assert a.likely is not None
    assert (a.likely.route, a.likely.confidence, a.likely.hop_index) == (Verdict.BYPASSED, Confidence.UNCONFIRMED, 3)
