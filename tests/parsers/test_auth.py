"""Received-SPF and Authentication-Results / ARC-Authentication-Results."""

from __future__ import annotations

from tests.parsers import samples as S
from verifier.parsers.auth import (
    parse_authentication_results,
    parse_received_spf,
    spf_results_from_ar,
)


def codes(x):
    return [d.code for d in x.defects]


# ------------------------------------------------------------------ Received-SPF


def test_received_spf_guide_form():
    s = parse_received_spf(
        "Pass (mailfrom) identity=mailfrom; client-ip=11.22.333.44; helo=sender-id.example.com; "
        "envelope-from=bounces-1-newsletter=mydomain.ovh@sender-id.example.com; receiver=john.smith@guides.ovh",
        4,
    )
    assert s.header_index == 4
    assert s.source == "received-spf"
    assert s.result == "pass"
    assert s.client_ip == "11.22.333.44"
    assert s.domain == "sender-id.example.com"
    assert s.helo == "sender-id.example.com"
    assert s.identity == "mailfrom"
    assert s.receiver == "john.smith@guides.ovh"


def test_received_spf_client_ip_from_comment_and_helo_domain():
    s = parse_received_spf(
        "softfail (mx.rcpt.example: transitioning domain of a.example does not designate "
        "192.0.2.9 as permitted sender) helo=Mail.A.Example.;",
        0,
    )
    assert s.result == "softfail"
    assert s.client_ip is None or s.client_ip == "192.0.2.9"
    assert s.domain == "a.example"  # the domain the comment names, before the HELO
    assert s.helo == "Mail.A.Example."
    s = parse_received_spf("none (no comment naming a domain) helo=Mail.A.Example.;", 0)
    assert s.domain == "mail.a.example"


def test_received_spf_google_form():
    s = parse_received_spf(
        "pass (google.com: domain of b@a.example designates 192.0.2.33 as permitted sender) client-ip=192.0.2.33;",
        0,
    )
    assert s.client_ip == "192.0.2.33"
    assert s.domain == "a.example"  # from the comment: no envelope-from, no helo


def test_received_spf_null_sender_uses_helo():
    s = parse_received_spf(
        'none (no SPF record) envelope-from="<>"; helo=relay.a.example; client-ip=192.0.2.1', 0
    )
    assert s.envelope_from is None
    assert s.domain == "relay.a.example"


def test_received_spf_garbage():
    for v in ["", ";;;", "(", "=", "pass (unclosed", "a=b=c"]:
        s = parse_received_spf(v, 0)
        assert isinstance(s.result, str)


# ------------------------------------------------------------------ AR


def test_guide_ar_strict():
    ar = parse_authentication_results(
        "in31.mail.ovh.net; dkim=pass (1024-bit key; unprotected) header.d=smtp.example.com "
        'header.i=@smtp.example.com header.b="HDetLEPl"; dkim-atps=neutral',
        7,
        "authentication-results",
    )
    assert ar.strict is True
    assert ar.authserv_id == "in31.mail.ovh.net"
    assert [r.method for r in ar.results] == ["dkim", "dkim-atps"]
    dkim = ar.results[0]
    assert dkim.result == "pass"
    assert dkim.properties["header.d"] == "smtp.example.com"
    assert dkim.properties["header.b"] == "HDetLEPl"
    assert dkim.comment == "1024-bit key; unprotected"  # authres drops comments; kept here
    assert codes(ar) == []


def test_gmail_ar_and_spf_from_ar():
    ar = parse_authentication_results(S.GMAIL_AR, 2, "authentication-results")
    assert ar.strict and ar.authserv_id == "mx.google.com"
    assert [r.method for r in ar.results] == ["dkim", "spf", "dmarc"]
    spf = spf_results_from_ar(ar)
    assert len(spf) == 1
    s = spf[0]
    assert s.source == "authentication-results"
    assert s.result == "pass"
    assert s.client_ip == "192.0.2.33"
    assert s.domain == "sender.example"
    assert s.envelope_from == "bounce@sender.example"
    assert s.authserv_id == "mx.google.com"
    assert s.header_index == 2


def test_microsoft_ar_without_authserv_id_lenient():
    ar = parse_authentication_results(S.MICROSOFT_AR, 1, "authentication-results")
    assert ar.strict is False
    assert ar.authserv_id is None
    assert "auth.non-conformant" in codes(ar)
    assert "auth.no-authserv-id" in codes(ar)
    m = {r.method: r for r in ar.results}
    assert set(m) == {"spf", "dkim", "dmarc", "compauth"}
    assert m["compauth"].result == "pass" and m["compauth"].reason == "100"
    assert m["dmarc"].properties["action"] == "none"
    assert m["dmarc"].properties["header.from"] == "sender.example"
    assert spf_results_from_ar(ar)[0].client_ip == "40.107.22.55"


def test_microsoft_authserv_id_after_first_result():
    # Exchange Online (older form) writes its id after the first result.
    ar = parse_authentication_results(
        "spf=fail (sender IP is 192.0.2.8) smtp.mailfrom=a.example; tenant.mail.example; "
        "dkim=none (message not signed) header.d=none;tenant.mail.example; dmarc=fail action=oreject header.from=a.example;",
        0,
    )
    assert ar.authserv_id == "tenant.mail.example"
    assert [r.method for r in ar.results] == ["spf", "dkim", "dmarc"]
    assert "auth.malformed" not in codes(ar)


def test_aar_instance_prefix():
    ar = parse_authentication_results(S.MICROSOFT_AAR, 3, "arc-authentication-results")
    assert ar.kind == "arc-authentication-results"
    assert ar.arc_instance == 1
    assert ar.authserv_id == "mx.microsoft.com"
    assert ar.version == "1"
    assert ar.strict is True
    assert ar.results[1].properties["action"] == "none"


def test_aar_without_instance_flagged():
    ar = parse_authentication_results(
        "mx.a.example; spf=pass smtp.mailfrom=a.example", 0, "arc-authentication-results"
    )
    assert ar.arc_instance is None
    assert "auth.no-instance" in codes(ar)


def test_none_and_iprev_policy_ip():
    ar = parse_authentication_results("mx.a.example; none", 0)
    assert ar.results == () and ar.strict
    ar = parse_authentication_results(
        "mx.a.example; iprev=pass policy.iprev=192.0.2.50; spf=pass smtp.helo=relay.b.example", 0
    )
    s = spf_results_from_ar(ar)[0]
    assert s.client_ip == "192.0.2.50"
    assert s.domain == "relay.b.example"
    assert s.identity == "helo"


def test_comments_everywhere():
    ar = parse_authentication_results(
        'mx.a.example (the receiver); spf=pass (ok) smtp.mailfrom=b@c.example (sender); dkim=fail (bad sig) reason="body changed" header.d=c.example',
        0,
    )
    assert [r.method for r in ar.results] == ["spf", "dkim"]
    assert ar.results[1].reason == "body changed"
    assert ar.results[1].properties["header.d"] == "c.example"


def test_garbage_never_raises():
    for v in [
        "",
        ";",
        "(((",
        "a; =",
        "spf",
        "i=; x",
        "mx; spf=pass (unclosed smtp.mailfrom=a",
        "\x00",
    ]:
        for kind in ("authentication-results", "arc-authentication-results"):
            ar = parse_authentication_results(v, 0, kind)
            assert ar.kind == kind


def test_received_spf_microsoft_domain_from_comment():
    # Exchange Online writes no envelope-from: the checked domain is only in the comment.
    s = parse_received_spf(
        "Pass (protection.outlook.com: domain of Sender.Example designates 192.0.2.44 as permitted sender) "
        "receiver=protection.outlook.com; client-ip=192.0.2.44; helo=mail.relay.example; pr=C",
        0,
    )
    assert s.domain == "sender.example"
    assert s.helo == "mail.relay.example" and s.client_ip == "192.0.2.44"
    s = parse_received_spf(
        "None (protection.outlook.com: nodomain.example does not designate permitted sender hosts)",
        0,
    )
    assert s.domain == "nodomain.example"
    s = parse_received_spf(
        "pass (mx: domain of b@a.example designates 192.0.2.1 as permitted sender) identity=helo; helo=h.example",
        0,
    )
    assert s.domain == "h.example"  # a HELO check is about the HELO name


def test_none_among_results_is_read_leniently_not_raised():
    from verifier.parsers.auth import parse_authentication_results

    ar = parse_authentication_results("mx.example; spf=pass smtp.mailfrom=a.example; none", 3)
    assert ar.authserv_id == "mx.example"
    assert not ar.strict
    assert [(r.method, r.result) for r in ar.results][:1] == [("spf", "pass")]
    assert any(d.code == "auth.non-conformant" for d in ar.defects)
