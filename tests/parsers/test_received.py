"""Received parsing: one hand-written line per MTA form and per quirk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.parsers import samples as S
from verifier.parsers.received import parse_ip, parse_received


def codes(r):
    return [d.code for d in r.defects]


def check(value: str, **expected):
    r = parse_received(value, 7)
    assert r.header_index == 7
    assert r.raw == value
    for key, want in expected.items():
        got = getattr(r, key)
        assert got == want, f"{key}: got {got!r}, want {want!r}"
    return r


# --------------------------------------------------------------- one line per MTA


def test_postfix_plain_form():
    r = check(
        S.POSTFIX,
        from_host="mx.sender.example",
        from_rdns="mx.sender.example",
        from_ip="192.0.2.10",
        ip_valid=True,
        by_host="mx.rcpt.example",
        with_="ESMTPS",
        tls=True,
        id="4AbCdE1234",
        for_="alice@rcpt.example",
    )
    assert r.date.utc == datetime(2023, 7, 3, 8, 15, 30, tzinfo=UTC)
    assert r.date.offset_minutes == 120
    assert codes(r) == []


def test_postfix_tls_comment_gives_cipher():
    r = check(S.POSTFIX_TLS, from_ip="198.51.100.7", tls=True, by_host="in.rcpt.example")
    assert r.tls_detail == "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"


def test_postfix_authenticated_sender_and_ip_literal_helo():
    check(
        S.POSTFIX_AUTH,
        from_host="[10.1.2.3]",
        from_rdns="dyn-203-0-113-9.isp.example",
        from_ip="203.0.113.9",
        authenticated=True,
        with_="ESMTPSA",
        tls=True,
    )


def test_postfix_unknown_rdns_and_ipv6_prefix():
    check(S.POSTFIX_UNKNOWN_V6, from_rdns=None, from_ip="2001:db8:10::25", ip_valid=True, tls=False)


def test_exim_port_and_helo_in_comment():
    r = check(
        S.EXIM,
        from_host="laptop.local",
        from_rdns="host-198-51-100-20.isp.example",
        from_ip="198.51.100.20",
        with_="esmtps",
        tls=True,
        envelope_from="frank@sender.example",
        id="1qAbCd-000123-Xy",
        for_="grace@rcpt.example",
    )
    assert "TLS_AES_256_GCM_SHA384" in r.tls_detail


def test_exim_without_helo_means_helo_equals_verified_name():
    # Exim omits helo= when it equals the verified host name, so the name is both.
    r = check(S.EXIM_OLD_TLS, from_host="mail.sender.example", from_rdns="mail.sender.example")
    assert r.tls_detail.startswith("TLSv1.2:")


def test_sendmail_ident_and_tls_version_comment():
    r = check(
        S.SENDMAIL,
        ident="ident",
        from_rdns="client.sender.example",
        from_ip="192.0.2.81",
        id="36ABCdEf012345",
        tls=True,
    )
    assert r.tls_detail.startswith("version=TLSv1.3")


def test_sendmail_may_be_forged_and_authenticated_bits():
    check(
        S.SENDMAIL_AUTH,
        from_host="[192.168.0.5]",
        from_rdns="pool-203-0-113-77.isp.example",
        from_ip="203.0.113.77",
        authenticated=True,
    )


def test_qmail_unknown_helo_ip():
    check(
        S.QMAIL,
        from_host="relay.sender.example",
        from_rdns=None,
        from_ip="203.0.113.150",
        by_host="mx.rcpt.example",
        with_="SMTP",
        tls=False,
    )


def test_qmail_ident_and_rdns():
    check(
        S.QMAIL_IDENT,
        from_host="gw",
        from_rdns="gw.sender.example",
        ident="mallory",
        authenticated=True,
    )


def test_qmail_tls_patch_encrypted_smtp():
    check(
        S.QMAIL_TLS, with_="SMTP", tls=True, tls_detail="AES256-GCM-SHA384", by_host="192.168.50.6"
    )


def test_qmail_tls_patch_comment_form():
    check(
        "from unknown (HELO a.example) (192.0.2.3) by b.example with (ECDHE-RSA-AES128-GCM-SHA256 encrypted) SMTP; 1 Jan 2024 00:00:00 -0000",
        with_="SMTP",
        tls=True,
        tls_detail="ECDHE-RSA-AES128-GCM-SHA256",
    )


def test_qmail_invoked_is_comment_only():
    r = check(S.QMAIL_INVOKED, from_host=None, by_host=None, from_ip=None)
    assert "received.comment-only" in codes(r)
    assert r.date.utc is not None


def test_exchange_online_unbracketed_ipv6_and_via():
    r = check(
        S.EXCHANGE_365,
        from_host="DB9PR01MB1234.eurprd01.prod.exchangelabs.com",
        from_rdns=None,
        from_ip="2603:10a6:10:1a2::15",
        by_host="AM0PR02MB5678.eurprd02.prod.exchangelabs.com",
        with_="Microsoft SMTP Server",
        tls=True,
        id="15.20.6565.21",
        via="Frontend Transport",
    )
    assert "cipher=TLS_ECDHE" in r.tls_detail


def test_exchange_2010_tls_comment_and_by_ip_ignored():
    check(
        S.EXCHANGE_INTERNAL,
        from_ip="10.20.30.40",
        from_rdns=None,  # Exchange writes "(ip)" after the EHLO name, not after a reverse name
        tls=True,
        tls_detail="TLS",
        id="14.3.498.0",
    )


def test_exchange_mapi_link_local_with_zone():
    check(
        S.EXCHANGE_MAPI,
        from_ip="fe80::1c2d:3e4f:5a6b:7c8d%4",
        ip_valid=True,
        with_="mapi",
        tls=None,
    )


def test_gmail_mx_trailing_dot_and_smtps():
    check(
        S.GMAIL_MX,
        from_rdns="mail-sor-f7x.google.example",
        from_ip="198.51.100.141",
        with_="SMTPS",
        tls=True,
        by_host="mx.google.com",
        for_="kim@rcpt.example",
    )


def test_gmail_internal_by_ipv6_only():
    r = check(
        S.GMAIL_INTERNAL,
        from_host=None,
        by_host="2002:a05:6a10:9b0c:b0:4b1:2a3c:4d5e",
        id="ab12csp123456pxb",
    )
    assert r.date.offset_minutes == -420


def test_gmail_id_with_dates_is_not_an_ip():
    r = check(S.GMAIL_SUBMIT, from_ip="203.0.113.66", authenticated=True)
    assert r.id.endswith("2023.07.14.01.02.00")


def test_amazon_ses():
    check(S.AMAZON_SES, from_ip="54.240.8.30", from_rdns="a8-30.smtp-out.amazonses.com")


def test_brevo_date_without_comma_and_gmt_offset():
    r = check(S.BREVO, from_host=None, by_host="relay.newsletter.example", with_="ESMTP")
    assert r.date.utc == datetime(2023, 7, 16, 7, 51, tzinfo=UTC)
    assert r.date.offset_minutes == 0


def test_sendgrid_date_without_semicolon_and_go_suffix():
    r = check(S.SENDGRID_NO_SEMI, by_host="filter0042p1iad2.sendgrid.net", id="AbCdEfGhIj")
    assert r.date.utc == datetime(2023, 7, 17, 10, 11, 12, 123456, tzinfo=UTC)


def test_dovecot_lmtp():
    check(
        S.DOVECOT_LMTP,
        with_="LMTP",
        tls=False,
        envelope_from="nina@sender.example",
        for_="oscar@rcpt.example",
        id="kLmNoPqRsTuVwXyZ",
    )


def test_dovecot_lmtps_is_tls():
    check(
        "from mx.a.example ([192.0.2.1]) by store.a.example with LMTPS id QrSt; Mon, 1 Jan 2024 00:00:00 +0000",
        tls=True,
    )


def test_ipv4_mapped_reduced():
    check(S.IPV4_MAPPED, from_ip="198.51.100.99")


def test_no_date_and_odd_date_flagged():
    assert "received.no-date" in codes(check(S.NO_DATE, by_host="b.rcpt.example", date=None))
    r = check(S.ODD_DATE, by_host="b.rcpt.example")
    assert r.date is not None and r.date.utc is None and "date.unparsed" in codes(r)


# --------------------------------------------------------------- guide's sample


def test_guide_invalid_ip_kept_and_flagged():
    r = check(
        "from sender-id.example.com (sender-id.example.com [11.22.333.44]) by in31.mail.ovh.net (Postfix) "
        "with ESMTPS id 4PQsPF43SEm78WdxQ for <john.smith@guides.ovh>; Tue, 28 Feb 2023 07:51:01 +0000 (UTC)",
        from_ip="11.22.333.44",
        ip_valid=False,
        from_host="sender-id.example.com",
    )
    assert "received.invalid-ip" in codes(r)


def test_html_escaped_semicolon_is_not_a_date_separator():
    r = check(
        "from a.example (a.example [192.0.2.1]) by b.example (Postfix) with ESMTP id X1 "
        "for &lt;u@b.example&gt;; Tue, 28 Feb 2023 07:51:02 +0000 (UTC)",
        for_="u@b.example",
        id="X1",
    )
    assert r.date.utc == datetime(2023, 2, 28, 7, 51, 2, tzinfo=UTC)
    assert "received.html-escaped" in codes(r)


# --------------------------------------------------------------- quirks


def test_keywords_only_as_whole_words_outside_comments():
    # ".co.id" is not the id keyword; "with cipher" inside a comment is not "with".
    r = check(
        "from mail.shop.co.id (mail.shop.co.id [192.0.2.9]) (using TLSv1.2 with cipher AES128-SHA) "
        "by mx.b.example (Postfix) with ESMTPS id ZZ9; Mon, 1 Jan 2024 00:00:00 +0000",
        from_host="mail.shop.co.id",
        with_="ESMTPS",
        id="ZZ9",
    )
    assert r.tls_detail == "TLSv1.2 with cipher AES128-SHA"


def test_first_from_wins():
    check(
        "from a.example (a.example [192.0.2.1]) by b.example with SMTP for <x@b.example> from <y@a.example>; Mon, 1 Jan 2024 00:00:00 +0000",
        from_host="a.example",
        envelope_from="y@a.example",
    )


def test_missing_space_before_by():
    check(
        "from a.example (localhost [127.0.0.1])by b.example (Postfix) with ESMTP id Q1; Mon, 1 Jan 2024 00:00:00 +0000",
        by_host="b.example",
        from_ip="127.0.0.1",
    )


def test_multiple_recipients_is_none():
    check(
        "from a.example ([192.0.2.1]) by b.example with ESMTP for <multiple recipients>; Mon, 1 Jan 2024 00:00:00 +0000",
        for_=None,
    )


def test_ip_never_from_helo_value():
    # Exim: the IP inside helo=[...] is whatever the client said.
    check(
        "from [192.0.2.200] (helo=[10.9.9.9]) by b.example with esmtp (Exim 4.94) id 1a-2b; Mon, 1 Jan 2024 00:00:00 +0000",
        from_ip="192.0.2.200",
        from_host="[10.9.9.9]",
    )
    check(
        "from unknown (HELO [10.9.9.9]) ([192.0.2.201]) by b.example with SMTP; Mon, 1 Jan 2024 00:00:00 +0000",
        from_ip="192.0.2.201",
        from_host="[10.9.9.9]",
    )


def test_port_suffixes_removed():
    check(
        "from a.example ([192.0.2.7]:4455) by b.example with esmtp; Mon, 1 Jan 2024 00:00:00 +0000",
        from_ip="192.0.2.7",
    )
    check(
        "from a.example ([192.0.2.7:4455]) by b.example with esmtp; Mon, 1 Jan 2024 00:00:00 +0000",
        from_ip="192.0.2.7",
    )
    check(
        "from a.example ([192.0.2.7.4455]) by b.example with esmtp; Mon, 1 Jan 2024 00:00:00 +0000",
        from_ip="192.0.2.7",
    )


def test_comment_only_and_by_only():
    r = check("(from nobody@localhost) ; Mon, 1 Jan 2024 00:00:00 +0000")
    assert r.by_host is None
    check("by b.example; Mon, 1 Jan 2024 00:00:00 +0000", by_host="b.example", from_host=None)


def test_date_only_header():
    r = check("Wed, 7 Jun 2017 10:00:00 +0000", by_host=None)
    assert r.date.utc == datetime(2017, 6, 7, 10, tzinfo=UTC)


def test_communigate_verified_gives_rdns():
    # CommuniGate Pro: "([ip] verified)" marks the from-name as checked.
    check("from relay.a.example ([192.0.2.60] verified) by cgp.b.example (CommuniGate Pro SMTP 6.3) with ESMTP id 77; Mon, 1 Jan 2024 00:00:00 +0000",
          from_rdns="relay.a.example", from_ip="192.0.2.60")  # fmt: skip
    check("from relay.a.example ([192.0.2.61] unverified) by cgp.b.example with ESMTP; Mon, 1 Jan 2024 00:00:00 +0000",
          from_rdns=None)  # fmt: skip


def test_communigate_account_is_authenticated():
    check("from [192.0.2.62] (account u@a.example HELO client) by cgp.a.example (CommuniGate Pro SMTP 6.3) with ESMTPSA id 9; Mon, 1 Jan 2024 00:00:00 +0000",
          from_ip="192.0.2.62", from_host="client", authenticated=True)  # fmt: skip


def test_exim3_helo_in_comment_then_bracket():
    # Exim 3: "from rdns (helo) [ip]".
    check("from gw.a.example (box.a.example) [192.0.2.63] by b.example with esmtp (Exim 3.36 #1) id 1AbC; Mon, 1 Jan 2024 00:00:00 +0000",
          from_rdns="gw.a.example", from_host="box.a.example", from_ip="192.0.2.63")  # fmt: skip


def test_obtuse_smtpd_claiming_to_be():
    # Obtuse smtpd: 'from rdns(ip), claiming to be "helo" via SMTP by host, id x'.
    check('from dsl.a.example(192.0.2.64), claiming to be "pc.a.example" via SMTP by mx.b.example, id smtpdAbC; Mon Jan  1 00:00:00 2024',
          from_rdns="dsl.a.example", from_host="pc.a.example", from_ip="192.0.2.64", by_host="mx.b.example", id="smtpdAbC")  # fmt: skip


def test_xmail_from_angle_is_envelope_sender():
    # XMail: "... for <rcpt> from <sender>; date".
    check("from a.example (192.0.2.65:25001) by b.example with [XMail 1.27 ESMTP Server] id <S1A> for <r@b.example> from <s@a.example>; Mon, 1 Jan 2024 00:00:00 +0000",
          envelope_from="s@a.example", id="S1A", from_ip="192.0.2.65", from_rdns=None, with_="XMail 1.27 ESMTP Server")  # fmt: skip


def test_navgw_from_clause_inside_leading_comment():
    # Symantec NAVGW: "(from HOST [ip]) by ...".
    check("(from WORKSTATION [192.0.2.66]) by gw.b.example (NAVGW 2.5.2.12) with SMTP id M1; Mon, 1 Jan 2024 00:00:00 +0000",
          from_host="WORKSTATION", from_ip="192.0.2.66", by_host="gw.b.example")  # fmt: skip


def test_courier_id_after_date_and_auth_comment():
    # Courier: "(AUTH: LOGIN user, SSL: ...)" and the id after the date.
    r = check("from pc (pc.a.example [192.0.2.67]) (AUTH: LOGIN u@a.example, SSL: TLSv1.2,256bits,AES256-SHA) by a.example with esmtp; Mon, 1 Jan 2024 00:00:00 +0000 id 0001.0002.0003",
              authenticated=True, tls=True, id="0001.0002.0003")  # fmt: skip
    assert r.date.utc == datetime(2024, 1, 1, tzinfo=UTC)


def test_zmailer_softdnserr_is_no_rdns():
    # ZMailer writes "softdnserr" where the reverse name would be.
    check("from a.example (softdnserr [::ffff:192.0.2.68]) by b.example with esmtp; Mon, 1 Jan 2024 00:00:00 +0000",
          from_rdns=None, from_ip="192.0.2.68")  # fmt: skip


def test_gmx_ehlo_comment_then_bracket():
    # GMX: "from rdns (EHLO helo) [ip] by ...".
    check("from dyn.a.example (EHLO pc) [192.0.2.69] by mail.b.example (mp001) with SMTP; Mon, 1 Jan 2024 00:00:00 +0100",
          from_rdns="dyn.a.example", from_host="pc", from_ip="192.0.2.69")  # fmt: skip


def test_scalix_spaced_ip_is_not_qmail_rdns():
    # Scalix writes "( ip)"; unlike qmail's "(ip)" it says nothing of the name.
    check("from PC1 ( 192.0.2.70) by mail.b.example (Scalix SMTP Relay 11.0) via ESMTP; Mon, 1 Jan 2024 00:00:00 +0000",
          from_rdns=None, from_host="PC1", from_ip="192.0.2.70")  # fmt: skip


def test_webmail_http_keeps_the_from_clause_name():
    # SquirrelMail, NaSMail: the from-name is the browser's address; Exchange Online
    # mailbox delivery "with HTTPS" names the sending server, which stays the from_host.
    check(
        "from 192.0.2.71 (SquirrelMail authenticated user u) by web.a.example with HTTP; Mon, 1 Jan 2024 00:00:00 +0000",
        from_host=None,
        from_ip="192.0.2.71",
        authenticated=True,
    )
    check(
        "from [192.0.2.72] by web.a.example (via HTTP); Mon, 1 Jan 2024 00:00:00 +0000",
        from_host="[192.0.2.72]",
        from_ip="192.0.2.72",
    )
    check(
        "from AB1PR01MB0001.eurprd01.prod.outlook.example (2603:10a6:102:1d8::6) by CD2PR02MB0002.eurprd02.prod.outlook.example with HTTPS; Mon, 1 Jan 2024 00:00:00 +0000",
        from_host="AB1PR01MB0001.eurprd01.prod.outlook.example",
        from_rdns=None,  # an unbracketed IPv6 is Exchange's form, not qmail's "rdns (ip)"
        from_ip="2603:10a6:102:1d8::6",
        tls=True,
    )
    check(
        "from AB1PR01MB0001.eurprd01.prod.outlook.example (::1) by AB1PR01MB0001.eurprd01.prod.outlook.example with HTTPS; Mon, 1 Jan 2024 00:00:00 +0000",
        from_rdns=None,
        from_ip="::1",
    )


def test_uppercase_keywords():
    check("FROM a.example (a.example [192.0.2.73]) BY b.example ID AbC.1 ; Mon, 1 Jan 2024 00:00:00 -0400",
          by_host="b.example", id="AbC.1", from_ip="192.0.2.73")  # fmt: skip


def test_bare_ip_name_is_helo_when_comment_has_the_address():
    check("from 192.0.2.74 (pc.a.example [198.51.100.74]) by b.example with ESMTP id Q; Mon, 1 Jan 2024 00:00:00 +0000",
          from_host="192.0.2.74", from_ip="198.51.100.74")  # fmt: skip
    check(
        "from 192.0.2.75 by b.example with SMTP; Mon, 1 Jan 2024 00:00:00 +0000",
        from_host=None,
        from_ip="192.0.2.75",
    )


def test_qmail_unbracketed_v6_no_port_confusion():
    check(
        "from a.example (2001:db8::5) by b.example with SMTP; Mon, 1 Jan 2024 00:00:00 +0000",
        from_ip="2001:db8::5",
    )


def test_outlook_double_bracket_and_zone():
    check("from a.example ([fe80::5%9]]) by b.example with Microsoft SMTP Server id 15.1.2.3; Mon, 1 Jan 2024 00:00:00 +0000",
          from_ip="fe80::5%9")  # fmt: skip


def test_empty_from_host_does_not_crash():
    check(
        "from  ([192.0.2.76]) by b.example with ESMTP; Mon, 1 Jan 2024 00:00:00 +0000",
        from_host=None,
        from_ip="192.0.2.76",
    )


def test_empty_and_garbage_values():
    for v in [
        "",
        ";",
        "(",
        ")",
        "[",
        "<",
        '"',
        "from",
        "by",
        "from ; by ;",
        "(((",
        ";;;",
        "from [",
        "by <a",
    ]:
        r = parse_received(v, 0)
        assert r.raw == v


def test_gmail_question_mark_ipv6_name_does_not_shadow_the_bracketed_ip():
    # Gmail writes a client-supplied "?IPv6:...?" name; the address is the bracketed one.
    check(
        "from ?IPv6:::ffff:192.168.1.100? ([203.0.113.90]) by smtp.gmail.com with ESMTPSA id q1sm1; Mon, 1 Jan 2024 00:00:00 -0800",
        from_ip="203.0.113.90",
        from_host="?IPv6:::ffff:192.168.1.100?",
    )


def test_id_ending_in_by_and_via_list_expansion():
    check("from a.example ([192.0.2.82]) by b.example with ESMTP id 7Q2-By; Mon, 1 Jan 2024 00:00:00 +0000",
          id="7Q2-By", by_host="b.example")  # fmt: skip
    check(
        "by lists.b.example via listexpand id 123; Mon, 1 Jan 2024 00:00:00 +0000",
        via="listexpand",
        id="123",
    )


def test_exim_ident_in_comment():
    # Exim: "([ip] helo=x ident=user)" when an RFC 1413 ident answer was received.
    check(
        "from pc.a.example ([192.0.2.77] helo=pc ident=jdoe) by mx.b.example with esmtp (Exim 4.96) id 1x-2y; Mon, 1 Jan 2024 00:00:00 +0000",
        ident="jdoe",
        from_host="pc",
        from_rdns="pc.a.example",
    )


def test_sendmail_older_authenticated_comment():
    # Sendmail 8.11: "(authenticated (0 bits))".
    check(
        "from [10.0.0.9] (pc.a.example [192.0.2.78]) (authenticated (0 bits)) by mx.b.example (8.11.6/8.11.6) with ESMTP id f1; Mon, 1 Jan 2024 00:00:00 +0000",
        authenticated=True,
        from_ip="192.0.2.78",
    )


def test_criticalpath_authenticated_as():
    # CriticalPath InterMail: "(authenticated as user)" after the by-host.
    check(
        "from pc.a.example (192.0.2.79) by mx.b.example (7.0.031) (authenticated as u.name) id 4B1C; Mon, 1 Jan 2024 00:00:00 +0000",
        authenticated=True,
        from_rdns="pc.a.example",
        from_ip="192.0.2.79",
        id="4B1C",
    )


def test_exim_asmtp_is_authenticated_without_tls():
    # Exim before 4.x named authenticated SMTP "asmtp".
    check("from pc ([192.0.2.81]) by mx.b.example with asmtp (Exim 3.36) id z; Mon, 1 Jan 2024 00:00:00 +0000",
          authenticated=True, tls=False)  # fmt: skip


def test_plain_esmtpa_is_authenticated_without_tls():
    check(
        "from pc ([192.0.2.80]) by smtp.b.example with ESMTPA id z; Mon, 1 Jan 2024 00:00:00 +0000",
        authenticated=True,
        tls=False,
    )


# --------------------------------------------------------------- parse_ip


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("192.0.2.1", ("192.0.2.1", True)),
        ("[192.0.2.1]", ("192.0.2.1", True)),
        ("IPv6:2001:DB8::1", ("2001:db8::1", True)),
        ("::ffff:192.0.2.1", ("192.0.2.1", True)),
        ("192.0.2.1:25", ("192.0.2.1", True)),
        ("192.0.2.1.25", ("192.0.2.1", True)),
        ("user@192.0.2.1", ("192.0.2.1", True)),
        ("fe80::1%eth0", ("fe80::1%eth0", True)),
        ("11.22.333.44", ("11.22.333.44", False)),
        ("999.12.1.300", ("999.12.1.300", False)),
        ("mail.example", (None, False)),
        ("", (None, False)),
        ("2023.12.14.06.48.20", (None, False)),
    ],
)
def test_parse_ip(text, want):
    assert parse_ip(text) == want
