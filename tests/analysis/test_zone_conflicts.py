"""A host that matches both the smarthost and the platform: the stronger match decides,
and equally strong matches leave it unknown. And a defect a reader left without its
header field is given the field it came from."""

from __future__ import annotations

from dataclasses import replace

from verifier.analysis.defects import collect_defects
from verifier.analysis.engine import Options, analyze_bytes
from verifier.model import Defect, Verdict, Zone
from verifier.parsers import parse_headers

BORDER = (
    b"Received-SPF: pass client-ip=192.0.2.181; envelope-from=a@mydomain.example\n"
    b"Received: from 2.mo512.mail-out.ovh.net (2.mo512.mail-out.ovh.net [192.0.2.181]) by mx.recipient.example with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
    b"Received: from filter.gateway.example (filter.gateway.example [198.51.100.90]) by mo512.mail-out.ovh.net with ESMTPS id 1; Fri, 01 Dec 2023 11:30:01 +0000\n"
    b"From: a@mydomain.example\n"
)


def test_a_host_matching_both_sets_equally_is_unknown() -> None:
    """Given the platform's own relays as the smarthost, the headers cannot tell the two
    apart: neither route is claimed."""
    a = analyze_bytes(BORDER, Options(smarthosts=("*.mail-out.ovh.net",)))
    assert a.border.sender_zone == Zone.UNKNOWN and a.border.sender_match is None
    assert a.hops[1].zone == Zone.UNKNOWN
    assert a.verdict == Verdict.INCONCLUSIVE
    b = analyze_bytes(BORDER, Options(smarthosts=("192.0.2.181",)))
    assert b.border.sender_zone == Zone.UNKNOWN
    assert b.verdict == Verdict.INCONCLUSIVE


def test_a_strong_platform_match_beats_a_provider_domain_match() -> None:
    """A smarthost under ovh.net makes every ovh.net host a weak smarthost match; the
    platform's pattern names the relay exactly."""
    a = analyze_bytes(BORDER, Options(smarthosts=("smtp.ovh.net",)))
    assert a.border.sender_zone == Zone.PLATFORM
    assert a.border.sender_match.pattern == "*.mail-out.ovh.net"
    assert a.hops[1].zone == Zone.PLATFORM
    assert a.verdict == Verdict.BYPASSED


def test_a_defect_without_its_field_is_given_the_field_it_came_from() -> None:
    h = parse_headers(BORDER)
    bare = Defect("received.no-date", "The Received header carries no date.")
    placed = Defect("received.invalid-ip", "The client address is not a valid IP address.", 3, "Received")
    r = replace(h.received[1], defects=(bare, placed))
    defects = collect_defects(replace(h, received=(h.received[0], r)))
    assert defects == (
        Defect("received.no-date", "The Received header carries no date.", 2, "Received"),
        Defect("received.invalid-ip", "The client address is not a valid IP address.", 3, "Received"),
    )


def test_a_signature_defect_without_its_field_is_given_the_field_it_came_from() -> None:
    h = parse_headers(b"DKIM-Signature: v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=x; b=x\n" + BORDER)
    bare = Defect("tags.malformed", "Parts of a signature header are not tag=value.")
    sig = replace(h.dkim_signatures[0], defects=(bare,))
    assert collect_defects(replace(h, dkim_signatures=(sig,))) == (
        Defect("tags.malformed", "Parts of a signature header are not tag=value.", 0, "DKIM-Signature"),
    )
