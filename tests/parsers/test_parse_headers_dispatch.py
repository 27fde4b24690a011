"""parse_headers reads each field by a table of lower-cased names: every kind it reads,
in any case, and the isolation of a parser that fails (the next field of the kind is read)."""

from __future__ import annotations

import verifier.parsers as parsers
import verifier.parsers.headers  # noqa: F401 - parsers.headers.PARSERS is swapped in a test
from verifier.parsers import parse_headers

BLOCK = (
    "RECEIVED: from a.example (a.example [192.0.2.1]) by b.example with ESMTP id 1; Mon, 2 Jun 2025 10:00:00 +0000\n"
    "received-spf: pass (b.example: domain of a.example designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1\n"
    "Authentication-Results: b.example; spf=pass smtp.mailfrom=a.example\n"
    "ARC-Authentication-Results: i=1; b.example; dkim=pass header.d=a.example\n"
    "dkim-signature: v=1; a=rsa-sha256; d=a.example; s=s1; h=from; bh=x; b=y\n"
    "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=b.example; s=s; b=z\n"
    "ARC-Message-Signature: i=1; a=rsa-sha256; d=b.example; s=s; h=from; bh=x; b=y\n"
    "Return-Path: <first@a.example>\n"
    "Return-Path: <second@a.example>\n"
    "FROM: Someone <from@a.example>\n"
    "Message-ID:  <id@a.example>  \n"
    "subject: =?utf-8?B?w6k=?=\n"
    "Date: Mon, 2 Jun 2025 09:59:00 +0000\n"
    "Date: Mon, 2 Jun 2025 09:00:00 +0000\n"
    "X-Other: ignored\n"
)


def test_every_kind_in_any_case() -> None:
    h = parse_headers(BLOCK)
    assert len(h.received) == 1 and h.received[0].from_ip == "192.0.2.1"
    assert len(h.spf) == 1
    assert [a.kind for a in h.auth_results] == ["authentication-results", "arc-authentication-results"]
    assert len(h.ar_spf) == 1
    assert len(h.dkim_signatures) == 1 and len(h.arc_seals) == 1 and len(h.arc_message_signatures) == 1
    assert h.return_path is not None and h.return_path.address == "first@a.example"
    assert h.from_ is not None and h.from_.address == "from@a.example"
    assert h.message_id == "<id@a.example>"
    assert h.subject == "é"
    assert h.date is not None and h.date.utc is not None and h.date.utc.minute == 59
    assert h.defects == ()


def test_a_failing_parser_leaves_the_next_field_of_its_kind(monkeypatch) -> None:
    real_date, real_address = parsers.parse_date, parsers.parse_address

    def flaky_date(value):
        if "09:59" in value:
            raise ValueError("boom")
        return real_date(value)

    def flaky_address(value, index):
        if "first@" in value:
            raise RuntimeError("boom")
        return real_address(value, index)

    monkeypatch.setitem(parsers.headers.PARSERS, "date", flaky_date)
    monkeypatch.setitem(parsers.headers.PARSERS, "address", flaky_address)
    h = parse_headers(BLOCK)
    assert h.date is not None and h.date.utc.hour == 9 and h.date.utc.minute == 0
    assert h.return_path is not None and h.return_path.address == "second@a.example"
    assert [(d.code, d.header_index) for d in h.defects] == [("parser.internal", 7), ("parser.internal", 12)]
    assert "Return-Path header could not be read (RuntimeError)" in h.defects[0].message
