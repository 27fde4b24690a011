"""Shared inputs for the parser tests.

GUIDE_SAMPLE is the header block of the provider's send-connector guide
(../shared/reference/ovh-send-connector-guide.md), exactly as the guide shows it:
HTML-escaped, inside <pre><code>. Every other sample in these tests is written by
hand for the form it exercises, with documentation domains and addresses.
"""

GUIDE_SAMPLE = """\
<pre class="bgwhite"><code>Return-Path: &lt;bounces-249164590-newsletter=mydomain.ovh@sender-id.example.com&gt;
Delivered-To: john.smith@guides.ovh
Received: from localhost (HELO queue) (127.0.0.1)
    by localhost with SMTP; 28 Feb 2023 09:51:02 +0200
Received: from unknown (HELO output28.mail.ovh.net) (192.168.11.93)
    by 192.168.1.2 with AES256-GCM-SHA384 encrypted SMTP; 28 Feb 2023 09:51:02 +0200
Received: from vr45.mail.ovh.net (unknown [10.101.8.45])
    by out28.mail.ovh.net (Postfix) with ESMTP id 4PQqLG4KHRzRxRQZj
    for &lt;john.smith@guides.ovh&gt;; Tue, 28 Feb 2023 07:51:02 +0000 (UTC)
Received: from in31.mail.ovh.net (unknown [10.101.4.31])
    by vr45.mail.ovh.net (Postfix) with ESMTP id 4PQqLF6ZBMz37ZHNP
    for &lt;john.smith@guides.ovh&gt;; Tue, 28 Feb 2023 07:51:01 +0000 (UTC)
Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=11.22.333.44; helo=sender-id.example.com; envelope-from=bounces-249164590-newsletter=mydomain.ovh@sender-id.example.com; receiver=john.smith@guides.ovh
Authentication-Results: in31.mail.ovh.net;
    dkim=pass (1024-bit key; unprotected) header.d=smtp.example.com header.i=@smtp.example.com header.b="HDetLEPl";
    dkim-atps=neutral
Received: from sender-id.example.com (sender-id.example.com [11.22.333.44])
    by in31.mail.ovh.net (Postfix) with ESMTPS id 4PQsPF43SEm78WdxQ
    for &lt;john.smith@guides.ovh&gt;; Tue, 28 Feb 2023 07:51:01 +0000 (UTC)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=smtp.example.com;
    q=dns/txt; s=mail; bh=gZnUUk4TldsnAE7L+M9zwjuOeOmD6FwV4Yyq99XN2a0=;
    h=from:subject:date:to:mime-version:content-type:list-unsubscribe:x-csa-complaints:list-unsubscribe-post;
    b=HDiySKAl0J78ByyGlPjCVc+zvEv/DP9NkfUdso8DkB5z1Lig4rfbqCLnD6SE6wh7sjsZMsae0gk
    Muy0Uur0tw2nWq/WI94O4grD/KAWWC+jo2w/1+0ol1VCQN2+zQEhM+HJj4pcnn+MfU/RrXLkXfDV
    BLfqJiRcWJCQ3fy3Gag=
Received: by smtp-relay.smtp.example.com with ESMTP id 12185513-794a-4762-b3ee-a4044d30975e; Tue Feb 28 2023 07:51:00 GMT+0000
X-Mailin-EID: MjAxMTY0NTkwfm5vLXJlcGx5QHRlc3QtbXV0dS5jb21%2BPDE2N2U1NdkfOTQ3MzQ1YWFiNzY3NWY3ZmJkMWUzZGJkQHRlYW1qZXJlbS5vdmg%2B25ead5LmQuc2VuZGVyLXNpYi5jb20%3D
To: &lt;john.smith@guides.ovh&gt;
Date: Tue, 28 Feb 2023 07:50:56 +0000
Subject: Test SBR 3 (SIB)
Message-Id: &lt;12185193-354a-4762-b3ee-a40484d30975e@smtp-relay.smtp.example.com&gt;
Origin-messageId: &lt;167e568a947345aab7675f7fbd1e3dbd@mydomain.ovh&gt;
Thread-Index: AQHZS0ljK1OFDltwD80S81Qo68wiBIQ==
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
x-mclm-sbr-processed: true
MIME-Version: 1.0
X-sib-id: 8dUZE2ztHUSpKwRy5O0fOawZARq-Dh8BNrytyOAwG9i3ybk5nxMfOvwZLeo778wLsYKejwcxuIEci6PKSzh3d4X7w126g-32syWTSQKRPQZTyxdXonPcl3lqm3pXkNolSaGbfG4dHY38OoEF7aXWMGvRsJtNlvsy1sEx8vGFOpxg_3cK
X-CSA-Complaints: csa-complaints@eco.de
From: &lt;newsletter@mydomain.ovh&gt;
</code></pre>
"""

# Hand-written Received values, one per form (documentation names and addresses).
POSTFIX = (
    "from mx.sender.example (mx.sender.example [192.0.2.10]) by mx.rcpt.example (Postfix) "
    "with ESMTPS id 4AbCdE1234 for <alice@rcpt.example>; Mon, 3 Jul 2023 10:15:30 +0200 (CEST)"
)
POSTFIX_TLS = (
    "from out.sender.example (out.sender.example [198.51.100.7]) "
    "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
    "key-exchange X25519 server-signature RSA-PSS (2048 bits)) (No client certificate requested) "
    "by in.rcpt.example (Postfix) with ESMTPS id 9F8E7D6C5B for <bob@rcpt.example>; "
    "Tue, 4 Jul 2023 08:00:01 +0000 (UTC)"
)
POSTFIX_AUTH = (
    "from [10.1.2.3] (dyn-203-0-113-9.isp.example [203.0.113.9]) "
    "(Authenticated sender: carol@sender.example) by smtp.sender.example (Postfix) "
    "with ESMTPSA id 11AA22BB33 for <dave@rcpt.example>; Wed, 5 Jul 2023 12:00:00 +0100 (BST)"
)
POSTFIX_UNKNOWN_V6 = (
    "from relay.sender.example (unknown [IPv6:2001:db8:10::25]) by mx.rcpt.example (Postfix) "
    "with ESMTP id 5566778899 for <erin@rcpt.example>; Thu, 6 Jul 2023 09:09:09 -0400 (EDT)"
)
EXIM = (
    "from host-198-51-100-20.isp.example ([198.51.100.20]:51234 helo=laptop.local) "
    "by mail.rcpt.example with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) "
    "(envelope-from <frank@sender.example>) id 1qAbCd-000123-Xy for grace@rcpt.example; "
    "Fri, 07 Jul 2023 14:22:01 +0200"
)
EXIM_OLD_TLS = (
    "from mail.sender.example ([192.0.2.44]) by mx.rcpt.example with esmtps "
    "(TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256) (Exim 4.89) (envelope-from <list@sender.example>) "
    "id 1pXyZw-0004Ab-Cd for heidi@rcpt.example; Sat, 08 Jul 2023 06:30:00 +0000"
)
SENDMAIL = (
    "from client.sender.example (ident@client.sender.example [192.0.2.81]) "
    "by mx.rcpt.example (8.17.1/8.17.1) with ESMTP id 36ABCdEf012345 "
    "(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT) "
    "for <ivan@rcpt.example>; Sun, 9 Jul 2023 11:11:11 -0700"
)
SENDMAIL_AUTH = (
    "from [192.168.0.5] (pool-203-0-113-77.isp.example [203.0.113.77] (may be forged)) "
    "(authenticated bits=0) by smtp.sender.example (8.15.2/8.15.2) with ESMTPSA id 36ZZ "
    "for <judy@rcpt.example>; Mon, 10 Jul 2023 07:07:07 +0300"
)
QMAIL = (
    "from unknown (HELO relay.sender.example) (203.0.113.150) by mx.rcpt.example with SMTP; "
    "11 Jul 2023 10:00:00 -0000"
)
QMAIL_IDENT = (
    "from gw.sender.example (HELO gw) (mallory@203.0.113.151) by mx.rcpt.example with ESMTPA; "
    "11 Jul 2023 10:00:05 -0000"
)
QMAIL_TLS = (
    "from unknown (HELO out.sender.example) (192.168.50.5) by 192.168.50.6 "
    "with AES256-GCM-SHA384 encrypted SMTP; 12 Jul 2023 09:00:00 +0200"
)
QMAIL_INVOKED = "(qmail 4242 invoked by uid 1001); 12 Jul 2023 08:59:59 -0000"
EXCHANGE_365 = (
    "from DB9PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:10:1a2::15) "
    "by AM0PR02MB5678.eurprd02.prod.exchangelabs.com (2603:10a6:208:3b::20) "
    "with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) "
    "id 15.20.6565.21 via Frontend Transport; Thu, 13 Jul 2023 09:16:50 +0000"
)
EXCHANGE_INTERNAL = (
    "from EXCH01.corp.example (10.20.30.40) by EXCH02.corp.example (10.20.30.41) "
    "with Microsoft SMTP Server (TLS) id 14.3.498.0; Thu, 13 Jul 2023 11:00:00 +0200"
)
EXCHANGE_MAPI = "from DB9PR01MB1234.eurprd01.prod.exchangelabs.com ([fe80::1c2d:3e4f:5a6b:7c8d%4]) by DB9PR01MB1234.eurprd01.prod.exchangelabs.com ([fe80::1c2d:3e4f:5a6b:7c8d%4]) with mapi id 15.20.6565.21; Thu, 13 Jul 2023 09:16:49 +0000"
GMAIL_MX = (
    "from mail-sor-f7x.google.example (mail-sor-f7x.google.example. [198.51.100.141]) "
    "by mx.google.com with SMTPS id a1-20020a05600c000100b003fbd1234567sor1234567wmq.12.2023.07.14.01.02.03 "
    "for <kim@rcpt.example> (Google Transport Security); Fri, 14 Jul 2023 01:02:03 -0700 (PDT)"
)
GMAIL_INTERNAL = (
    "by 2002:a05:6a10:9b0c:b0:4b1:2a3c:4d5e with SMTP id ab12csp123456pxb; "
    "Fri, 14 Jul 2023 01:02:04 -0700 (PDT)"
)
GMAIL_SUBMIT = (
    "from [192.168.1.20] ([203.0.113.66]) by smtp.gmail.com with ESMTPSA id "
    "x7-20020a170902c24700b001b8a1234567sm1234567plg.3.2023.07.14.01.02.00 "
    "for <leo@rcpt.example> (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256); "
    "Fri, 14 Jul 2023 01:02:00 -0700 (PDT)"
)
AMAZON_SES = (
    "from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com [54.240.8.30]) "
    "by mx.rcpt.example (Postfix) with ESMTPS id 4R1xYz2AbC for <mia@rcpt.example>; "
    "Sat, 15 Jul 2023 16:45:12 +0000 (UTC)"
)
BREVO = (
    "by relay.newsletter.example with ESMTP id 0a1b2c3d-4e5f-6789-abcd-ef0123456789; "
    "Sun Jul 16 2023 07:51:00 GMT+0000"
)
SENDGRID_NO_SEMI = (
    "by filter0042p1iad2.sendgrid.net with SMTP id AbCdEfGhIj "
    "2023-07-17 10:11:12.123456789 +0000 UTC m=+555016.712345678"
)
DOVECOT_LMTP = (
    "from mail.rcpt.example by mail.rcpt.example with LMTP id kLmNoPqRsTuVwXyZ "
    "(envelope-from <nina@sender.example>) for <oscar@rcpt.example>; Mon, 17 Jul 2023 10:11:13 +0200"
)
IPV4_MAPPED = (
    "from relay.sender.example ([::ffff:198.51.100.99]) by mx.rcpt.example with esmtp; "
    "Tue, 18 Jul 2023 01:00:00 +0000"
)
NO_DATE = "from a.sender.example (a.sender.example [192.0.2.5]) by b.rcpt.example (Postfix)"
ODD_DATE = (
    "from a.sender.example (a.sender.example [192.0.2.5]) by b.rcpt.example with ESMTP; "
    "mer, 13 déc 2023 10:00:00 +0100"
)

ALL_RECEIVED = [
    POSTFIX, POSTFIX_TLS, POSTFIX_AUTH, POSTFIX_UNKNOWN_V6, EXIM, EXIM_OLD_TLS, SENDMAIL,
    SENDMAIL_AUTH, QMAIL, QMAIL_IDENT, QMAIL_TLS, QMAIL_INVOKED, EXCHANGE_365, EXCHANGE_INTERNAL,
    EXCHANGE_MAPI, GMAIL_MX, GMAIL_INTERNAL, GMAIL_SUBMIT, AMAZON_SES, BREVO, SENDGRID_NO_SEMI,
    DOVECOT_LMTP, IPV4_MAPPED, NO_DATE, ODD_DATE,
]  # fmt: skip

MICROSOFT_AR = (
    "spf=pass (sender IP is 40.107.22.55) smtp.mailfrom=sender.example; "
    "dkim=pass (signature was verified) header.d=sender.example;dmarc=pass action=none "
    "header.from=sender.example;compauth=pass reason=100"
)
GMAIL_AR = (
    "mx.google.com; dkim=pass header.i=@sender.example header.s=sel1 header.b=AbCdEf12; "
    "spf=pass (google.com: domain of bounce@sender.example designates 192.0.2.33 as permitted "
    "sender) smtp.mailfrom=bounce@sender.example; dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
    "header.from=sender.example"
)
MICROSOFT_AAR = (
    "i=1; mx.microsoft.com 1; spf=pass smtp.mailfrom=sender.example; dmarc=pass action=none "
    "header.from=sender.example; dkim=pass header.d=sender.example; arc=none"
)


def block(*fields: tuple[str, str]) -> str:
    """A header block from (name, value) pairs."""
    return "".join(f"{n}: {v}\n" for n, v in fields)
