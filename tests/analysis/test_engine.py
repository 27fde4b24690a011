"""The analysis engine on small hand-written header blocks: border, zones, delays, verdict."""

from __future__ import annotations

from verifier.analysis.engine import Options, analyze_bytes

OVH_BYPASSED = b"""\
Authentication-Results: mx.recipient.example; spf=pass smtp.mailfrom=mydomain.example; dkim=none
Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.178; helo=3.mo541.mail-out.ovh.net; envelope-from=contact@mydomain.example; receiver=mx.recipient.example
Received: from 3.mo541.mail-out.ovh.net (3.mo541.mail-out.ovh.net [198.51.100.178])
\tby mx.recipient.example (Postfix) with ESMTPS id 4AbCdE
\tfor <user@recipient.example>; Wed, 25 Jan 2023 10:24:31 +0000 (UTC)
Received: from ex4.mail.ovh.net (unknown [10.111.172.110])
\tby mo541.mail-out.ovh.net (Postfix) with ESMTPS id 4XyZ
\tfor <user@recipient.example>; Wed, 25 Jan 2023 10:24:30 +0000 (UTC)
Received: from localhost (192.0.2.229) by DAG10EX1.indiv4.local (172.16.2.91)
 with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.16;
 Wed, 25 Jan 2023 11:24:29 +0100
From: Contact <contact@mydomain.example>
To: user@recipient.example
Subject: hello
Date: Wed, 25 Jan 2023 11:24:28 +0100
Message-ID: <abc@mydomain.example>
"""

VIA_SMARTHOST = b"""\
Authentication-Results: mx.guides.test; dkim=pass (2048-bit key) header.d=relay.test header.i=@relay.test header.b=abc; dkim-atps=neutral
Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.20; helo=out.relay.test; envelope-from=bounce-1@bounces.relay.test; receiver=john@guides.test
Received: from out.relay.test (out.relay.test [198.51.100.20])
\tby mx.guides.test (Postfix) with ESMTPS id AAA1
\tfor <john@guides.test>; Fri, 27 Nov 2026 20:00:03 +0000 (UTC)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=relay.test; s=lab; h=from:to:subject:date; bh=AAAA; b=BBBB
Received: from mail.platform.test (mail.platform.test [192.0.2.10])
\tby smtp.relay.test (Postfix) with ESMTPSA id BBB2
\tfor <john@guides.test>; Fri, 27 Nov 2026 20:00:02 +0000 (UTC)
Received: from client.platform.test (client.platform.test [192.0.2.100])
\tby mail.platform.test (Postfix) with ESMTPSA id CCC3
\tfor <john@guides.test>; Fri, 27 Nov 2026 20:00:01 +0000 (UTC)
From: newsletter@mydomain.test
To: john@guides.test
Subject: probe
Date: Fri, 27 Nov 2026 20:00:00 +0000
"""


def _codes(a):
    return [f.code for f in a.findings]


def test_platform_outbound_is_bypassed_and_zones_follow_the_border():
    a = analyze_bytes(OVH_BYPASSED, Options(smarthosts=("smtp.relay.example",)))
    assert a.verdict == "bypassed"
    assert a.border is not None and a.border.index == 0
    assert a.border.sender_ip == "198.51.100.178"
    assert a.border.sender_zone == "platform"
    assert [h.zone for h in a.hops] == ["recipient", "platform", "platform"]
    assert "border.from-platform" in _codes(a)
    assert "Received-SPF client-ip 198.51.100.178" in a.border.evidence
    assert "Authentication-Results authserv-id mx.recipient.example" in a.border.evidence


def test_delays_use_the_hop_below_and_the_date_header():
    a = analyze_bytes(OVH_BYPASSED)
    assert [h.delay_seconds for h in a.hops] == [1.0, 1.0, 1.0]
    assert a.total_seconds == 3.0


def test_smarthost_egress_of_same_provider_gives_via_connector():
    a = analyze_bytes(VIA_SMARTHOST, Options(smarthosts=("smtp.relay.test",), platform=("mail.platform.test",)))
    assert a.verdict == "via-connector"
    assert a.border.index == 0 and a.border.sender_zone == "smarthost"
    assert [h.zone for h in a.hops] == ["recipient", "smarthost", "platform"]
    codes = _codes(a)
    assert "dkim.signed-by-provider" in codes
    assert "dkim.pass" in codes
    assert "spf.pass" in codes


def test_without_smarthost_the_connector_route_is_not_claimed():
    a = analyze_bytes(VIA_SMARTHOST, Options(platform=("mail.platform.test",)))
    assert a.verdict == "inconclusive"
    assert "route.no-smarthost-given" in _codes(a)


def test_platform_handing_over_after_the_smarthost_is_bypassed():
    # The smarthost sent the message back to the platform, which delivered it itself.
    data = VIA_SMARTHOST.replace(b"from out.relay.test (out.relay.test [198.51.100.20])", b"from mail.platform.test (mail.platform.test [192.0.2.10])").replace(b"client-ip=198.51.100.20", b"client-ip=192.0.2.10")
    a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",), platform=("mail.platform.test",)))
    assert a.border.sender_zone == "platform"
    assert a.verdict == "bypassed"


def test_clock_skew_is_a_finding_never_a_negative_delay():
    data = VIA_SMARTHOST.replace(b"20:00:02 +0000", b"19:59:00 +0000")
    a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",)))
    delays = [h.delay_seconds for h in a.hops]
    assert delays[1] is None  # the skewed hop
    assert all(d is None or d >= 0 for d in delays)
    assert "chain.clock-skew" in _codes(a)


def test_sender_side_spf_check_does_not_move_the_border():
    # The smarthost checks SPF on what the platform sends it and says so below the real border.
    data = VIA_SMARTHOST.replace(
        b"Received: from mail.platform.test",
        b"Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10; helo=mail.platform.test; envelope-from=newsletter@mydomain.test; receiver=smtp.relay.test\nReceived: from mail.platform.test",
    )
    a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",), platform=("mail.platform.test",)))
    assert a.border.index == 0
    assert a.verdict == "via-connector"
    assert "auth.untrusted-results" in _codes(a)


def test_results_written_below_the_border_are_ignored():
    data = VIA_SMARTHOST.replace(
        b"Received: from client.platform.test",
        b"Authentication-Results: smtp.relay.test; dkim=fail header.d=relay.test\nReceived: from client.platform.test",
    )
    a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",)))
    assert "dkim.fail" not in _codes(a)
    assert "auth.untrusted-results" in _codes(a)


def test_alignment_with_the_from_domain():
    a = analyze_bytes(VIA_SMARTHOST, Options(smarthosts=("smtp.relay.test",)))
    assert a.alignment.from_domain == "mydomain.test"
    assert not a.alignment.spf_aligned and not a.alignment.dkim_aligned
    assert "dmarc.not-aligned" in _codes(a)
    aligned = VIA_SMARTHOST.replace(b"envelope-from=bounce-1@bounces.relay.test", b"envelope-from=bounce-1@bounces.mydomain.test")
    b = analyze_bytes(aligned, Options(smarthosts=("smtp.relay.test",)))
    assert b.alignment.spf_aligned
    assert "dmarc.aligned" in _codes(b)


def test_no_border_evidence_and_no_external_address_is_inconclusive():
    data = b"Received: from a.internal (a.internal [10.0.0.1]) by b.internal with ESMTP id 1; Fri, 27 Nov 2026 20:00:00 +0000\nFrom: x@y.example\n"
    a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",)))
    assert a.border is None
    assert a.verdict == "inconclusive"
    assert "border.not-found" in _codes(a)


def test_a_guessed_border_is_reported_but_proves_nothing():
    data = b"Received: from relay.example (relay.example [203.0.113.9]) by mx.example with ESMTP id 1; Fri, 27 Nov 2026 20:00:00 +0000\nFrom: x@y.example\n"
    a = analyze_bytes(data, Options(smarthosts=("relay.example",)))
    assert a.border is None
    assert a.verdict == "inconclusive"
    nf = next(f for f in a.findings if f.code == "border.not-found")
    assert "relay.example [203.0.113.9]" in nf.message


def test_results_below_their_own_received_gmail_layout_are_trusted():
    # Gmail, Sendmail milters and Exchange Online write SPF/AR just below their own Received.
    data = b"""Received: by 2002:a05:6838:1::1 with SMTP id x; Fri, 27 Nov 2026 20:00:05 -0800 (PST)
Return-Path: <bounce@relay.test>
Received: from out.relay.test (out.relay.test. [198.51.100.20])
        by mx.google.com with ESMTPS id y
        for <john@gmail.example>; Fri, 27 Nov 2026 20:00:04 -0800 (PST)
Received-SPF: pass (google.com: domain of bounce@relay.test designates 198.51.100.20 as permitted sender) client-ip=198.51.100.20;
Authentication-Results: mx.google.com; dkim=pass header.i=@relay.test header.s=lab; spf=pass (google.com: domain of bounce@relay.test designates 198.51.100.20 as permitted sender) smtp.mailfrom=bounce@relay.test
Received: from mail.platform.test (mail.platform.test [192.0.2.10]) by smtp.relay.test with ESMTPSA id z; Sat, 28 Nov 2026 04:00:03 +0000
Authentication-Results: smtp.relay.test; dkim=fail header.d=mydomain.test
From: newsletter@mydomain.test
"""
    a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",)))
    assert a.border.index == 1 and a.border.receiver == "mx.google.com"
    codes = _codes(a)
    assert "spf.pass" in codes and "dkim.pass" in codes
    assert "dkim.fail" not in codes  # the relay's own result, below the border's gap
    assert a.verdict == "via-connector"


def test_arc_gap_is_reported():
    data = b"""ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=b.example; s=s; b=x
ARC-Message-Signature: i=2; a=rsa-sha256; d=b.example; s=s; h=from; bh=x; b=x
ARC-Authentication-Results: i=2; mx.b.example; spf=pass smtp.mailfrom=a.example
Received: from mx.a.example (mx.a.example [203.0.113.1]) by mx.b.example with ESMTPS id 2; Fri, 27 Nov 2026 20:00:01 +0000
From: x@a.example
"""
    a = analyze_bytes(data)
    codes = _codes(a)
    assert "arc.chain" in codes and "arc.broken" in codes
    broken = next(f for f in a.findings if f.code == "arc.broken")
    assert "i=1" in broken.message


def test_every_emitted_code_is_catalogued():
    from verifier.analysis.findings import SPECS

    for data in (OVH_BYPASSED, VIA_SMARTHOST, b"", b"\x00\xff garbage"):
        a = analyze_bytes(data, Options(smarthosts=("smtp.relay.test",)))
        for f in a.findings:
            assert f.code in SPECS
            assert f.severity == SPECS[f.code].severity
