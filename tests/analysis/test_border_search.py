"""The border search, rule by rule, on small header blocks: how each piece of evidence
names a hop (case, trailing dots, domains, IPv6 spelling), which piece wins, what the
border finding cites, the bound on evidence headers, the weak guess and the descent
through the recipient's own hand-offs."""

from __future__ import annotations

from verifier.analysis.border import (
    MAX_EVIDENCE_HEADERS,
    _local_handoff,
    descend,
    guess_text,
    locate_border,
)
from verifier.analysis.engine import Options, analyze, analyze_bytes
from verifier.model import Received
from verifier.parsers import parse_headers

SMARTHOST = Options(smarthosts=("smtp-relay.relay.example",))
FROM = b"From: c@mydomain.example\n"
RELAY_HOP = b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
SENDER_HOP = b"Received: from DAG1EX2.indiv4.local (unknown [192.0.2.44]) by out-1.relay.example (Postfix) with ESMTPSA id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"


def _found(data: bytes, trusted: set[str] = frozenset()):
    h = parse_headers(data)
    from verifier.analysis.auth import spf_results

    return locate_border(h, set(trusted), spf_results(h))


def _border_message(a) -> str:
    return next(f.message for f in a.findings if f.code == "border.found")


# --- how a piece of evidence names a hop ---------------------------------------------


def test_an_ipv6_client_address_matches_however_it_is_spelt() -> None:
    """A Received header may write an IPv6 address in capitals and the SPF result in
    small letters (or the other way round): the same address, the same hop."""
    upper_hop = b"Received: from out-1.relay.example (out-1.relay.example [2001:DB8::A]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
    a = analyze_bytes(b"Received-SPF: pass client-ip=2001:db8::a; envelope-from=c@mydomain.example\n" + upper_hop + SENDER_HOP + FROM, SMARTHOST)
    assert a.border is not None and a.border.index == 0
    assert a.border.evidence[0] == "Received-SPF client-ip 2001:db8::a"
    lower_hop = upper_hop.replace(b"2001:DB8::A", b"2001:db8::a")
    b = analyze_bytes(b"Received-SPF: pass client-ip=2001:DB8::A; envelope-from=c@mydomain.example\n" + lower_hop + SENDER_HOP + FROM, SMARTHOST)
    assert b.border is not None and b.border.index == 0
    c = analyze_bytes(b"Authentication-Results: mx-9.elsewhere.example; iprev=pass policy.iprev=2001:db8::a\n" + upper_hop + SENDER_HOP + FROM, SMARTHOST)
    assert c.border is not None and c.border.evidence == ("Authentication-Results client address 2001:db8::a",)
    d = analyze_bytes(b"Authentication-Results: mx-9.elsewhere.example; iprev=pass policy.iprev=2001:DB8::A\n" + lower_hop + SENDER_HOP + FROM, SMARTHOST)
    assert d.border is not None and d.border.index == 0


def test_an_authserv_id_matches_the_receiving_host_in_any_case_and_with_a_root_dot() -> None:
    hop = RELAY_HOP.replace(b"by mx.recipient.example", b"by MX.Recipient.Example.")
    a = analyze_bytes(b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n" + hop + SENDER_HOP + FROM, SMARTHOST)
    assert a.border is not None and a.border.index == 0
    assert a.border.evidence == ("Authentication-Results authserv-id mx.recipient.example",)
    b = analyze_bytes(b"Authentication-Results: MX.RECIPIENT.EXAMPLE.; dkim=pass header.d=mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM, SMARTHOST)
    assert b.border is not None and b.border.index == 0


def test_an_authserv_id_naming_the_receivers_domain_locates_the_border() -> None:
    a = analyze_bytes(b"Authentication-Results: recipient.example; dkim=pass header.d=mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM, SMARTHOST)
    assert a.border is not None and a.border.index == 0
    assert a.verdict == "via-connector"


def test_an_authserv_id_is_not_a_suffix_of_another_domain() -> None:
    """``recipient.example`` names hosts under it, not ``mx.otherrecipient.example``."""
    hop = RELAY_HOP.replace(b"by mx.recipient.example", b"by mx.otherrecipient.example")
    a = analyze_bytes(b"Authentication-Results: recipient.example; dkim=pass header.d=mydomain.example\n" + hop + SENDER_HOP + FROM, SMARTHOST)
    assert a.border is None
    assert a.verdict == "inconclusive"


def test_a_received_spf_without_client_ip_or_naming_no_hop_is_no_evidence() -> None:
    a = analyze_bytes(b"Received-SPF: pass envelope-from=c@mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM, SMARTHOST)
    assert a.border is None
    b = analyze_bytes(b"Received-SPF: pass client-ip=203.0.113.77; envelope-from=c@mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM, SMARTHOST)
    assert b.border is None


def test_an_arc_authentication_results_is_not_border_evidence() -> None:
    """ARC-Authentication-Results is an earlier hop's record, carried along: it names no
    border, by authserv-id or by client address."""
    arc = b"ARC-Authentication-Results: i=1; mx.recipient.example; spf=pass smtp.mailfrom=relay.example smtp.client-ip=198.51.100.33\n"
    a = analyze_bytes(arc + RELAY_HOP + SENDER_HOP + FROM, SMARTHOST)
    assert a.border is None


def test_equally_near_hops_the_upper_one_is_named() -> None:
    """A relay that handled the message twice: the SPF header between its two receipts is
    as near to either; the upper one (the later receipt) is the border."""
    data = (
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx2.recipient.example with ESMTPS id 4; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=c@mydomain.example\n"
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx1.recipient.example with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        + SENDER_HOP + FROM
    )
    found = _found(data)
    assert found is not None and found.hop == 0


def test_evidence_is_read_from_the_first_32_headers_only() -> None:
    """A bound for hostile input: an SPF address naming a hop counts in the topmost 32
    Received-SPF headers, and not in the 33rd."""
    assert MAX_EVIDENCE_HEADERS == 32
    other = b"Received-SPF: pass client-ip=203.0.113.77; envelope-from=c@mydomain.example\n"
    good = b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=c@mydomain.example\n"
    inside = other * 31 + good + RELAY_HOP + SENDER_HOP + FROM
    assert _found(inside) is not None and _found(inside).strong
    outside = other * 32 + good + RELAY_HOP + SENDER_HOP + FROM
    found = _found(outside)
    assert found is None or not found.strong
    ar_other = b"Authentication-Results: elsewhere.invalid; dkim=pass header.d=mydomain.example\n"
    ar_good = b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
    assert _found(ar_other * 31 + ar_good + RELAY_HOP + SENDER_HOP + FROM).strong
    found = _found(ar_other * 32 + ar_good + RELAY_HOP + SENDER_HOP + FROM)
    assert found is None or not found.strong
    ip_other = b"Authentication-Results: elsewhere.invalid; iprev=pass policy.iprev=203.0.113.77\n"
    ip_good = b"Authentication-Results: elsewhere.invalid; iprev=pass policy.iprev=198.51.100.33\n"
    assert _found(ip_other * 31 + ip_good + RELAY_HOP + SENDER_HOP + FROM).strong
    found = _found(ip_other * 32 + ip_good + RELAY_HOP + SENDER_HOP + FROM)
    assert found is None or not found.strong


# --- trusted authserv-ids ---------------------------------------------------------------


def test_a_trusted_authserv_id_is_matched_in_any_case() -> None:
    data = b"Authentication-Results: MX.Recipient.Example; dkim=pass header.d=mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM
    for given in ("mx.recipient.example", "MX.RECIPIENT.example"):
        a = analyze_bytes(data, Options(smarthosts=SMARTHOST.smarthosts, trusted_authserv_ids=(given,)))
        assert a.border is not None and a.border.evidence[0].startswith("trusted authserv-id ")
        assert a.border.evidence[0].lower() == "trusted authserv-id mx.recipient.example"


def test_a_trusted_authserv_id_outranks_a_higher_received_spf() -> None:
    """The caller's word beats the topmost-evidence rule: the SPF header above names the
    sending relay's own receipt, the trusted id the hop below it."""
    data = (
        b"Received-SPF: pass client-ip=192.0.2.44; envelope-from=c@mydomain.example\n"
        + b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        + RELAY_HOP + SENDER_HOP + FROM
    )
    plain = _found(data)
    assert plain is not None and plain.hop == 1
    trusted = _found(data, {"mx.recipient.example"})
    assert trusted is not None and trusted.hop == 0
    assert trusted.evidence == ("trusted authserv-id mx.recipient.example",)
    assert trusted.evidence_headers == (1,)


def test_a_trusted_authserv_id_naming_no_hop_takes_the_first_received_below_it() -> None:
    data = b"Received: from mx.recipient.example by store.recipient.example with LMTP id 9; Fri, 01 Dec 2023 18:10:04 +0000\n" \
        + b"Authentication-Results: filter-7; dkim=pass header.d=mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM
    found = _found(data, {"filter-7"})
    assert found is not None and found.strong and found.hop == 1
    assert found.evidence[0] == "trusted authserv-id filter-7"


def test_a_trusted_authserv_id_below_every_received_is_no_evidence() -> None:
    data = RELAY_HOP + SENDER_HOP + b"Authentication-Results: filter-7; dkim=pass header.d=mydomain.example\n" + FROM
    found = _found(data, {"filter-7"})
    # nothing trusted names a hop: only the weak guess (the topmost external client) is left
    assert found is not None and not found.strong and found.hop == 0


def test_an_untrusted_authserv_id_is_still_evidence_when_others_are_trusted() -> None:
    data = b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n" + RELAY_HOP + SENDER_HOP + FROM
    found = _found(data, {"someone-else.example"})
    assert found is not None and found.strong and found.hop == 0
    assert found.evidence == ("Authentication-Results authserv-id mx.recipient.example",)


# --- which piece of evidence wins, and what the border finding cites -----------------


def test_evidence_for_the_border_hop_is_listed_with_its_headers() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; spf=pass smtp.mailfrom=relay.example; iprev=pass policy.iprev=198.51.100.33\n"
        + b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=c@mydomain.example\n"
        + RELAY_HOP + SENDER_HOP + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 0
    # the topmost header gives an authserv-id and a client address: the address (the
    # client the server saw) is listed first, then the rest, topmost first
    assert a.border.evidence == (
        "Authentication-Results client address 198.51.100.33",
        "Authentication-Results authserv-id mx.recipient.example",
        "Received-SPF client-ip 198.51.100.33",
    )
    assert a.border.evidence_headers == (0, 0, 1)
    assert _border_message(a) == (
        "The recipient's border is Received #0: mx.recipient.example received the message from out-1.relay.example [198.51.100.33] "
        "(evidence: Authentication-Results client address 198.51.100.33; Authentication-Results authserv-id mx.recipient.example; "
        "Received-SPF client-ip 198.51.100.33)."
    )
    assert next(f for f in a.findings if f.code == "border.found").headers == (0, 1, 2)


def test_evidence_naming_another_hop_is_not_cited() -> None:
    data = (
        b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=c@mydomain.example\n"
        + RELAY_HOP
        + b"Received-SPF: pass client-ip=192.0.2.44; envelope-from=c@mydomain.example\n"
        + SENDER_HOP + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border.index == 0
    assert a.border.evidence == ("Received-SPF client-ip 198.51.100.33",)
    assert a.border.evidence_headers == (0,)


def test_the_same_server_named_by_two_authserv_ids_is_cited_once_each() -> None:
    """Two Authentication-Results of one server, over a local hand-off and the border:
    both are cited; an authserv-id of another server is not."""
    data = (
        b"Authentication-Results: store.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from mx.recipient.example (mx.recipient.example [10.1.2.3]) by store.recipient.example with LMTP id 9; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        + RELAY_HOP + SENDER_HOP
        + b"Authentication-Results: out-1.relay.example; dkim=pass header.d=mydomain.example\n"
        + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 1
    assert a.border.evidence == (
        "Authentication-Results authserv-id store.recipient.example",
        "internal hand-off from mx.recipient.example",
    )
    assert a.verdict == "via-connector"


def test_an_spf_hop_of_the_authserv_id_server_is_the_border_without_descent() -> None:
    """The authserv-id is topmost and names the server; an SPF address lower down names
    the client that server saw: that hop is the border, with no descent below it."""
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from localhost (localhost [127.0.0.1]) by mx.recipient.example with ESMTP id 8; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=c@mydomain.example\n"
        + RELAY_HOP + SENDER_HOP + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 1
    assert a.border.evidence[0] == "Received-SPF client-ip 198.51.100.33"
    assert "Authentication-Results authserv-id mx.recipient.example" in a.border.evidence
    assert a.verdict == "via-connector"


def test_an_spf_hop_of_another_server_does_not_displace_the_authserv_id() -> None:
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        + RELAY_HOP
        + b"Received-SPF: pass client-ip=192.0.2.44; envelope-from=c@mydomain.example\n"
        + SENDER_HOP + FROM
    )
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 0
    assert a.border.evidence == ("Authentication-Results authserv-id mx.recipient.example",)


# --- the weak guess ---------------------------------------------------------------------


def test_the_guess_is_the_topmost_external_client() -> None:
    data = (
        b"Received: from filter.local (filter.local [10.0.0.7]) by mx.recipient.example with ESMTP id 9; Fri, 01 Dec 2023 18:10:04 +0000\n"
        + RELAY_HOP + SENDER_HOP + FROM
    )
    found = _found(data)
    assert found is not None and not found.strong and found.hop == 1
    assert found.evidence == ("first external client address from the top (no authentication header confirms it)",)
    assert found.evidence_headers == ()
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is None and a.verdict == "inconclusive"
    assert "suggests out-1.relay.example [198.51.100.33] handing it to mx.recipient.example (Received #1)" in next(
        f.message for f in a.findings if f.code == "border.not-found")


def test_the_guess_names_unnamed_hosts_as_such() -> None:
    rcv = (Received(0, "", from_ip="203.0.113.5"),)
    assert guess_text(rcv, 0) == "an unnamed host [203.0.113.5] handing it to an unnamed host (Received #0)"
    rcv = (Received(0, "", from_host="helo.example", from_ip="203.0.113.5", by_host="mx.b.example"),)
    assert guess_text(rcv, 0) == "helo.example [203.0.113.5] handing it to mx.b.example (Received #0)"
    rcv = (Received(0, "", from_host="helo.example", from_rdns="rdns.example", from_ip="203.0.113.5", by_host="mx.b.example"),)
    assert guess_text(rcv, 0) == "rdns.example [203.0.113.5] handing it to mx.b.example (Received #0)"


def test_no_external_client_no_guess() -> None:
    assert _found(b"Received: from a (a [10.0.0.1]) by b; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM) is None
    assert _found(FROM) is None


# --- the descent through the recipient's own hand-offs -------------------------------


def test_a_local_hand_off_between_single_label_hosts() -> None:
    """No address, the client named like the receiver in any case, even without a dot."""
    assert _local_handoff(Received(0, "", from_host="Store", by_host="store"))
    assert _local_handoff(Received(0, "", from_rdns="STORE", by_host="store"))
    assert not _local_handoff(Received(0, "", from_host="store"))
    assert not _local_handoff(Received(0, "", from_host="gw", by_host="store"))


def test_the_descent_stops_at_the_first_hop_from_outside() -> None:
    rcv = (
        Received(0, "", from_host="mx.r.example", from_ip="10.0.0.2", by_host="store.r.example"),
        Received(1, "", from_host="filter.r.example", from_ip="127.0.0.1", by_host="mx.r.example"),
        Received(2, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="filter.r.example"),
        Received(3, "", from_host="client.example", from_ip="192.0.2.44", by_host="out-1.relay.example"),
    )
    found = descend(rcv, 0, ["x"], [7])
    assert found.hop == 2 and found.strong
    assert found.evidence == ("x", "internal hand-off from mx.r.example", "internal hand-off from filter.r.example")
    assert found.evidence_headers == (7,)
    # a hand-off whose client is not the receiver below is not followed
    other = (rcv[0], Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="gw.elsewhere.example"))
    assert descend(other, 0, ["x"], [7]).hop == 0
    # the bottom hop has nothing below it
    assert descend(rcv, 3, ["x"], [7]).hop == 3


def test_the_descent_follows_a_client_of_the_same_organisation() -> None:
    rcv = (
        Received(0, "", from_host="relay-2.r.example", from_ip="10.0.0.2", by_host="store.r.example"),
        Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="mx.r.example"),
    )
    assert descend(rcv, 0, [], []).hop == 1
    unnamed = (Received(0, "", from_ip="10.0.0.2", by_host="store.r.example"), rcv[1])
    assert descend(unnamed, 0, [], []).hop == 1
    nobody_below = (rcv[0], Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33"))
    assert descend(nobody_below, 0, [], []).hop == 0


def test_the_descent_through_two_hand_offs_in_an_analysis() -> None:
    data = (
        b"Authentication-Results: store.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from filter.recipient.example (filter.recipient.example [10.1.2.4]) by store.recipient.example with LMTP id 9; Fri, 01 Dec 2023 18:10:05 +0000\n"
        b"Received: from mx.recipient.example (mx.recipient.example [10.1.2.3]) by filter.recipient.example with ESMTP id 8; Fri, 01 Dec 2023 18:10:04 +0000\n"
        + RELAY_HOP + SENDER_HOP + FROM
    )
    a = analyze(parse_headers(data), SMARTHOST)
    assert a.border is not None and a.border.index == 2
    assert a.border.evidence[1:] == ("internal hand-off from filter.recipient.example", "internal hand-off from mx.recipient.example")
    assert a.verdict == "via-connector"


def test_the_nearer_of_two_receipts_is_named_even_when_it_is_the_lower_one() -> None:
    """The relay's second receipt is topmost, but the SPF header sits just above its
    first receipt: that one is the nearer, so it is the border."""
    data = (
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx2.recipient.example with ESMTPS id 4; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"X-Filter: scanned\n"
        b"X-Filter: scanned again\n"
        b"Received-SPF: pass client-ip=198.51.100.33; envelope-from=c@mydomain.example\n"
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx1.recipient.example with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        + SENDER_HOP + FROM
    )
    found = _found(data)
    assert found is not None and found.hop == 1


def test_each_client_address_property_of_an_authentication_results_counts() -> None:
    from verifier.analysis.border import ar_client_ips
    from verifier.model import AuthResults, MethodResult

    for key in ("smtp.remote-ip", "policy.iprev", "smtp.client-ip"):
        ar = AuthResults(0, "authentication-results", "mx.b.example", (MethodResult("x", "pass", properties={key: "[198.51.100.7]"}),))
        assert ar_client_ips(ar, []) == ["198.51.100.7"], key
    other = AuthResults(0, "authentication-results", "mx.b.example", (MethodResult("x", "pass", properties={"smtp.mailfrom": "198.51.100.7"}),))
    assert ar_client_ips(other, []) == []


def test_the_descent_between_single_label_hosts() -> None:
    """Names without a dot have no organisational domain: only the same name, in any
    case, continues the descent."""
    rcv = (
        Received(0, "", from_host="Filter", from_ip="10.0.0.2", by_host="store"),
        Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="FILTER"),
    )
    assert descend(rcv, 0, [], []).hop == 1
    apart = (rcv[0], Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="gateway"))
    assert descend(apart, 0, [], []).hop == 0


def test_no_descent_to_a_hop_that_names_no_receiver() -> None:
    rcv = (
        Received(0, "", from_ip="10.0.0.2", by_host="store.r.example"),
        Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33"),
    )
    assert descend(rcv, 0, [], []).hop == 0


def test_evidence_naming_another_hop_of_the_border_server_is_cited() -> None:
    """Two Authentication-Results of one server (by its name and by its domain) that are
    nearest to two of its Received headers: both name the border server, so both are
    cited, and the server's re-injection from 127.0.0.1 is descended to its real receipt."""
    data = (
        b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
        b"Received: from localhost (localhost [127.0.0.1]) by mx.recipient.example with ESMTP id 8; Fri, 01 Dec 2023 18:10:04 +0000\n"
        b"Authentication-Results: recipient.example; spf=pass smtp.mailfrom=relay.example\n"
        b"Received: from out-1.relay.example (out-1.relay.example [198.51.100.33]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        + FROM
    )
    found = _found(data)
    assert found is not None and found.hop == 1
    assert found.evidence == ("Authentication-Results authserv-id mx.recipient.example",
                              "Authentication-Results authserv-id recipient.example",
                              "re-injection into mx.recipient.example from 127.0.0.1")
    assert found.evidence_headers == (0, 2)


# --- a server that hands the message to itself again (a content filter) --------------

REINJECTED = b"Received: from localhost (localhost [127.0.0.1]) by mx.recipient.example (Postfix) with ESMTP id 8; Fri, 01 Dec 2023 18:10:04 +0000\n"


def test_a_content_filter_re_injection_is_descended_to_the_real_receipt() -> None:
    """Postfix with amavis: the MX receives from the sender, the filter hands the message
    back to the same MX from 127.0.0.1. The authserv-id names both hops' receiver; the
    nearer one is the re-injection, and the border is the receipt below it."""
    data = (b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n"
            + REINJECTED + RELAY_HOP + SENDER_HOP + FROM)
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 1
    assert a.border.sender_host == "out-1.relay.example"
    assert a.border.evidence[-1] == "re-injection into mx.recipient.example from 127.0.0.1"
    assert a.verdict == "via-connector"


def test_a_re_injection_above_the_platforms_outbound_is_bypassed() -> None:
    platform = (
        b"Received: from 2.mo512.mail-out.ovh.net (2.mo512.mail-out.ovh.net [192.0.2.181]) by mx.recipient.example (Postfix) with ESMTPS id 3; Fri, 01 Dec 2023 18:10:03 +0000\n"
        b"Received: from ex4.mail.ovh.net (ex4.mail.ovh.net [10.1.1.1]) by mo512.mail-out.ovh.net (Postfix) with ESMTPS id 2; Fri, 01 Dec 2023 18:10:02 +0000\n"
    )
    data = b"Authentication-Results: mx.recipient.example; dkim=pass header.d=mydomain.example\n" + REINJECTED + platform + FROM
    a = analyze_bytes(data, SMARTHOST)
    assert a.border is not None and a.border.index == 1
    assert a.verdict == "bypassed"


def test_only_the_same_server_from_an_internal_address_is_a_re_injection() -> None:
    outside = Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="mx.r.example")
    to_itself = Received(0, "", from_host="localhost", from_ip="127.0.0.1", by_host="MX.r.example.")
    assert descend((to_itself, outside), 0, [], []).hop == 1
    # another receiving server below: not the same server handing it to itself
    elsewhere = Received(1, "", from_host="out-1.relay.example", from_ip="198.51.100.33", by_host="mx2.r.example")
    assert descend((to_itself, elsewhere), 0, [], []).hop == 0
    # the same server, but the client above is outside: that hop is a receipt of its own
    from_outside = Received(0, "", from_host="client.example", from_ip="192.0.2.7", by_host="mx.r.example")
    assert descend((from_outside, outside), 0, [], []).hop == 0
    # no client address at all: a hand-off by name only, which the name rule decides
    unnamed_addr = Received(0, "", from_host="localhost", by_host="mx.r.example")
    assert descend((unnamed_addr, outside), 0, [], []).hop == 0
