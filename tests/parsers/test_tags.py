"""DKIM-Signature / ARC tag lists."""

from __future__ import annotations

from verifier.parsers.tags import parse_tag_list

SIG = (
    "v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example;\r\n q=dns/txt; s=sel1;"
    " bh=AbCd EfGh\r\n\tIjKl=;\r\n h=From : Subject:\r\n\tDate; b=QUJD\r\n REVG\r\n\tR0g=;"
)


def codes(t):
    return [d.code for d in t.defects]


def test_dkim_signature_tags_and_fws_removed():
    t = parse_tag_list(SIG, 5, "dkim-signature")
    assert t.header_index == 5
    assert t.kind == "dkim-signature"
    assert t.d == "sender.example" and t.s == "sel1" and t.a == "rsa-sha256"
    assert t.tags["bh"] == "AbCdEfGhIjKl="
    assert t.tags["b"] == "QUJDREVGR0g="
    assert t.h == ("from", "subject", "date")
    assert codes(t) == []


def test_duplicate_tag_keeps_first():
    t = parse_tag_list("v=1; d=a.example; d=b.example; s=x; a=rsa-sha256; b=x; bh=y; h=from", 0)
    assert t.d == "a.example"
    assert "tags.duplicate" in codes(t)


def test_malformed_and_missing():
    t = parse_tag_list("v=1; garbage; 9x=1; d=a.example", 0, "dkim-signature")
    assert t.d == "a.example"
    assert "tags.malformed" in codes(t)
    assert "tags.missing" in codes(t)


def test_arc_seal_required_tags():
    t = parse_tag_list(
        "i=1; a=rsa-sha256; cv=none; d=a.example; s=arc; t=1700000000; b=AAAA", 0, "arc-seal"
    )
    assert t.tags["cv"] == "none" and t.i == "1"
    assert codes(t) == []


def test_never_raises():
    for v in ["", ";", "=", "==;==", "a", "b=" + " " * 1000, ";" * 10000]:
        t = parse_tag_list(v, 0)
        assert isinstance(t.tags, dict)


def test_too_many_tags_truncated():
    t = parse_tag_list("; ".join(f"t{i}=v" for i in range(500)), 0)
    assert len(t.tags) == 64
    assert "tags.truncated" in codes(t)
