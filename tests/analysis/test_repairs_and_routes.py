"""The repairs finding (six repairs named, the rest counted), defects in header order,
a trusted authserv-id naming a hop below another, and what a proven or likely route
points at."""

from __future__ import annotations

from pathlib import Path

from verifier.analysis.border import locate_border
from verifier.analysis.engine import Options, analyze_bytes
from verifier.model import Confidence, Verdict
from verifier.parsers import parse_headers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "headers"


def _sentence(messages: list[str]) -> str:
    return " ".join(m if m.endswith(".") else m + "." for m in messages)


def test_six_repairs_are_named_and_the_rest_counted() -> None:
    lines = [b"Here are the headers:", b"From: x@a.example", b"Received: from a (a [192.0.2.4])", b"by b; Fri, 27 Nov 2026 20:00:01 +0000", b"Subject: &lt;hi&gt;"]
    data = b"\xef\xbb\xbf" + b"".join(b"  " + line + b"\r\r" for line in lines).replace(b"x@", b"x\x00@")
    a = analyze_bytes(data)
    repairs = [d for d in a.defects if d.code.startswith("input.")]
    assert len(repairs) == 8
    f = [f for f in a.findings if f.code == "input.repaired"]
    assert [x.message for x in f] == ["Repaired before reading: " + _sentence([d.message for d in repairs[:6]]) + " (2 more repairs not listed.)"]


def test_two_repairs_are_named_in_order() -> None:
    a = analyze_bytes(b"\xef\xbb\xbfFrom: x@a.example\rSubject: hi\r")
    repairs = [d.message for d in a.defects if d.code.startswith("input.")]
    assert len(repairs) == 2
    assert [f.message for f in a.findings if f.code == "input.repaired"] == ["Repaired before reading: " + _sentence(repairs)]
    clean = analyze_bytes(b"From: x@a.example\nSubject: hi\n")
    assert "input.repaired" not in [f.code for f in clean.findings]


def test_defects_are_listed_in_header_order() -> None:
    data = (
        b"DKIM-Signature: v=1; a=rsa-sha256; d=a.example; d=b.example; s=s; h=from; bh=x; b=x\n"
        b"Received: from a (a [11.22.333.44]) by b with ESMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\n"
        b"Authentication-Results: spf=pass smtp.mailfrom=a.example\n"
        b"From: x@a.example\n"
    )
    a = analyze_bytes(data)
    assert [(d.header_index, d.header_name) for d in a.defects] == [(0, "DKIM-Signature"), (1, "Received"), (2, "Authentication-Results"), (2, "Authentication-Results")]


def test_a_trusted_authserv_id_names_its_own_hop_not_the_first_below() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from gw.partner.example (gw.partner.example [198.51.100.200]) by store.recipient.example with ESMTPS id 4; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        b"From: c@mydomain.example\n"
    )
    h = parse_headers(data)
    found = locate_border(h, {"mx.recipient.example"}, list(h.spf))
    assert found is not None and found.hop == 1
    assert found.evidence == ("trusted authserv-id mx.recipient.example",)


def test_a_proven_route_points_at_the_hop_that_proves_it() -> None:
    smarthost = Options(smarthosts=("smtp-relay.relay.example",))
    by_border = analyze_bytes((FIXTURES / "ovh-bypassed-hosted.txt").read_bytes(), smarthost)
    assert by_border.likely is not None
    assert (by_border.likely.route, by_border.likely.confidence) == (Verdict.BYPASSED, Confidence.CONFIRMED)
    assert (by_border.likely.hop_index, by_border.likely.header_index) == (by_border.border.index, by_border.border.header_index)
    assert by_border.likely.reason == "the recipient's border received the message from the platform server 3.mo541.mail-out.ovh.net [192.0.2.178]."
    assert [f.headers for f in by_border.findings if f.code == "verdict.bypassed"] == [(by_border.border.header_index,)]

    again = analyze_bytes((FIXTURES / "rule-platform-after-smarthost-unknown-border.txt").read_bytes(), Options(smarthosts=("filter.gateway.example",)))
    assert again.verdict == Verdict.BYPASSED and again.border.sender_zone != "platform"
    # the platform's hop after the smarthost (Received #2, by mo512.mail-out.ovh.net)
    assert again.likely.hop_index == 2 and again.likely.header_index == again.hops[2].received.header_index
    assert again.likely.reason == "the platform handled the message again (Received #2) after the smarthost."


def test_a_likely_route_points_at_the_hop_that_suggests_it() -> None:
    a = analyze_bytes((FIXTURES / "ovh-connector-no-border-evidence.txt").read_bytes(), Options(smarthosts=("smtp-relay.relay.example",)))
    assert (a.likely.route, a.likely.confidence) == (Verdict.VIA_CONNECTOR, Confidence.UNCONFIRMED)
    assert a.likely.header_index == a.hops[a.likely.hop_index].received.header_index
    # the smarthost's own hop, when no outside host is seen receiving from it
    b = analyze_bytes(
        b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by smtp-relay.relay.example with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
        b"From: c@mydomain.example\n",
        Options(smarthosts=("smtp-relay.relay.example",)),
    )
    assert b.border is None and b.likely is not None
    assert (b.likely.route, b.likely.confidence, b.likely.hop_index, b.likely.header_index) == (Verdict.VIA_CONNECTOR, Confidence.UNCONFIRMED, 0, 0)
    assert b.likely.reason.startswith("the smarthost wrote Received #0 and nothing from the platform follows it; not proven, because no Authentication-Results")


def test_seven_repairs_one_counted() -> None:
    lines = [b"Here are the headers:", b"From: x@a.example", b"Received: from a (a [192.0.2.4])", b"by b; Fri, 27 Nov 2026 20:00:01 +0000", b"Subject: &lt;hi&gt;"]
    data = b"\xef\xbb\xbf" + b"".join(b"  " + line + b"\r\r" for line in lines)
    a = analyze_bytes(data)
    repairs = [d for d in a.defects if d.code.startswith("input.")]
    assert len(repairs) == 7
    assert [f.message for f in a.findings if f.code == "input.repaired"] == [
        "Repaired before reading: " + _sentence([d.message for d in repairs[:6]]) + " (1 more repairs not listed.)"
    ]


def test_a_proven_connector_route_by_a_smarthost_hop_points_at_that_hop() -> None:
    a = analyze_bytes((FIXTURES / "rule-smarthost-hop-unlisted-egress.txt").read_bytes(), Options(smarthosts=("smtp-relay.relay.example",)))
    assert a.verdict == Verdict.VIA_CONNECTOR and a.border.sender_zone != "smarthost"
    assert (a.likely.route, a.likely.confidence) == (Verdict.VIA_CONNECTOR, Confidence.CONFIRMED)
    hop = a.hops[a.likely.hop_index]
    assert hop.zone == "smarthost" and a.likely.header_index == hop.received.header_index
    assert a.likely.reason == f"the smarthost wrote Received #{hop.index} on the sending side and nothing from the platform follows it."
