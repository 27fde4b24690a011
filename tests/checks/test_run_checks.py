"""run_checks and resolve_host end to end over StaticResolver, with keys generated here."""

from __future__ import annotations

import json

import dkim

from verifier.analysis.engine import Options, analyze_bytes
from verifier.checks import ChecksReport, resolve_host, run_checks
from verifier.checks.dkim import verify_arc
from verifier.checks.dns import TEMPFAIL, StaticResolver

from .support import MESSAGE, ed25519_key, rsa_key, run, sign

TRACE = (
    b"Return-Path: <bounce+123@bounce.customer.example>\r\n"
    b"Authentication-Results: mx.recipient.example; spf=pass smtp.mailfrom=bounce.customer.example\r\n"
    b"Received-SPF: pass (mx.recipient.example: domain of bounce.customer.example designates 203.0.113.25"
    b" as permitted sender) client-ip=203.0.113.25; envelope-from=bounce+123@bounce.customer.example;"
    b" helo=out.provider.example;\r\n"
    b"Received: from out.provider.example (out.provider.example [203.0.113.25]) by mx.recipient.example"
    b" (Postfix) with ESMTPS id 4AbC; Fri, 27 Nov 2026 10:00:05 +0000\r\n"
    b"Received: from ex5.mail.ovh.net (ex5.mail.ovh.net [198.51.100.5]) by out.provider.example"
    b" with ESMTPSA id 77; Fri, 27 Nov 2026 10:00:02 +0000\r\n"
)
OPTIONS = Options(smarthosts=("out.provider.example",))


def _setup(dmarc: str = "v=DMARC1; p=reject"):
    seed_c, rec_c = ed25519_key()
    seed_p, rec_p = ed25519_key()
    msg = MESSAGE.replace(b"alice@example.com", b"alice@customer.example")
    signed = sign(sign(msg, "s1", "customer.example", seed_c), "p1", "provider.example", seed_p)
    records = {
        "s1._domainkey.customer.example": {"TXT": rec_c},
        "p1._domainkey.provider.example": {"TXT": rec_p},
        "bounce.customer.example": {"TXT": "v=spf1 include:_spf.provider.example -all"},
        "_spf.provider.example": {"TXT": "v=spf1 ip4:203.0.113.0/24 -all"},
        "_dmarc.customer.example": {"TXT": dmarc},
        "smtp.provider.example": {"A": ["203.0.113.25", "203.0.113.26"], "AAAA": ["2001:db8::25"]},
    }
    return TRACE + signed, records


def _checks(message: bytes, records: dict) -> ChecksReport:
    return run(run_checks(message, analyze_bytes(message, OPTIONS), StaticResolver(records)))


def test_whole_message_passes_everything():
    message, records = _setup()
    rep = _checks(message, records)
    assert not rep.headers_only
    assert [(v.d, v.result) for v in rep.dkim] == [("provider.example", "pass"), ("customer.example", "pass")]
    assert rep.dkim_pass_domains == ("provider.example", "customer.example")
    assert (rep.spf.result, rep.spf.ip, rep.spf.domain, rep.spf.helo) == ("pass", "203.0.113.25", "bounce.customer.example", "out.provider.example")
    assert (rep.dmarc.result, rep.dmarc.spf_aligned, rep.dmarc.dkim_aligned) == ("pass", True, True)
    assert rep.arc is None and rep.notes == ()
    data = json.loads(json.dumps(rep.to_json()))
    assert data["dkim"][1]["result"] == "pass" and data["dmarc"]["lookup"]["record"]["p"] == "reject"


def test_changed_body_fails_dkim_and_dmarc_rests_on_spf():
    message, records = _setup()
    rep = _checks(message.replace(b"Hello Bob.", b"Hello Eve."), records)
    assert [v.result for v in rep.dkim] == ["fail", "fail"]
    assert (rep.dmarc.result, rep.dmarc.dkim_aligned, rep.dmarc.spf_aligned) == ("pass", False, True)


def test_provider_signature_and_bounce_only_is_not_aligned():
    message, records = _setup()
    message = message.replace(b"bounce.customer.example", b"bounces.provider.example")
    records["bounces.provider.example"] = {"TXT": "v=spf1 include:_spf.provider.example -all"}
    del records["s1._domainkey.customer.example"]
    rep = _checks(message, records)
    assert [v.result for v in rep.dkim] == ["pass", "permerror"]
    assert rep.spf.result == "pass" and rep.spf.domain == "bounces.provider.example"
    assert (rep.dmarc.result, rep.dmarc.disposition) == ("fail", "reject")


def test_headers_only_is_never_a_pass():
    message, records = _setup()
    header = message.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    rep = _checks(header, records)
    assert rep.headers_only
    assert [v.result for v in rep.dkim] == ["header-only", "header-only"]
    assert all(not v.body_checked and "body not checked" in v.reason for v in rep.dkim)
    assert rep.dkim_pass_domains == ()
    assert rep.dmarc.dkim_aligned is False and rep.dmarc.result == "pass"  # through SPF alone
    assert any("header alone" in n for n in rep.notes)
    # a changed signed header breaks the header signature
    rep = _checks(header.replace(b"Subject: checks test", b"Subject: changed"), records)
    assert [v.result for v in rep.dkim] == ["fail", "fail"]


def test_dns_failures_become_temperror_without_raising():
    message, records = _setup()
    records["s1._domainkey.customer.example"] = {"TXT": TEMPFAIL}
    records["_dmarc.customer.example"] = {"TXT": TEMPFAIL}
    records["_spf.provider.example"] = {"TXT": TEMPFAIL}
    rep = _checks(message, records)
    assert [v.result for v in rep.dkim] == ["pass", "temperror"]
    assert rep.spf.result == "temperror"
    assert rep.dmarc.result == "temperror"


def test_no_border_means_no_spf_with_a_note():
    message, records = _setup()
    bare = b"".join(line for line in message.splitlines(keepends=True) if not line.startswith((b"Received", b"Authentication-Results")))
    rep = _checks(bare, records)
    assert rep.spf is None
    assert any("SPF was not re-evaluated" in n for n in rep.notes)
    assert rep.dmarc is not None


def test_resolve_host():
    _message, records = _setup()
    res = StaticResolver(records)
    h = run(resolve_host("SMTP.provider.example.", res))
    assert (h.status, h.addresses) == ("ok", ("203.0.113.25", "203.0.113.26", "2001:db8::25"))
    assert run(resolve_host("[192.0.2.7]", res)).addresses == ("192.0.2.7",)
    assert run(resolve_host("missing.provider.example", res)).status == "nxdomain"
    res.add("down.provider.example", "A", TEMPFAIL)
    h = run(resolve_host("down.provider.example", res))
    assert h.status == "temperror" and h.reason.endswith(".")
    assert h.to_json()["status"] == "temperror"


def test_arc_chain_signed_here():
    pem, record = rsa_key()
    msg = b"Authentication-Results: relay.example; spf=pass smtp.mailfrom=customer.example\r\n" + MESSAGE
    arc = dkim.arc_sign(msg, b"arc", b"relay.example", pem, b"relay.example", timestamp=1795000000)
    sealed = b"".join(arc) + msg
    res = StaticResolver({"arc._domainkey.relay.example": {"TXT": record}})
    got = run(verify_arc(sealed, res, headers_only=False))
    assert (got.cv, got.result, len(got.instances)) == ("pass", "pass", 1)
    assert got.instances[0].ams_valid and got.instances[0].as_valid
    tampered = run(verify_arc(sealed.replace(b"Hello Bob.", b"Hello Eve."), res, headers_only=False))
    assert tampered.cv == "fail" and "ARC-Message-Signature" in tampered.reason
    header_only = sealed.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    got = run(verify_arc(header_only, res, headers_only=True))
    assert got.cv == "pass" and got.body_checked is False and "body not checked" in got.reason
    temp = run(verify_arc(sealed, StaticResolver({"arc._domainkey.relay.example": {"TXT": TEMPFAIL}}), headers_only=False))
    assert (temp.cv, temp.result) == ("fail", "temperror")
    # run_checks reports it when the message has ARC headers
    rep = run(run_checks(sealed, analyze_bytes(sealed), res))
    assert rep.arc is not None and rep.arc.cv == "pass"


def test_signature_cap_bounds_dns_lookups():
    from verifier.checks.dkim import MAX_SIGNATURES, verify_dkim

    seed, record = ed25519_key()
    one = sign(MESSAGE, "s", "example.com", seed).split(b"\r\nFrom:", 1)[0] + b"\r\n"
    many = one * (MAX_SIGNATURES + 5) + MESSAGE
    res = StaticResolver({"s._domainkey.example.com": {"TXT": record}})
    results = run(verify_dkim(many, res))
    assert len(results) == MAX_SIGNATURES + 5
    assert [v.result for v in results[:MAX_SIGNATURES]] == ["pass"] * MAX_SIGNATURES
    assert all(v.result == "neutral" and "more than" in v.reason for v in results[MAX_SIGNATURES:])
    assert len(res.log) == 1


def test_unreadable_header_block_reports_each_signature():
    from verifier.checks.dkim import verify_dkim

    seed, record = ed25519_key()
    signed = sign(MESSAGE, "s", "example.com", seed)
    broken = b"this line is not a header field\r\n" + signed
    results = run(verify_dkim(broken, StaticResolver({"s._domainkey.example.com": {"TXT": record}})))
    assert len(results) == 1 and results[0].result == "neutral" and "cannot be read" in results[0].reason
    from verifier.checks.dkim import verify_arc as arc

    got = run(arc(b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=s; b=AAAA\r\nnot a header\r\n\r\nbody\r\n", StaticResolver({})))
    assert got.cv == "fail" and got.reason.endswith(".")
