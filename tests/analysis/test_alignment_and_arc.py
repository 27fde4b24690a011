"""DMARC alignment from the recipient's results or, without any, from the identifiers;
and the ARC chain's shape: instances, missing and duplicate headers, seal cv values,
and what the two ARC findings cite."""

from __future__ import annotations

from verifier.analysis.engine import analyze_bytes

BORDER = (
    b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=b@relay.example\n"
    b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
)
FROM = b"From: c@news.mydomain.example\n"


def _messages(a, code: str) -> list[str]:
    return [f.message for f in a.findings if f.code == code]


def _ar(results: bytes) -> bytes:
    return b"Authentication-Results: mx.recipient.example; " + results + b"\n"


def test_alignment_from_the_recipients_results() -> None:
    a = analyze_bytes(_ar(b"spf=pass smtp.mailfrom=bounce.mydomain.example; dkim=pass header.d=mydomain.example") + BORDER + FROM)
    al = a.alignment
    assert (al.from_domain, al.based_on, al.spf_aligned, al.dkim_aligned) == ("news.mydomain.example", "results", True, True)
    assert _messages(a, "dmarc.aligned") == ["SPF and DKIM passed for a domain aligned with the From domain news.mydomain.example, so DMARC can pass."]
    assert [f.headers for f in a.findings if f.code == "dmarc.aligned"] == [(3,)]
    b = analyze_bytes(_ar(b"spf=fail smtp.mailfrom=mydomain.example; dkim=pass header.d=mydomain.example") + FROM)
    assert _messages(b, "dmarc.aligned") == ["DKIM passed for a domain aligned with the From domain news.mydomain.example, so DMARC can pass."]
    c = analyze_bytes(_ar(b"spf=pass smtp.mailfrom=mydomain.example; dkim=fail header.d=mydomain.example") + FROM)
    assert _messages(c, "dmarc.aligned") == ["SPF passed for a domain aligned with the From domain news.mydomain.example, so DMARC can pass."]


def test_an_spf_pass_for_the_helo_name_does_not_align() -> None:
    a = analyze_bytes(_ar(b"spf=pass smtp.helo=mydomain.example") + FROM)
    assert a.alignment.spf_domains == () and not a.alignment.spf_aligned
    assert [f.headers for f in a.findings if f.code == "dmarc.not-aligned"] == [(1,)]
    assert _messages(a, "dmarc.not-aligned") == [
        "Neither SPF nor DKIM passed for a domain aligned with the From domain news.mydomain.example (SPF: none; DKIM: none): "
        "DMARC fails wherever mydomain.example publishes a policy. Fix: have the provider sign with d=news.mydomain.example "
        "(custom DKIM) or use a bounce domain under news.mydomain.example."
    ]


def test_unaligned_results_list_every_domain_that_passed() -> None:
    a = analyze_bytes(_ar(b"spf=pass smtp.mailfrom=relay.example; dkim=pass header.d=relay.example; dkim=pass header.d=Other.Example; dkim=pass header.d=relay.example") + FROM)
    assert a.alignment.dkim_domains == ("relay.example", "other.example")
    assert _messages(a, "dmarc.not-aligned")[0].startswith(
        "Neither SPF nor DKIM passed for a domain aligned with the From domain news.mydomain.example (SPF: relay.example; DKIM: relay.example, other.example, relay.example)"
    )


def test_alignment_from_the_identifiers_when_the_recipient_recorded_nothing() -> None:
    data = b"Return-Path: <b@Bounce.MyDomain.Example>\nDKIM-Signature: v=1; a=rsa-sha256; d=Relay.Example; s=s; h=from; bh=x; b=x\n" + FROM
    a = analyze_bytes(data)
    al = a.alignment
    assert (al.based_on, al.spf_domains, al.dkim_domains, al.spf_aligned, al.dkim_aligned) == ("identifiers", ("bounce.mydomain.example",), ("relay.example",), True, False)
    assert _messages(a, "dmarc.aligned") == ["SPF would pass for a domain aligned with the From domain news.mydomain.example, so DMARC can pass."]
    b = analyze_bytes(b"DKIM-Signature: v=1; a=rsa-sha256; d=relay.example; s=s; h=from; bh=x; b=x\n" + FROM)
    assert b.alignment.spf_domains == ()
    assert _messages(b, "dmarc.not-aligned")[0].startswith(
        "Neither the Return-Path nor any DKIM d= aligns with the From domain news.mydomain.example (SPF: none; DKIM: relay.example)"
    )


def test_results_the_recipient_did_not_write_are_not_used_for_alignment() -> None:
    """Below the border: the sending side's own results, so the identifiers decide."""
    data = BORDER + b"Received: from a (a [192.0.2.4]) by out-1.relay.example with ESMTP id 2; Fri, 01 Dec 2023 18:10:02 +0000\n" \
        + _ar(b"dkim=pass header.d=mydomain.example").replace(b"mx.recipient.example", b"out-1.relay.example") \
        + b"Return-Path: <b@relay.example>\n" + FROM
    a = analyze_bytes(data)
    assert a.alignment.based_on == "results"  # the Received-SPF above the border is the recipient's
    assert a.alignment.dkim_domains == ()
    assert not a.alignment.dkim_aligned


def test_no_from_domain_no_alignment() -> None:
    a = analyze_bytes(_ar(b"spf=pass smtp.mailfrom=mydomain.example") + BORDER)
    assert a.alignment is None
    assert not {"dmarc.aligned", "dmarc.not-aligned"} & {f.code for f in a.findings}


# --- ARC ---------------------------------------------------------------------------------


def arc_set(i: str, cv: str = "none", d: str = "relay.example") -> bytes:
    return (
        f"ARC-Seal: i={i}; a=rsa-sha256; cv={cv}; d={d}; s=s; b=x\n"
        f"ARC-Message-Signature: i={i}; a=rsa-sha256; d={d}; s=s; h=from; bh=x; b=x\n"
        f"ARC-Authentication-Results: i={i}; mx.{d}; spf=pass smtp.mailfrom={d}\n"
    ).encode()


def test_a_well_formed_chain() -> None:
    a = analyze_bytes(arc_set("2", "pass") + arc_set("1") + FROM)
    assert _messages(a, "arc.chain") == ["The message carries an ARC chain of 2 instance(s); the last seal says cv=pass."]
    assert [f.headers for f in a.findings if f.code == "arc.chain"] == [(0, 1, 2, 3, 4, 5)]
    assert "arc.broken" not in [f.code for f in a.findings]
    b = analyze_bytes(FROM)
    assert not [f for f in b.findings if f.code.startswith("arc.")]


def test_seal_cv_values() -> None:
    a = analyze_bytes(arc_set("3", "fail") + arc_set("2", "none") + arc_set("1", "pass") + FROM)
    assert _messages(a, "arc.broken") == ["The ARC chain is malformed: the seal of i=1 says cv=pass instead of none; the seal of i=2 says cv=none; the seal of i=3 says cv=fail."]
    assert _messages(a, "arc.chain") == ["The message carries an ARC chain of 3 instance(s); the last seal says cv=fail."]
    # a broken chain with no misplaced header cites every ARC header
    assert [f.headers for f in a.findings if f.code == "arc.broken"] == [tuple(range(9))]
    ok = analyze_bytes(arc_set("1", "None") + FROM)
    assert "arc.broken" not in [f.code for f in ok.findings]
    empty = analyze_bytes(arc_set("2", "") + arc_set("1", "") + FROM)
    assert "arc.broken" not in [f.code for f in empty.findings]
    assert _messages(empty, "arc.chain") == ["The message carries an ARC chain of 2 instance(s); the last seal says cv=?."]


def test_missing_and_duplicate_headers_and_gaps() -> None:
    only_seal = b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n"
    a = analyze_bytes(arc_set("3", "pass") + only_seal + only_seal + FROM)
    assert _messages(a, "arc.broken") == [
        "The ARC chain is malformed: two ARC-Seal headers for i=1; no ARC-Message-Signature for i=1; "
        "no ARC-Authentication-Results for i=1; no ARC set for i=2."
    ]
    assert [f.headers for f in a.findings if f.code == "arc.broken"] == [(4,)]


def test_instances_that_are_not_numbers_or_out_of_range() -> None:
    data = (
        b"ARC-Seal: i=; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n"
        b"ARC-Seal: i=x1; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n"
        b"ARC-Message-Signature: i=-3; a=rsa-sha256; d=relay.example; s=s; h=from; bh=x; b=x\n"
        b"ARC-Message-Signature: i=0; a=rsa-sha256; d=relay.example; s=s; h=from; bh=x; b=x\n"
        b"ARC-Authentication-Results: i=123456789012345678901234567890; mx.relay.example; spf=pass smtp.mailfrom=relay.example\n"
        b"ARC-Seal: i=51; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n"
        + FROM
    )
    a = analyze_bytes(data)
    assert _messages(a, "arc.broken") == [
        # seals first, then message signatures, then results; five problems at most
        "The ARC chain is malformed: a ARC-Seal without a valid instance i=; a ARC-Seal without a valid instance i=; "
        "a ARC-Seal with instance i=51, outside 1 to 50; a ARC-Message-Signature with instance i=-3, outside 1 to 50; "
        "a ARC-Message-Signature with instance i=0, outside 1 to 50."
    ]
    assert [f.headers for f in a.findings if f.code == "arc.broken"] == [(0, 1, 2, 3, 4, 5)]
    assert "arc.chain" not in [f.code for f in a.findings]
    long = analyze_bytes(b"ARC-Seal: i=123456789012345678901234567890; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n" + FROM)
    assert _messages(long, "arc.broken") == ["The ARC chain is malformed: a ARC-Seal with instance i=12345678901234567890..., outside 1 to 50."]
    exact = analyze_bytes(b"ARC-Seal: i=12345678901234567890; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n" + FROM)
    assert _messages(exact, "arc.broken") == ["The ARC chain is malformed: a ARC-Seal with instance i=12345678901234567890, outside 1 to 50."]


def test_the_last_instance_may_be_fifty() -> None:
    a = analyze_bytes(arc_set("50", "pass") + FROM)
    assert _messages(a, "arc.chain") == ["The message carries an ARC chain of 50 instance(s); the last seal says cv=pass."]
    broken = _messages(a, "arc.broken")[0]
    assert broken.startswith("The ARC chain is malformed: no ARC set for i=1; no ARC set for i=2; ")
    assert broken.count(";") == 4  # five problems at most are named


def test_a_failed_first_seal_is_named_as_a_failure() -> None:
    a = analyze_bytes(arc_set("1", "fail") + FROM)
    assert _messages(a, "arc.broken") == ["The ARC chain is malformed: the seal of i=1 says cv=fail."]


def test_an_instance_of_21_characters_is_cut() -> None:
    a = analyze_bytes(b"ARC-Seal: i=123456789012345678901; a=rsa-sha256; cv=none; d=relay.example; s=s; b=x\n" + FROM)
    assert _messages(a, "arc.broken") == ["The ARC chain is malformed: a ARC-Seal with instance i=12345678901234567890..., outside 1 to 50."]
