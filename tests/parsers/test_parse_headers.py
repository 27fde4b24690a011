"""parse_headers: the whole block, the guide's sample, isolation of failures."""

from __future__ import annotations

from datetime import UTC, datetime

import verifier.parsers as parsers
import verifier.parsers.headers  # noqa: F401 - parsers.headers.PARSERS is swapped in a test
from tests.parsers import samples as S
from verifier.model import Headers
from verifier.parsers import parse_headers


def test_guide_sample_as_pasted():
    h = parse_headers(S.GUIDE_SAMPLE)
    assert isinstance(h, Headers)
    assert "input.html-escaped" in [d.code for d in h.block.defects]
    assert len(h.received) == 6
    by = [r.by_host for r in h.received]
    assert by == [
        "localhost",
        "192.168.1.2",
        "out28.mail.ovh.net",
        "vr45.mail.ovh.net",
        "in31.mail.ovh.net",
        "smtp-relay.smtp.example.com",
    ]
    border = h.received[4]
    assert border.from_host == "sender-id.example.com"
    assert border.from_ip == "11.22.333.44"
    assert border.ip_valid is False
    assert "received.invalid-ip" in [d.code for d in border.defects]
    assert border.for_ == "john.smith@guides.ovh"  # the &lt; &gt; were decoded
    # every hop has a date, and the entity's ';' was never taken as the separator
    assert all(r.date is not None and r.date.utc is not None for r in h.received)
    assert h.received[-1].date.utc == datetime(2023, 2, 28, 7, 51, tzinfo=UTC)
    assert h.received[1].tls is True and h.received[1].tls_detail == "AES256-GCM-SHA384"
    # SPF, DKIM, addresses
    assert len(h.spf) == 1
    assert h.spf[0].result == "pass" and h.spf[0].domain == "sender-id.example.com"
    assert h.spf[0].client_ip == "11.22.333.44"
    assert len(h.auth_results) == 1
    ar = h.auth_results[0]
    assert ar.authserv_id == "in31.mail.ovh.net" and ar.strict
    assert (
        ar.results[0].method == "dkim"
        and ar.results[0].properties["header.d"] == "smtp.example.com"
    )
    assert len(h.dkim_signatures) == 1 and h.dkim_signatures[0].d == "smtp.example.com"
    assert h.dkim_signatures[0].s == "mail"
    assert h.return_path.domain == "sender-id.example.com"
    assert h.from_.address == "newsletter@mydomain.ovh" and h.from_.domain == "mydomain.ovh"
    assert h.message_id == "<12185193-354a-4762-b3ee-a40484d30975e@smtp-relay.smtp.example.com>"
    assert h.subject == "Test SBR 3 (SIB)"
    assert h.date.utc == datetime(2023, 2, 28, 7, 50, 56, tzinfo=UTC)
    # header indexes point at the right fields
    for r in h.received:
        assert h.block.fields[r.header_index].lname == "received"
    assert h.block.fields[h.spf[0].header_index].lname == "received-spf"


def test_guide_sample_as_bytes_with_crlf():
    h = parse_headers(S.GUIDE_SAMPLE.replace("\n", "\r\n").encode())
    assert len(h.received) == 6


def test_every_family_collected_in_order():
    text = S.block(
        ("ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=a.example; s=arc; b=AAAA"),
        (
            "ARC-Message-Signature",
            "i=1; a=rsa-sha256; c=relaxed/relaxed; d=a.example; s=arc; h=from; bh=BB; b=CC",
        ),
        ("ARC-Authentication-Results", S.MICROSOFT_AAR),
        ("Authentication-Results", S.MICROSOFT_AR),
        ("Received", S.EXCHANGE_365),
        ("Authentication-Results", S.GMAIL_AR),
        ("Received", S.GMAIL_MX),
        ("DKIM-Signature", "v=1; a=rsa-sha256; d=sender.example; s=s1; h=from:to; bh=x; b=y"),
        ("DKIM-Signature", "v=1; a=ed25519-sha256; d=sender.example; s=s2; h=from:to; bh=x; b=y"),
        ("Received", S.POSTFIX),
        ("From", "Someone <someone@sender.example>"),
        ("Date", "not a date"),
    )
    h = parse_headers(text)
    assert [r.header_index for r in h.received] == [4, 6, 9]
    assert [a.kind for a in h.auth_results] == [
        "arc-authentication-results",
        "authentication-results",
        "authentication-results",
    ]
    assert [a.strict for a in h.auth_results] == [True, False, True]
    assert len(h.dkim_signatures) == 2 and h.dkim_signatures[1].s == "s2"
    assert len(h.arc_seals) == 1 and len(h.arc_message_signatures) == 1
    assert h.spf == ()
    assert h.date is not None and h.date.utc is None
    assert "date.unparsed" in [d.code for d in h.defects]


def test_failure_in_one_header_is_isolated(monkeypatch):
    real = parsers.parse_received

    def flaky(value, index):
        if "POISON" in value:
            raise RuntimeError("boom")
        return real(value, index)

    monkeypatch.setitem(parsers.headers.PARSERS, "received", flaky)
    text = S.block(("Received", S.POSTFIX), ("Received", "from POISON by x"), ("Received", S.QMAIL))
    h = parse_headers(text)
    assert len(h.received) == 3
    assert h.received[0].by_host == "mx.rcpt.example"
    assert h.received[1].raw == "from POISON by x" and h.received[1].by_host is None
    assert h.received[2].from_ip == "203.0.113.150"
    assert [(d.code, d.header_index) for d in h.defects] == [("parser.internal", 1)]


def test_empty_and_headerless_inputs():
    for data in [b"", "", "no header here", b"\xff\xfe\x00", "\n\n\n"]:
        h = parse_headers(data)
        assert h.received == () and h.from_ is None


def test_subject_encoded_words_decoded():
    h = parse_headers("Subject: =?UTF-8?B?w4l0w6kgcMOqbGUtbcOqbGU=?= ok\n")
    assert h.subject == "Été pêle-mêle ok"
    h = parse_headers("Subject: =?x-unknown?Q?abc?=\n")
    assert h.subject == "=?x-unknown?Q?abc?="


def test_date_header_without_offset_flagged():
    h = parse_headers("Date: Mon, 1 Jan 2024 10:00:00\n")
    assert h.date.utc == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert [d.code for d in h.defects] == ["date.no-offset"]
