"""Which authentication headers the recipient's side wrote (the gap between the border's
Received and the next one below), and what the SPF, DKIM and DMARC findings say."""

from __future__ import annotations

from verifier.analysis.engine import Options, analyze_bytes
from verifier.model import Verdict

SMARTHOST = Options(smarthosts=("smtp-relay.relay.example",))
BORDER = b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
BELOW = b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by out-1.relay.example (Postfix) with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
SPF_TOP = b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=b@relay.example\n"
FROM = b"From: c@mydomain.example\n"


def _codes(a) -> list[str]:
    return [f.code for f in a.findings]


def _messages(a, code: str) -> list[str]:
    return [f.message for f in a.findings if f.code == code]


def _gap(header: bytes, opts: Options = SMARTHOST, below: bytes = BELOW):
    """The header sits between the border's Received (#0) and the next one below."""
    a = analyze_bytes(SPF_TOP + BORDER + header + below + FROM, opts)
    assert a.border is not None and a.border.index == 0
    return a


def test_a_gap_result_by_the_border_server_or_its_domain_is_trusted() -> None:
    for aid in (b"mx.recipient.example", b"MX.Recipient.Example.", b"recipient.example", b"filter.recipient.example"):
        a = _gap(b"Authentication-Results: " + aid + b"; dkim=pass header.d=mydomain.example\n")
        assert a.trusted(2) is True, aid
        assert "dkim.pass" in _codes(a)


def test_a_gap_result_by_the_sending_relay_is_not_trusted_even_naming_the_border_client() -> None:
    for aid in (b"out-1.relay.example", b"relay.example"):
        a = _gap(b"Authentication-Results: " + aid + b"; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.33; dkim=pass header.d=mydomain.example\n")
        assert a.trusted(2) is False, aid
        assert "dkim.pass" not in _codes(a)
        assert _messages(a, "auth.untrusted-results") == ["1 authentication header(s) sit below the recipient's border, so the sending side wrote them; they are ignored."]


def test_a_gap_result_by_another_server_needs_the_border_client() -> None:
    a = _gap(b"Authentication-Results: scanner-1.elsewhere.example; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.34\n")
    assert a.trusted(2) is False
    b = _gap(b"Authentication-Results: scanner-1.elsewhere.example; dkim=pass header.d=mydomain.example\n")
    assert b.trusted(2) is False


def test_a_gap_received_spf_is_trusted_only_for_the_border_client() -> None:
    a = _gap(b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=b@relay.example\n")
    assert a.trusted(2) is True
    b = _gap(b"Received-SPF: pass client-ip=192.0.2.44; envelope-from=b@relay.example\n")
    assert b.trusted(2) is False
    assert "spf.client-ip-mismatch" not in _codes(b)  # an ignored result says nothing


def test_below_the_bottom_border_everything_is_the_gap() -> None:
    """The border is the last Received: every result under it sits in the gap."""
    a = analyze_bytes(SPF_TOP + BORDER + b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n" + FROM, SMARTHOST)
    assert a.border.index == 0 and a.trusted(2) is True
    b = analyze_bytes(SPF_TOP + BORDER + b"Authentication-Results: other.example; dkim=pass header.d=mydomain.example\n" + FROM, SMARTHOST)
    assert b.trusted(2) is False


def test_the_border_received_itself_is_not_a_result() -> None:
    a = _gap(b"")
    assert a.trusted(0) is True and a.trusted(1) is False and a.trusted(2) is False


def test_spf_findings_are_given_once_per_result() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; spf=pass smtp.mailfrom=relay.example\n"
        + SPF_TOP + SPF_TOP + BORDER + BELOW + FROM
    )
    a = analyze_bytes(data, Options(smarthosts=("198.51.100.0/24",)))
    assert a.border.sender_zone == "smarthost"
    assert _messages(a, "spf.pass") == [
        "SPF passed for relay.example (Authentication-Results of mx.recipient.example).",
        "SPF passed for relay.example for client 198.51.100.33 (Received-SPF).",
    ]
    assert _messages(a, "spf.pass-smarthost-ip") == ["SPF passed for the smarthost's address 198.51.100.33 that handed the message over."]
    assert [f.headers for f in a.findings if f.code == "spf.pass"] == [(0,), (1,)]


def test_spf_for_the_border_client_of_an_unknown_sender_is_not_a_smarthost_pass() -> None:
    a = analyze_bytes(SPF_TOP + BORDER + BELOW + FROM, Options(smarthosts=("other.example",)))
    assert "spf.pass" in _codes(a) and "spf.pass-smarthost-ip" not in _codes(a)


def test_an_ipv6_smarthost_pass_in_any_spelling() -> None:
    hop = BORDER.replace(b"198.51.100.33", b"2001:DB8::33")
    a = analyze_bytes(b"Received-SPF: pass client-ip=2001:db8::33; envelope-from=b@relay.example\n" + hop + BELOW + FROM, Options(smarthosts=("2001:db8::/32",)))
    assert a.border is not None and a.border.sender_zone == "smarthost"
    assert "spf.pass-smarthost-ip" in _codes(a)
    assert "spf.client-ip-mismatch" not in _codes(a)


def test_an_spf_result_for_another_client() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; spf=softfail smtp.mailfrom=relay.example\n"
        b"Received-SPF: softfail client-ip=203.0.113.9\n"
        b"Authentication-Results: mx.recipient.example; iprev=pass policy.iprev=198.51.100.33\n"
        + BORDER + BELOW + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border.index == 0
    assert _messages(a, "spf.client-ip-mismatch") == ["SPF was evaluated for 203.0.113.9, but the border hop recorded the client 198.51.100.33."]
    assert [f.headers for f in a.findings if f.code == "spf.client-ip-mismatch"] == [(1, 3)]
    assert _messages(a, "spf.not-pass") == [
        "SPF gave 'softfail' for relay.example (Authentication-Results of mx.recipient.example).",
        "SPF gave 'softfail' for an unnamed domain for client 203.0.113.9 (Received-SPF).",
    ]


def test_no_trusted_spf_result() -> None:
    a = analyze_bytes(b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n" + BORDER + BELOW + FROM, SMARTHOST)
    assert _messages(a, "spf.none-found") == ["The recipient's servers recorded no SPF result."]
    b = analyze_bytes(SPF_TOP + BORDER + BELOW + FROM, SMARTHOST)
    assert "spf.none-found" not in _codes(b)


def test_dkim_results_and_their_reasons() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=fail reason=\"signature verification failed\" header.d=mydomain.example;"
        b" dkim=permerror (no key) header.d=b.example; dkim=temperror header.i=@c.example; dkim=neutral header.d=d.example;"
        b" dkim=policy header.d=e.example; dkim=none; dkim=pass header.i=x@F.Example\n"
        + SPF_TOP + BORDER + BELOW + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert _messages(a, "dkim.fail") == [
        "mx.recipient.example could not verify the DKIM signature with d=mydomain.example: fail (signature verification failed).",
        "mx.recipient.example could not verify the DKIM signature with d=b.example: permerror (no key).",
        "mx.recipient.example could not verify the DKIM signature with d=c.example: temperror.",
        "mx.recipient.example could not verify the DKIM signature with d=d.example: neutral.",
        "mx.recipient.example could not verify the DKIM signature with d=e.example: policy.",
    ]
    assert _messages(a, "dkim.pass") == ["mx.recipient.example verified a DKIM signature with d=f.example."]


def test_dkim_results_without_domain_or_authserv_id() -> None:
    data = b"Authentication-Results: dkim=pass; dkim=fail; dmarc=fail\n" + SPF_TOP + BORDER + BELOW + FROM
    a = analyze_bytes(data, SMARTHOST)
    assert a.trusted(0) is True
    assert _messages(a, "dkim.pass") == ["The recipient verified a DKIM signature with d=?."]
    assert _messages(a, "dkim.fail") == ["The recipient could not verify the DKIM signature with d=?: fail."]
    assert _messages(a, "dmarc.result") == ["The recipient recorded DMARC fail for mydomain.example."]
    assert _messages(a, "auth.lenient-parse") == ["1 Authentication-Results header(s) do not follow RFC 8601 and were read leniently."]


def test_dmarc_result_names_the_header_from_or_the_from_domain() -> None:
    a = analyze_bytes(b"Authentication-Results: mx.recipient.example; dmarc=pass header.from=Other.Example\n" + SPF_TOP + BORDER + BELOW + FROM, SMARTHOST)
    assert _messages(a, "dmarc.result") == ["mx.recipient.example recorded DMARC pass for Other.Example."]
    assert [f.headers for f in a.findings if f.code == "dmarc.result"] == [(0,)]
    b = analyze_bytes(b"Authentication-Results: mx.recipient.example; dmarc=pass\n" + SPF_TOP + BORDER + BELOW, SMARTHOST)
    assert _messages(b, "dmarc.result") == ["mx.recipient.example recorded DMARC pass for the From domain."]


def test_signatures_by_the_sender_or_by_the_provider() -> None:
    sigs = (
        b"DKIM-Signature: v=1; a=rsa-sha256; d=News.MyDomain.Example; s=s1; h=from; bh=x; b=x\n"
        b"DKIM-Signature: v=1; a=rsa-sha256; d=relay.example; s=s2; h=from; bh=x; b=x\n"
        b"DKIM-Signature: v=1; a=rsa-sha256; d=third.example; s=s3; h=from; bh=x; b=x\n"
    )
    a = analyze_bytes(sigs + SPF_TOP + BORDER + BELOW + FROM, Options(smarthosts=("relay.example",)))
    assert _messages(a, "dkim.signed-by-sender-domain") == ["A DKIM signature was made with d=news.mydomain.example, aligned with the From domain mydomain.example."]
    assert _messages(a, "dkim.signed-by-provider") == ["A DKIM signature was made with d=relay.example, the smarthost provider's domain, not the sender's domain mydomain.example."]
    assert [f.headers for f in a.findings if f.code == "dkim.signed-by-provider"] == [(1,)]
    assert "dkim.not-signed" not in _codes(a)
    b = analyze_bytes(sigs + SPF_TOP + BORDER + BELOW, Options(smarthosts=("relay.example",)))
    assert _messages(b, "dkim.signed-by-provider") == ["A DKIM signature was made with d=relay.example, the smarthost provider's domain, not the sender's domain (unknown)."]
    c = analyze_bytes(sigs + SPF_TOP + BORDER + BELOW + FROM)
    assert "dkim.signed-by-provider" not in _codes(c)
    d = analyze_bytes(SPF_TOP + BORDER + BELOW + FROM)
    assert _messages(d, "dkim.not-signed") == ["The message carries no DKIM signature."]


def test_untrusted_and_lenient_counts_cite_their_headers() -> None:
    data = (
        SPF_TOP + BORDER + BELOW
        + b"Authentication-Results: out-1.relay.example; dkim=pass header.d=mydomain.example\n"
        + b"Received-SPF: pass client-ip=192.0.2.44; envelope-from=b@relay.example\n"
        + b"ARC-Authentication-Results: i=1; out-1.relay.example; dkim=pass header.d=mydomain.example\n"
        + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    f = next(f for f in a.findings if f.code == "auth.untrusted-results")
    assert f.headers == (3, 4)
    assert f.message.startswith("2 authentication header(s) sit below")
    assert a.verdict == Verdict.VIA_CONNECTOR


def test_the_receivers_names_are_compared_without_their_root_dot() -> None:
    """Single-label names have no organisational domain, so only the names themselves,
    without the root dot, can tie a gap result to the border or to the relay below."""
    border = b"Received: from relay1 (relay1 [198.51.100.33]) by mailstore. with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
    below = b"Received: from client (client [192.0.2.44]) by relay1. with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
    mine = analyze_bytes(SPF_TOP + border + b"Authentication-Results: mailstore; dkim=pass header.d=mydomain.example\n" + below + FROM)
    assert mine.trusted(2) is True
    relay = analyze_bytes(SPF_TOP + border + b"Authentication-Results: relay1; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.33\n" + below + FROM)
    assert relay.trusted(2) is False


def test_an_authserv_id_naming_a_non_registrable_parent_domain_of_the_border() -> None:
    border = BORDER.replace(b"by mx.recipient.example", b"by mx1.corp")
    a = analyze_bytes(SPF_TOP + border + b"Authentication-Results: corp; dkim=pass header.d=mydomain.example\n" + BELOW + FROM, SMARTHOST)
    assert a.trusted(2) is True
    below = BELOW.replace(b"by out-1.relay.example", b"by out-1.relaycorp")
    b = analyze_bytes(SPF_TOP + BORDER + b"Authentication-Results: relaycorp; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.33\n" + below + FROM, SMARTHOST)
    assert b.trusted(2) is False


def test_a_gap_received_spf_for_an_ipv6_border_client() -> None:
    border = BORDER.replace(b"198.51.100.33", b"2001:db8::33")
    a = analyze_bytes(b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n" + border
                      + b"Received-SPF: pass client-ip=2001:DB8::33; envelope-from=b@relay.example\n" + BELOW + FROM, SMARTHOST)
    assert a.border.index == 0
    assert a.trusted(2) is True


def test_the_lenient_finding_cites_its_headers() -> None:
    a = analyze_bytes(b"Authentication-Results: dkim=pass\n" + SPF_TOP + BORDER + BELOW + b"Authentication-Results: spf=pass smtp.mailfrom=a.example\n" + FROM, SMARTHOST)
    assert [f.headers for f in a.findings if f.code == "auth.lenient-parse"] == [(0, 4)]
    assert _messages(a, "auth.lenient-parse") == ["2 Authentication-Results header(s) do not follow RFC 8601 and were read leniently."]


def test_an_authserv_id_with_a_root_dot_names_the_border_server() -> None:
    border = b"Received: from relay1 (relay1 [198.51.100.33]) by mailstore with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
    below = b"Received: from client (client [192.0.2.44]) by relay1 with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
    a = analyze_bytes(SPF_TOP + border + b"Authentication-Results: mailstore.; dkim=pass header.d=mydomain.example\n" + below + FROM)
    assert a.trusted(2) is True


def test_every_distinct_spf_result_is_reported_after_a_repeated_one() -> None:
    data = (
        SPF_TOP + SPF_TOP
        + b"Received-SPF: softfail client-ip=198.51.100.33; envelope-from=b@other.example\n"
        + BORDER + BELOW + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert _messages(a, "spf.pass") == ["SPF passed for relay.example for client 198.51.100.33 (Received-SPF)."]
    assert [(f.message, f.headers) for f in a.findings if f.code == "spf.not-pass"] == [
        ("SPF gave 'softfail' for other.example for client 198.51.100.33 (Received-SPF).", (2,)),
    ]


def test_a_result_by_the_sending_relay_does_not_hide_a_later_one_by_the_border_server() -> None:
    a = _gap(
        b"Authentication-Results: out-1.relay.example; dkim=pass header.d=mydomain.example\n"
        b"Authentication-Results: mx.recipient.example; dkim=fail header.d=mydomain.example\n"
    )
    assert a.trusted(2) is False and a.trusted(3) is True
    assert [(f.message, f.headers) for f in a.findings if f.code == "dkim.fail"] == [
        ("mx.recipient.example could not verify the DKIM signature with d=mydomain.example: fail.", (3,)),
    ]
