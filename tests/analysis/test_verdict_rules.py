"""The verdict rules and their findings on small chains: which hops count as the sending
side, when the platform handled the message again after the smarthost, and the
sentence each verdict, border and route finding says."""

from __future__ import annotations

from verifier.analysis.engine import Options, analyze_bytes
from verifier.analysis.verdict import platform_after_smarthost, sending_side
from verifier.model import Verdict, Zone

SMARTHOST = "filter.gateway.example"
DATE = "Fri, 01 Dec 2023 11:30:0{}"


def chain(*hops: tuple[str, str, str], spf: bool = True, extra: bytes = b"") -> bytes:
    """A header block from hops written as (client name, client address, receiver),
    topmost first; with ``spf`` a Received-SPF names the topmost client address."""
    lines = []
    if spf:
        lines.append(f"Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip={hops[0][1]}; envelope-from=a@mydomain.example")
    n = len(hops)
    for k, (name, ip, by) in enumerate(hops):
        lines.append(f"Received: from {name} ({name} [{ip}]) by {by} (Postfix) with ESMTPS id {n - k}; {DATE.format(n - k)} +0000")
    return ("\n".join(lines) + "\n").encode() + extra + b"From: a@mydomain.example\nDate: Fri, 01 Dec 2023 11:30:00 +0000\n"


def run(data: bytes, smarthost: str | None = SMARTHOST):
    return analyze_bytes(data, Options(smarthosts=(smarthost,) if smarthost else ()))


def messages(a, code: str) -> list[str]:
    return [f.message for f in a.findings if f.code == code]


def finding(a, code: str):
    return next(f for f in a.findings if f.code == code)


MAILBOX = ("localhost", "203.0.113.45", "DAG1EX2.indiv4.local")
TO_SMARTHOST = ("DAG1EX2.indiv4.local", "192.0.2.61", SMARTHOST)


def test_border_sender_on_the_platform_is_bypassed() -> None:
    a = run(chain(("2.mo512.mail-out.ovh.net", "192.0.2.181", "mx.recipient.example"), ("ex4.mail.ovh.net", "10.1.1.1", "mo512.mail-out.ovh.net"), MAILBOX))
    assert a.verdict == Verdict.BYPASSED
    assert messages(a, "border.from-platform") == ["2.mo512.mail-out.ovh.net [192.0.2.181] handed the message to the recipient, and it is a platform server (pattern *.mail-out.ovh.net)."]
    assert finding(a, "border.from-platform").headers == (1,)
    assert messages(a, "verdict.bypassed")[0].startswith("The message left through the platform's own outbound (2.mo512.mail-out.ovh.net [192.0.2.181]), not through the send connector.")
    assert messages(a, "route.platform-hop") == [
        "Received #1 was written by mo512.mail-out.ovh.net, a platform server (pattern *.mail-out.ovh.net).",
        "Received #2 was written by DAG1EX2.indiv4.local, a platform server (pattern *.local).",
    ]
    assert finding(a, "route.platform-hop").headers == (2,)
    assert "route.platform-after-smarthost" not in [f.code for f in a.findings]


def test_border_sender_of_the_smarthost_is_via_connector() -> None:
    a = run(chain(("filter.gateway.example", "198.51.100.90", "mx.recipient.example"), TO_SMARTHOST, MAILBOX))
    assert a.verdict == Verdict.VIA_CONNECTOR
    assert messages(a, "border.from-smarthost") == ["filter.gateway.example [198.51.100.90] handed the message to the recipient, and it belongs to the smarthost (filter.gateway.example matches filter.gateway.example)."]
    assert messages(a, "verdict.via-connector") == ["The message left through the send connector's smarthost: filter.gateway.example [198.51.100.90], a smarthost host, handed it to the recipient."]
    assert finding(a, "verdict.via-connector").headers == (1,)
    assert finding(a, "border.from-smarthost").headers == (1,)
    assert a.findings[0].code == "verdict.via-connector"


def test_a_smarthost_hop_with_nothing_from_the_platform_after_it_is_via_connector() -> None:
    a = run(chain(("out-7.pool.example", "198.51.100.71", "mx.recipient.example"), ("filter.gateway.example", "10.2.0.15", "out-7.pool.example"), TO_SMARTHOST, MAILBOX))
    assert a.verdict == Verdict.VIA_CONNECTOR
    assert messages(a, "verdict.via-connector") == ["The message left through the send connector's smarthost: a smarthost hop is on the sending side and nothing from the platform follows it."]
    assert messages(a, "route.smarthost-hop") == ["Received #2 was written by filter.gateway.example, which matches the smarthost (filter.gateway.example matches filter.gateway.example)."]
    assert finding(a, "route.smarthost-hop").headers == (3,)
    assert messages(a, "border.from-unknown") == ["out-7.pool.example [198.51.100.71] handed the message to the recipient, and it matches neither the smarthost nor the platform. Give the provider's egress host or network with --smarthost if it is theirs."]


def test_the_platform_after_the_smarthost_is_bypassed_even_behind_an_unknown_border() -> None:
    a = run(chain(
        ("out.signature-service.example", "198.51.100.140", "mail.recipient.example"),
        ("2.mo512.mail-out.ovh.net", "192.0.2.181", "out.signature-service.example"),
        ("filter.gateway.example", "198.51.100.90", "mo512.mail-out.ovh.net"),
        TO_SMARTHOST, MAILBOX,
    ))
    assert a.verdict == Verdict.BYPASSED
    assert messages(a, "route.platform-after-smarthost") == ["The platform handled the message again (Received #2) after the smarthost: the connector did not hand it to the recipient itself."]
    assert finding(a, "route.platform-after-smarthost").headers == (3,)
    # no border sender on the platform: the verdict names the border's sender all the same
    assert messages(a, "verdict.bypassed")[0].startswith("The message left through the platform's own outbound (out.signature-service.example [198.51.100.140]),")


def test_the_platform_only_before_the_smarthost_is_not_bypassed() -> None:
    a = run(chain(("out-7.pool.example", "198.51.100.71", "mx.recipient.example"), TO_SMARTHOST, MAILBOX))
    assert a.verdict == Verdict.VIA_CONNECTOR
    assert "route.platform-after-smarthost" not in [f.code for f in a.findings]


def test_without_smarthost_only_the_platform_route_is_proven() -> None:
    a = run(chain(("out-7.pool.example", "198.51.100.71", "mx.recipient.example"), TO_SMARTHOST, MAILBOX), smarthost=None)
    assert a.verdict == Verdict.INCONCLUSIVE
    assert messages(a, "route.no-smarthost-given") == ["No smarthost was given (--smarthost), so a route through a send connector cannot be proven; only a route through the platform can be."]
    assert messages(a, "border.from-unknown") == ["out-7.pool.example [198.51.100.71] handed the message to the recipient, and it matches neither the smarthost nor the platform."]
    assert messages(a, "verdict.inconclusive") == ["No route can be proven: out-7.pool.example [198.51.100.71] handed it to the recipient; give the connector's smarthost with --smarthost to prove the route."]
    b = run(chain(("2.mo512.mail-out.ovh.net", "192.0.2.181", "mx.recipient.example"), MAILBOX), smarthost=None)
    assert b.verdict == Verdict.BYPASSED
    assert "route.no-smarthost-given" in [f.code for f in b.findings]
    c = run(chain(("out-7.pool.example", "198.51.100.71", "mx.recipient.example"), MAILBOX))
    assert "route.no-smarthost-given" not in [f.code for f in c.findings]


def test_an_unknown_border_and_no_smarthost_hop_is_inconclusive() -> None:
    a = run(chain(("out-7.pool.example", "198.51.100.71", "mx.recipient.example"), ("client.example", "198.51.100.5", "out-7.pool.example")))
    assert a.verdict == Verdict.INCONCLUSIVE
    assert messages(a, "verdict.inconclusive") == ["No route can be proven: out-7.pool.example [198.51.100.71] handed it to the recipient and matches neither the smarthost nor the platform, and no smarthost hop is on the sending side."]
    assert finding(a, "verdict.inconclusive").headers == (1,)


def test_no_border_is_inconclusive_and_says_why() -> None:
    a = run(chain(("out-7.pool.example", "198.51.100.71", "mx.recipient.example"), TO_SMARTHOST, spf=False))
    assert a.border is None and a.verdict == Verdict.INCONCLUSIVE
    assert messages(a, "verdict.inconclusive") == ["No route can be proven: the recipient's border hop cannot be located (no Authentication-Results or Received-SPF from the recipient)."]
    assert finding(a, "verdict.inconclusive").headers == ()
    assert messages(a, "border.not-found") == [
        "No Authentication-Results authserv-id or Received-SPF client-ip locates the recipient's border. The topmost external client address suggests "
        "out-7.pool.example [198.51.100.71] handing it to mx.recipient.example (Received #0), but nothing confirms it. Give the recipient's authserv-id with --trusted-authserv if it is known."
    ]
    # even a smarthost hop proves nothing without a border
    assert "route.smarthost-hop" in [f.code for f in a.findings]
    b = run(chain(("filter.local", "10.0.0.9", "mx.recipient.example"), spf=False))
    assert messages(b, "border.not-found") == ["No Authentication-Results authserv-id or Received-SPF client-ip locates the recipient's border. No hop has an external client address either. Give the recipient's authserv-id with --trusted-authserv if it is known."]
    c = run(b"From: a@mydomain.example\n")
    assert c.verdict == Verdict.INCONCLUSIVE and "border.not-found" not in [f.code for f in c.findings]


def test_the_border_found_finding_names_the_receiver() -> None:
    a = run(chain(("filter.gateway.example", "198.51.100.90", "mx.recipient.example"), TO_SMARTHOST))
    assert messages(a, "border.found") == ["The recipient's border is Received #0: mx.recipient.example received the message from filter.gateway.example [198.51.100.90] (evidence: Received-SPF client-ip 198.51.100.90)."]
    assert finding(a, "border.found").headers == (0, 1)
    unnamed = (
        b"Received-SPF: pass client-ip=198.51.100.90; envelope-from=a@mydomain.example\n"
        b"Received: from filter.gateway.example (filter.gateway.example [198.51.100.90]) with ESMTPS id 2; Fri, 01 Dec 2023 11:30:02 +0000\n"
        b"From: a@mydomain.example\n"
    )
    b = run(unnamed)
    assert b.border is not None and b.border.receiver is None
    assert messages(b, "border.found") == ["The recipient's border is Received #0: an unnamed host received the message from filter.gateway.example [198.51.100.90] (evidence: Received-SPF client-ip 198.51.100.90)."]


def test_sender_based_routing_mark() -> None:
    mark = b"X-Mailer: test\nX-MCLM-SBR-Processed:  True \n"
    a = run(chain(("filter.gateway.example", "198.51.100.90", "mx.recipient.example"), TO_SMARTHOST, extra=mark))
    assert messages(a, "route.sbr-processed") == ["The platform marked the message as handled by sender-based routing (x-mclm-sbr-processed: true), the mechanism behind send connectors."]
    assert finding(a, "route.sbr-processed").headers == (4,)
    b = run(chain(("filter.gateway.example", "198.51.100.90", "mx.recipient.example"), TO_SMARTHOST, extra=b"x-mclm-sbr-processed: false\n"))
    assert "route.sbr-processed" not in [f.code for f in b.findings]
    c = run(chain(("filter.gateway.example", "198.51.100.90", "mx.recipient.example"), TO_SMARTHOST, extra=b"X-Note: x-mclm-sbr-processed: true\n"))
    assert "route.sbr-processed" not in [f.code for f in c.findings]


# --- the helpers, on hops from an analysis -------------------------------------------


def _hops(*receivers: str):
    hops = [(f"h{k}.example", f"198.51.100.{k + 1}", by) for k, by in enumerate(receivers)]
    return run(chain(*hops, spf=False))


def test_sending_side_is_every_hop_below_the_border() -> None:
    a = run(chain(("2.mo512.mail-out.ovh.net", "192.0.2.181", "mx.recipient.example"), ("ex4.mail.ovh.net", "10.1.1.1", "mo512.mail-out.ovh.net"), MAILBOX))
    assert [h.index for h in sending_side(list(a.hops), a.border)] == [1, 2]
    assert [h.index for h in sending_side(list(a.hops), None)] == [1, 2]  # the recipient's zone never counts
    b = _hops("mx.recipient.example", "mo512.mail-out.ovh.net")
    assert b.border is None
    assert [h.index for h in sending_side(list(b.hops), None)] == [0, 1]


def test_platform_after_smarthost_needs_a_platform_hop_above_every_smarthost_hop() -> None:
    def first_pf(*receivers: str):
        a = _hops(*receivers)
        return platform_after_smarthost(sending_side(list(a.hops), None))

    pf, sm, other = "mo512.mail-out.ovh.net", SMARTHOST, "mx.other.example"
    assert first_pf(other, pf, sm) == 1
    assert first_pf(pf, sm, pf) == 0
    assert first_pf(other, sm, pf) is None
    assert first_pf(sm, pf, sm) is None  # the smarthost handled it last
    assert first_pf(pf, other) is None  # no smarthost hop
    assert first_pf(sm, other) is None  # no platform hop
    assert first_pf(other, pf, other, sm) == 1
    z = _hops(other, pf, sm)
    assert [h.zone for h in z.hops] == [Zone.UNKNOWN, Zone.PLATFORM, Zone.SMARTHOST]
