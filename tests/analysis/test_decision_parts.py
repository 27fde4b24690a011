"""The parts the decisions are made of, each checked on its own: the border search's
hand-off and evidence helpers, the names shown in sentences, the DKIM domain, and the
shapes the likely route accepts."""

from __future__ import annotations

from pathlib import Path

from verifier.analysis.auth import dkim_domain
from verifier.analysis.border import _local_handoff, ar_client_ips, locate_border
from verifier.analysis.engine import Options, analyze, analyze_bytes
from verifier.analysis.hosts import Match
from verifier.analysis.zones import match_text
from verifier.model import AuthResults, MethodResult, Received, SpfResult
from verifier.parsers import parse_headers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "headers"
SMARTHOST = Options(smarthosts=("smtp-relay.relay.example",))
BOTTOM = (
    b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by out-1.relay.example (Postfix) with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
    b"From: c@mydomain.example\n"
)


def _messages(a) -> dict[str, str]:
    return {f.code: f.message for f in a.findings}


def test_local_handoff_without_an_address() -> None:
    assert _local_handoff(Received(0, "", from_host="mx.recipient.example", by_host="store.recipient.example"))
    assert _local_handoff(Received(0, "", by_host="store.recipient.example"))  # no client named at all
    assert _local_handoff(Received(0, "", from_host="Store.Recipient.Example", by_host="store.recipient.example"))
    assert not _local_handoff(Received(0, "", from_host="out-1.relay.example", by_host="store.recipient.example"))
    assert not _local_handoff(Received(0, "", from_host="out-1.relay.example"))
    assert _local_handoff(Received(0, "", from_ip="10.0.0.5", from_host="anything.example"))
    assert not _local_handoff(Received(0, "", from_ip="198.51.100.33", from_host="mx.recipient.example", by_host="mx.recipient.example"))


def test_the_border_descends_through_an_lmtp_hand_off_without_address() -> None:
    data = (
        b"Authentication-Results: store.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from mx.recipient.example by store.recipient.example with LMTP id 9; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        + BOTTOM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border.index == 1
    assert a.border.evidence[-1] == "internal hand-off from mx.recipient.example"
    assert a.verdict == "via-connector"


def test_no_descent_to_a_hop_the_client_did_not_write() -> None:
    data = (
        b"Authentication-Results: store.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from mx.recipient.example by store.recipient.example with LMTP id 9; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by gw.other-site.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        + BOTTOM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border.index == 0


def test_ar_client_ips_reads_only_its_own_header() -> None:
    ar = AuthResults(3, "authentication-results", "mx.b.example", (MethodResult("iprev", "pass", properties={"policy.iprev": "[198.51.100.7]"}), MethodResult("iprev", "pass", properties={"policy.iprev": "not-an-ip"})))
    spf = [
        SpfResult(3, "authentication-results", "pass", client_ip="198.51.100.9"),
        SpfResult(5, "authentication-results", "pass", client_ip="203.0.113.1"),
        SpfResult(3, "received-spf", "pass", client_ip="203.0.113.2"),
        SpfResult(3, "authentication-results", "pass", client_ip=None),
    ]
    assert ar_client_ips(ar, spf) == ["198.51.100.9", "198.51.100.7"]
    remote = AuthResults(1, "authentication-results", "x", (MethodResult("auth", "pass", properties={"smtp.remote-ip": "192.0.2.1", "smtp.client-ip": "192.0.2.1"}),))
    assert ar_client_ips(remote, []) == ["192.0.2.1"]


def test_evidence_points_at_the_nearest_of_two_hops_with_one_address() -> None:
    h = parse_headers((FIXTURES / "rule-border-nearest-hop-relay-twice.txt").read_bytes())
    found = locate_border(h, set(), list(h.spf))
    assert found is not None and found.hop == 0 and found.strong


def test_dkim_domain() -> None:
    assert dkim_domain(MethodResult("dkim", "pass", properties={"header.d": "MyDomain.Example"})) == "mydomain.example"
    assert dkim_domain(MethodResult("dkim", "pass", properties={"header.i": "@Sub.MyDomain.Example"})) == "sub.mydomain.example"
    assert dkim_domain(MethodResult("dkim", "pass", properties={"header.i": "a@b@C.example"})) == "c.example"
    assert dkim_domain(MethodResult("dkim", "pass", properties={"header.i": "user@"})) is None
    assert dkim_domain(MethodResult("dkim", "pass", properties={"header.i": "no-at-sign"})) is None
    assert dkim_domain(MethodResult("dkim", "pass")) is None


def test_match_text() -> None:
    assert match_text(None) == "no pattern"
    assert match_text(Match("relay.example", "provider-domain", "out-1.relay.example")) == "same organisational domain as relay.example"
    assert match_text(Match("192.0.2.0/24", "ip", "192.0.2.5")) == "address 192.0.2.5 in 192.0.2.0/24"
    assert match_text(Match("*.relay.example", "glob", "out-1.relay.example")) == "out-1.relay.example matches *.relay.example"


def test_sentences_name_the_hosts_and_the_source() -> None:
    a = analyze_bytes((FIXTURES / "ovh-bypassed-hosted.txt").read_bytes(), SMARTHOST)
    m = _messages(a)
    assert m["verdict.bypassed"].startswith("The message left through the platform's own outbound (3.mo541.mail-out.ovh.net [192.0.2.178]),")
    assert m["spf.pass"] == "SPF passed for mydomain.example for client 192.0.2.178 (Received-SPF)."
    assert m["dkim.pass"] == "mx1.recipient.example verified a DKIM signature with d=mydomain.example."
    b = analyze_bytes((FIXTURES / "rule-border-ar-client-address.txt").read_bytes(), SMARTHOST)
    assert _messages(b)["border.found"].startswith("The recipient's border is Received #0: gw.recipient.example received the message from out-1.relay.example [198.51.100.33]")
    c = analyze_bytes(
        b"Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=a.example\n"
        b"Received: from mx.a.example (mx.a.example [203.0.113.1]) by mx.b.example with ESMTPS id 2; Fri, 27 Nov 2026 20:00:01 +0000\nFrom: x@a.example\n"
    )
    assert "(Authentication-Results of mx.b.example)" in _messages(c)["spf.pass"]
    d = analyze_bytes(
        b"Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=a.example\n"
        b"Received: from mx.b.example by mx.b.example with LMTP; Fri, 27 Nov 2026 20:00:02 +0000\n"
        b"Received: by mx.b.example with ESMTPS id 2; Fri, 27 Nov 2026 20:00:01 +0000\nFrom: x@a.example\n"
    )
    assert "received the message from an unnamed host" in _messages(d)["border.found"]


def test_the_guess_is_named_in_border_not_found() -> None:
    a = analyze_bytes(
        b"Received: from mx.a.example (mx.a.example [203.0.113.1]) by mx.b.example with ESMTPS id 2; Fri, 27 Nov 2026 20:00:01 +0000\nFrom: x@a.example\n"
    )
    assert "suggests mx.a.example [203.0.113.1] handing it to mx.b.example (Received #0), but nothing confirms it" in _messages(a)["border.not-found"]


def test_without_smarthost_a_relay_hand_off_needs_two_platform_hops_below() -> None:
    """The on-premises fixture cut short: with the relay's own receipt (from a platform
    server) still below the hand-off the route is suggested; without it, it is not."""
    text = (FIXTURES / "likely-onprem-no-auth.txt").read_text()
    start = text.index("Received: from localhost (203.0.113.45)")
    end = text.index("Message-ID:")
    three = analyze(parse_headers(text[:start] + text[end:]))
    assert len(three.hops) == 3 and three.likely is not None and three.likely.hop_index == 1
    relay = text.index("Received: from ex4.mail.ovh.net")
    two = analyze(parse_headers(text[:relay] + text[end:]))
    assert len(two.hops) == 2 and two.likely is None


def test_trusted_is_unknown_without_a_border() -> None:
    a = analyze_bytes(b"Received: from a (a [10.0.0.1]) by b; Fri, 27 Nov 2026 20:00:01 +0000\nFrom: x@a.example\n")
    assert a.border is None and a.trusted(0) is None
    b = analyze_bytes((FIXTURES / "ovh-bypassed-hosted.txt").read_bytes())
    assert b.trusted(3) is True and b.trusted(4) is True and b.trusted(2) is False


def test_chain_and_spf_sentences() -> None:
    data = (
        b"Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=203.0.113.9; envelope-from=x@a.example\n"
        b"Authentication-Results: mx.b.example; dkim=fail header.d=a.example; spf=softfail smtp.mailfrom=a.example\n"
        b"Received: from mx.a.example (mx.a.example [203.0.113.1]) by mx.b.example with ESMTPS id 2; Fri, 27 Nov 2026 20:00:01 +0000\n"
        b"Received: from c.example (c.example [11.22.333.44]) by mx.a.example with SMTP id 1; sometime\n"
        b"Received: (qmail 1 invoked by uid 89)\n"
        b"From: x@a.example\n"
    )
    a = analyze_bytes(data)
    m = {}
    for f in a.findings:
        m.setdefault(f.code, []).append(f.message)
    assert m["spf.client-ip-mismatch"] == ["SPF was evaluated for 203.0.113.9, but the border hop recorded the client 203.0.113.1."]
    assert m["chain.invalid-ip"] == ["Received #1 records the client address 11.22.333.44, which is not a valid IP address; it is shown as written."]
    assert m["chain.unparsed-hop"] == ["Received #2 names neither the sending nor the receiving host; it is kept as written."]
    assert m["chain.date-unparsed"] == [
        "Received #1 has 'sometime' that cannot be read as a date, so the delays around it are unknown.",
        "Received #2 has no date that cannot be read as a date, so the delays around it are unknown.",
    ]
    assert m["dkim.fail"] == ["mx.b.example could not verify the DKIM signature with d=a.example: fail."]
    assert m["spf.not-pass"] == ["SPF gave 'softfail' for a.example (Authentication-Results of mx.b.example)."]


TWO_HOPS = (
    b"Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.33; envelope-from=b@relay.example\n"
    b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
)


def test_a_result_below_the_next_received_is_never_trusted() -> None:
    """Even when it names the recipient's server: only the sending side can have written it."""
    data = (
        TWO_HOPS
        + b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by out-1.relay.example (Postfix) with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
        + b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        + b"From: c@mydomain.example\n"
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border.index == 0
    assert a.trusted(3) is False
    assert "dkim.pass" not in [f.code for f in a.findings]


def test_a_result_in_the_gap_is_trusted_when_it_records_the_border_client() -> None:
    data = (
        TWO_HOPS
        + b"Authentication-Results: scanner-1; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.33; dkim=pass header.d=relay.example\n"
        + b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by out-1.relay.example (Postfix) with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
        + b"Authentication-Results: scanner-2; spf=pass smtp.mailfrom=relay.example smtp.client-ip=192.0.2.44\n"
        + b"From: c@mydomain.example\n"
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border.index == 0
    assert a.trusted(2) is True and a.trusted(4) is False


def test_delay_findings_cite_both_timestamps_and_the_start() -> None:
    a = analyze_bytes((FIXTURES / "clock-skew.txt").read_bytes())
    skew = next(f for f in a.findings if f.code == "chain.clock-skew")
    hops = {h.index: h.received.header_index for h in a.hops}
    assert skew.headers == tuple(sorted((hops[1], hops[2])))
    b = analyze_bytes(
        b"Received: from a.example (a.example [203.0.113.1]) by b.example with SMTP id 2; Fri, 27 Nov 2026 20:00:05 +0000\n"
        b"Received: from c.example (c.example [203.0.113.2]) by a.example with SMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\n"
        b"From: x@a.example\n"
    )
    total = next(f for f in b.findings if f.code == "chain.total-delay")
    assert total.message == "The trip took 4 s from the oldest hop to the last hop."
