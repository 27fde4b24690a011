"""From parsed headers to a verdict: hops, delays, zones, the border, authentication.

Pure: no I/O, no clock. ``analyze(headers, options)`` is the whole engine;
``analyze_bytes`` adds the parsing step in front of it.

How the border is located (the Received header written by the recipient's
first server), strongest evidence first:

1. an authserv-id the caller trusts (``--trusted-authserv``);
2. the ``client-ip`` of a Received-SPF header: SPF is evaluated on the
   connecting address at the border, so the hop below that header whose
   client address equals it is the border (the topmost such header is used,
   so that a relay on the sending side which checks SPF itself cannot pose as
   the recipient);
3. the authserv-id of an Authentication-Results header equal to the
   receiving host of a hop below it;
4. failing all of those, the topmost hop whose client address is not
   internal (loopback, RFC 1918, ...), labelled as weak evidence.

From the chosen hop the border moves down through internal hand-offs (an
internal client address whose name is the receiving host of the hop below),
so a recipient's own filters are not taken for its border.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.analysis import findings as F
from verifier.analysis.hosts import (
    DEFAULT_PLATFORM_PATTERNS,
    HostSet,
    Match,
    host_set,
    ip_or_none,
    is_internal_ip,
    org_domain,
    same_org,
)
from verifier.model import AuthResults, Headers, MethodResult, Received, SpfResult

VERDICT_VIA_CONNECTOR = "via-connector"
VERDICT_BYPASSED = "bypassed"
VERDICT_INCONCLUSIVE = "inconclusive"
VERDICT_NOT_DELIVERED = "not-delivered"

_SBR_RE = re.compile(r"^x-mclm-sbr-processed[ \t]*:", re.I | re.M)

ZONE_PLATFORM = "platform"
ZONE_SMARTHOST = "smarthost"
ZONE_RECIPIENT = "recipient"
ZONE_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Options:
    smarthosts: tuple[str, ...] = ()  # names, globs, IPs or networks of the connector's smarthost
    platform: tuple[str, ...] = DEFAULT_PLATFORM_PATTERNS
    trusted_authserv_ids: tuple[str, ...] = ()
    long_delay_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Hop:
    index: int  # position among Received headers, 0 = topmost
    received: Received
    zone: str
    delay_seconds: float | None
    zone_match: Match | None = None


@dataclass(frozen=True, slots=True)
class Border:
    index: int
    header_index: int
    receiver: str | None
    sender_host: str | None
    sender_rdns: str | None
    sender_ip: str | None
    sender_zone: str
    sender_match: Match | None
    evidence: tuple[str, ...]
    evidence_headers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Alignment:
    from_domain: str | None
    spf_domains: tuple[str, ...]  # domains SPF passed for (trusted results)
    dkim_domains: tuple[str, ...]  # domains DKIM passed for (trusted results)
    spf_aligned: bool
    dkim_aligned: bool
    based_on: str  # "results" (recipient's verdicts) | "identifiers" (no results: Return-Path, d=)


@dataclass(frozen=True, slots=True)
class Analysis:
    headers: Headers
    options: Options
    hops: tuple[Hop, ...]
    border: Border | None
    verdict: str
    findings: tuple[F.Finding, ...]
    spf: tuple[SpfResult, ...]
    alignment: Alignment | None
    trusted_headers: frozenset[int] | None = None  # SPF/AR headers the recipient's side wrote
    total_seconds: float | None = None

    def trusted(self, header_index: int) -> bool | None:
        """Was this header written by the recipient's side? None when the border is unknown."""
        if self.trusted_headers is None:
            return None
        return header_index in self.trusted_headers

    @property
    def authserv_ids(self) -> tuple[str, ...]:
        seen: list[str] = []
        for ar in self.headers.auth_results:
            if ar.authserv_id and ar.authserv_id not in seen:
                seen.append(ar.authserv_id)
        return tuple(seen)

    def method_results(self, method: str) -> list[tuple[AuthResults, MethodResult]]:
        return list(_results(self.headers, method))


def analyze_bytes(data: bytes | str, options: Options | None = None) -> Analysis:
    from verifier.parsers import parse_headers

    return analyze(parse_headers(data), options or Options())


def analyze(headers: Headers, options: Options | None = None) -> Analysis:
    options = options or Options()
    smarthost = host_set(tuple(options.smarthosts), True)
    platform = host_set(tuple(options.platform))
    trusted_ids = {a.lower() for a in options.trusted_authserv_ids}
    out: list[F.Finding] = []

    rcv = headers.received
    _input_findings(headers, out)

    spf = _spf_results(headers)
    border = _locate_border(headers, trusted_ids, spf)
    guess: str | None = None
    if border is not None and not border[3]:
        # Only a guess (the topmost external client address): reported, never used as proof.
        r = rcv[border[0]]
        guess = f"{r.from_rdns or r.from_host or 'an unnamed host'} [{r.from_ip}] handing it to {r.by_host or 'an unnamed host'} (Received #{border[0]})"
        border = None
    b: Border | None = None
    if border is not None:
        idx, evidence, ev_headers, _ = border
        b_rcv = rcv[idx]
        s_zone, s_match = _classify_sender(b_rcv, smarthost, platform)
        b = Border(
            index=idx,
            header_index=b_rcv.header_index,
            receiver=b_rcv.by_host,
            sender_host=b_rcv.from_host,
            sender_rdns=b_rcv.from_rdns,
            sender_ip=b_rcv.from_ip,
            sender_zone=s_zone,
            sender_match=s_match,
            evidence=tuple(evidence),
            evidence_headers=tuple(ev_headers),
        )
    hops = _zones_and_delays(headers, b.index if b else None, smarthost, platform)
    total = _chain_findings(headers, hops, options, out)

    verdict = _verdict(headers, hops, b, smarthost, platform, out, guess)
    trusted = _trusted_headers(headers, b, spf)
    alignment = _auth_findings(headers, spf, trusted, b, smarthost, out)
    _arc_findings(headers, out)
    out.append(_verdict_finding(verdict, b, smarthost, hops))

    return Analysis(
        headers=headers,
        options=options,
        hops=tuple(hops),
        border=b,
        verdict=verdict,
        findings=tuple(_sorted_findings(out)),
        spf=tuple(spf),
        alignment=alignment,
        trusted_headers=trusted,
        total_seconds=total,
    )


# --------------------------------------------------------------------------- input


def _input_findings(headers: Headers, out: list[F.Finding]) -> None:
    repairs = [d for d in headers.block.defects if d.code.startswith("input.")]
    if repairs:
        names = " ".join(d.message if d.message.endswith(".") else d.message + "." for d in repairs[:6])
        more = f" ({len(repairs) - 6} more repairs not listed.)" if len(repairs) > 6 else ""
        out.append(F.make("input.repaired", f"Repaired before reading: {names}{more}"))
    if not headers.block.fields:
        out.append(F.make("input.no-headers", "No header field could be read from the input."))


# --------------------------------------------------------------------------- border


# Border evidence is looked for in at most this many SPF and Authentication-Results
# headers (topmost first), so hostile input with thousands of them stays linear.
MAX_EVIDENCE_HEADERS = 32


def _ar_client_ips(ar: AuthResults, spf: list[SpfResult]) -> list[str]:
    """The client addresses one Authentication-Results header records: its spf results'
    (``spf``, already read from every header) and its iprev / remote-ip properties."""
    ips = [x.client_ip for x in spf if x.header_index == ar.header_index and x.source == "authentication-results" and x.client_ip]
    for r in ar.results:
        for key in ("smtp.remote-ip", "policy.iprev", "smtp.client-ip"):
            v = r.properties.get(key)
            if v and ip_or_none(v.strip("[]")) is not None:
                ips.append(v.strip("[]"))
    return list(dict.fromkeys(ips))


def _nearest(candidates: list[int], rcv: tuple[Received, ...], header_index: int) -> int | None:
    """The hop nearest to a header: MTAs write their own results just above (Postfix,
    OpenDKIM) or just below (Gmail, Sendmail milters, Exchange Online) their Received."""
    if not candidates:
        return None
    return min(candidates, key=lambda i: (abs(rcv[i].header_index - header_index), i))


def _locate_border(headers: Headers, trusted_ids: set[str], spf: list[SpfResult]):
    """Return (hop index, evidence, evidence header indexes, strong) or None."""
    rcv = headers.received
    if not rcv:
        return None
    by_ip: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(rcv):
        if r.from_ip:
            by_ip.setdefault(r.from_ip.lower(), []).append(i)
        if r.by_host:
            by_name.setdefault(r.by_host.lower().rstrip("."), []).append(i)

    def ar_hop(ar: AuthResults) -> int | None:
        aid = ar.authserv_id.lower().rstrip(".")
        hit = _nearest(by_name.get(aid, []), rcv, ar.header_index)
        if hit is None:  # an authserv-id naming the domain of the receiving hosts
            hit = _nearest([i for n, ids in by_name.items() if n.endswith("." + aid) for i in ids], rcv, ar.header_index)
        return hit

    ars = [ar for ar in headers.auth_results if ar.kind == "authentication-results" and ar.authserv_id][:MAX_EVIDENCE_HEADERS]
    # 1. authserv-ids the caller trusts
    if trusted_ids:
        for ar in ars:
            if ar.authserv_id.lower() in trusted_ids:
                i = ar_hop(ar)
                if i is None:  # it names no hop: the first Received below it is the border
                    below = [j for j, r in enumerate(rcv) if r.header_index > ar.header_index]
                    i = below[0] if below else None
                if i is not None:
                    return _descend(rcv, i, ["trusted authserv-id " + ar.authserv_id], [ar.header_index], True)
    # 2. the topmost piece of evidence of either kind: a Received-SPF client-ip equal to a
    #    hop's client address, or an authserv-id equal to a hop's receiving host. Topmost,
    #    because a relay on the sending side may check SPF or DKIM itself and say so lower down.
    evidence: list[tuple[int, int, str, bool]] = []  # (header index, hop, text, is_spf)
    for s in headers.spf[:MAX_EVIDENCE_HEADERS]:
        if s.source == "received-spf" and s.client_ip:
            i = _nearest(by_ip.get(s.client_ip.lower(), []), rcv, s.header_index)
            if i is not None:
                evidence.append((s.header_index, i, f"Received-SPF client-ip {s.client_ip}", True))
    for ar in ars:
        i = ar_hop(ar)
        if i is not None:
            evidence.append((ar.header_index, i, f"Authentication-Results authserv-id {ar.authserv_id}", False))
    # The client address an Authentication-Results header records (spf comment, iprev,
    # smtp.remote-ip) locates the border as precisely as Received-SPF does.
    for ar in [a for a in headers.auth_results if a.kind == "authentication-results"][:MAX_EVIDENCE_HEADERS]:
        for ip in _ar_client_ips(ar, spf):
            i = _nearest(by_ip.get(ip.lower(), []), rcv, ar.header_index)
            if i is not None:
                evidence.append((ar.header_index, i, f"Authentication-Results client address {ip}", True))
                break
    if evidence:
        evidence.sort()
        top_header, hop, text, is_spf = evidence[0]
        if not is_spf:
            # An authserv-id names a server, not a hop: when SPF names that server's client,
            # the SPF hop is the border (the server may also have written a local hand-off).
            server = (rcv[hop].by_host or "").lower()
            for h, i, t, spf_kind in evidence[1:]:
                if spf_kind and server and (rcv[i].by_host or "").lower() == server:
                    top_header, hop, text, is_spf = h, i, t, True
                    break
        texts, refs = [text], [top_header]
        server = (rcv[hop].by_host or "").lower()
        for h, i, t, spf_kind in evidence:
            same = i == hop or (not spf_kind and server and (rcv[i].by_host or "").lower() == server)
            if same and t not in texts:
                texts.append(t)
                refs.append(h)
        if is_spf:
            # SPF names the very client the border saw: no descent needed.
            return (hop, texts, refs, True)
        return _descend(rcv, hop, texts, refs, True)
    # 3. weak: the topmost hop whose client address is external (a guess, never proof)
    for i, r in enumerate(rcv):
        if r.from_ip and not is_internal_ip(r.from_ip):
            return (i, ["first external client address from the top (no authentication header confirms it)"], [], False)
    return None


def _local_handoff(r: Received) -> bool:
    """A hand-off inside one site: an internal client address, or no address at all and a
    client named like the receiver (LMTP or a content filter on the same host)."""
    if r.from_ip:
        return is_internal_ip(r.from_ip)
    by = (r.by_host or "").lower()
    names = [n.lower() for n in (r.from_host, r.from_rdns) if n]
    return not names or (bool(by) and any(n == by or same_org(n, by) for n in names))


def _descend(rcv: tuple[Received, ...], i: int, evidence: list[str], ev_headers: list[int], strong: bool):
    """Move down through the recipient's internal hand-offs."""
    while i + 1 < len(rcv):
        r, below = rcv[i], rcv[i + 1]
        names = {n.lower() for n in (r.from_host, r.from_rdns) if n}
        below_by = (below.by_host or "").lower()
        if _local_handoff(r) and below_by and (not names or below_by in names or any(same_org(n, below_by) for n in names)):
            i += 1
            evidence = evidence + [f"internal hand-off from {below.by_host}"]
            continue
        break
    return (i, evidence, ev_headers, strong)


def _classify_sender(r: Received, smarthost: HostSet, platform: HostSet) -> tuple[str, Match | None]:
    names = (r.from_rdns, r.from_host)
    s = smarthost.match_any(ip=r.from_ip, names=names) if smarthost else None
    p = platform.match_any(ip=r.from_ip, names=names) if platform else None
    if s and p:
        if s.strong and not p.strong:
            return ZONE_SMARTHOST, s
        if p.strong and not s.strong:
            return ZONE_PLATFORM, p
        return ZONE_UNKNOWN, None  # matches both equally: cannot tell
    if s:
        return ZONE_SMARTHOST, s
    if p:
        return ZONE_PLATFORM, p
    return ZONE_UNKNOWN, None


def _classify_receiver(r: Received, smarthost: HostSet, platform: HostSet) -> tuple[str, Match | None]:
    s = smarthost.match_name(r.by_host) if smarthost else None
    p = platform.match_name(r.by_host) if platform else None
    if s and p:
        if s.strong and not p.strong:
            return ZONE_SMARTHOST, s
        if p.strong and not s.strong:
            return ZONE_PLATFORM, p
        return ZONE_UNKNOWN, None
    if s:
        return ZONE_SMARTHOST, s
    if p:
        return ZONE_PLATFORM, p
    return ZONE_UNKNOWN, None


# --------------------------------------------------------------------------- chain


def _zones_and_delays(headers: Headers, border_idx: int | None, smarthost: HostSet, platform: HostSet) -> list[Hop]:
    rcv = headers.received
    n = len(rcv)
    # The timestamp just below each hop: the next lower hop's (unknown when that hop's
    # date is unreadable: a delay is never stretched over two hops), for the bottom hop
    # the Date header.
    base = headers.date.utc if headers.date and headers.date.utc else None
    below_ts = [None] * n
    for i in range(n):
        if i + 1 < n:
            below_ts[i] = rcv[i + 1].date.utc if rcv[i + 1].date else None
        else:
            below_ts[i] = base
    hops = []
    for i, r in enumerate(rcv):
        if border_idx is not None and i <= border_idx:
            zone, m = ZONE_RECIPIENT, None
        else:
            zone, m = _classify_receiver(r, smarthost, platform)
        ts = r.date.utc if r.date else None
        delay = None
        if ts is not None and below_ts[i] is not None:
            d = (ts - below_ts[i]).total_seconds()
            delay = d if d >= 0 else None
        hops.append(Hop(i, r, zone, delay, m))
    return hops


def _chain_findings(headers: Headers, hops: list[Hop], options: Options, out: list[F.Finding]) -> float | None:
    rcv = headers.received
    if not rcv:
        out.append(F.make("chain.no-received", "The message carries no Received header, so its route cannot be traced."))
        return None
    for h in hops:
        r = h.received
        if not r.from_host and not r.by_host and not r.from_ip:
            out.append(F.make("chain.unparsed-hop", f"Received #{h.index} names neither the sending nor the receiving host; it is kept as written.", [r.header_index]))
        if r.from_ip and r.ip_valid is False:
            out.append(F.make("chain.invalid-ip", f"Received #{h.index} records the client address {r.from_ip}, which is not a valid IP address; it is shown as written.", [r.header_index]))
        if r.date is None or r.date.utc is None:
            what = f"'{r.date.raw}'" if r.date and r.date.raw else "no date"
            out.append(F.make("chain.date-unparsed", f"Received #{h.index} has {what} that cannot be read as a date, so the delays around it are unknown.", [r.header_index]))
    # clock skew and long delays, oldest first
    prev_ts, prev_label, prev_hdr = None, None, None
    if headers.date and headers.date.utc:
        date_field = headers.block.get("date")
        prev_ts, prev_label, prev_hdr = headers.date.utc, "the Date header", date_field.index if date_field else None
    first_ts = prev_ts
    last_ts = None
    for h in reversed(hops):
        r = h.received
        ts = r.date.utc if r.date else None
        if ts is None:
            continue
        if first_ts is None:
            first_ts = ts
        last_ts = ts
        if prev_ts is not None:
            d = (ts - prev_ts).total_seconds()
            refs = [r.header_index] + ([prev_hdr] if prev_hdr is not None else [])
            if d < 0:
                out.append(F.make("chain.clock-skew", f"Received #{h.index} ({r.by_host or 'unknown host'}) is stamped {_dur(-d)} earlier than {prev_label}: one of the two clocks is wrong, so this delay is not shown.", refs))
            elif d > options.long_delay_seconds:
                out.append(F.make("chain.long-delay", f"The message spent {_dur(d)} before Received #{h.index} ({r.by_host or 'unknown host'}) took it, more than the {_dur(options.long_delay_seconds)} threshold.", refs))
        prev_ts, prev_label, prev_hdr = ts, f"Received #{h.index}", r.header_index
    total = None
    if first_ts is not None and last_ts is not None:
        total = (last_ts - first_ts).total_seconds()
        if total >= 0:
            start = "the Date header" if headers.date and headers.date.utc else "the oldest hop"
            out.append(F.make("chain.total-delay", f"The trip took {_dur(total)} from {start} to the last hop."))
        else:
            total = None
    return total


def _dur(seconds: float) -> str:
    s = abs(seconds)
    if s < 1:
        return f"{s:.2f} s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


# --------------------------------------------------------------------------- verdict


def _verdict(headers: Headers, hops: list[Hop], b: Border | None, smarthost: HostSet, platform: HostSet, out: list[F.Finding], guess: str | None = None) -> str:
    # Look in the text first: most messages have no such field, and scanning every field's
    # name for it costs more than the rest of the verdict.
    text = headers.block.text
    if (not text or _SBR_RE.search(text)) and any(f.lname == "x-mclm-sbr-processed" and f.value.strip().lower() == "true" for f in headers.block.fields):
        hdr = [f.index for f in headers.block.fields if f.lname == "x-mclm-sbr-processed"]
        out.append(F.make("route.sbr-processed", "The platform marked the message as handled by sender-based routing (x-mclm-sbr-processed: true), the mechanism behind send connectors.", hdr))
    if not smarthost:
        out.append(F.make("route.no-smarthost-given", "No smarthost was given (--smarthost), so a route through a send connector cannot be proven; only a route through the platform can be."))

    sending = [h for h in hops if h.zone in (ZONE_PLATFORM, ZONE_SMARTHOST, ZONE_UNKNOWN) and (b is None or h.index > b.index)]
    for h in sending:
        if h.zone == ZONE_SMARTHOST:
            out.append(F.make("route.smarthost-hop", f"Received #{h.index} was written by {h.received.by_host}, which matches the smarthost ({_match_text(h.zone_match)}).", [h.received.header_index]))
        elif h.zone == ZONE_PLATFORM:
            out.append(F.make("route.platform-hop", f"Received #{h.index} was written by {h.received.by_host}, a platform server (pattern {h.zone_match.pattern if h.zone_match else '?'}).", [h.received.header_index]))
    # chronological order: higher index is older
    sm_idx = [h.index for h in sending if h.zone == ZONE_SMARTHOST]
    pf_idx = [h.index for h in sending if h.zone == ZONE_PLATFORM]
    platform_after_smarthost = bool(sm_idx and pf_idx and min(pf_idx) < max(sm_idx) and min(pf_idx) < min(sm_idx))
    if platform_after_smarthost:
        first_pf = min(pf_idx)
        out.append(F.make("route.platform-after-smarthost", f"The platform handled the message again (Received #{first_pf}) after the smarthost: the connector did not hand it to the recipient itself.", [hops[first_pf].received.header_index]))

    if b is None:
        if headers.received:
            hint = f" The topmost external client address suggests {guess}, but nothing confirms it." if guess else " No hop has an external client address either."
            out.append(F.make("border.not-found", "No Authentication-Results authserv-id or Received-SPF client-ip locates the recipient's border." + hint + " Give the recipient's authserv-id with --trusted-authserv if it is known."))
        return VERDICT_INCONCLUSIVE

    who = _sender_text(b)
    ev = "; ".join(b.evidence)
    out.append(F.make("border.found", f"The recipient's border is Received #{b.index}: {b.receiver or 'an unnamed host'} received the message from {who} (evidence: {ev}).", [b.header_index, *b.evidence_headers]))
    if b.sender_zone == ZONE_SMARTHOST:
        out.append(F.make("border.from-smarthost", f"{who} handed the message to the recipient, and it belongs to the smarthost ({_match_text(b.sender_match)}).", [b.header_index]))
    elif b.sender_zone == ZONE_PLATFORM:
        out.append(F.make("border.from-platform", f"{who} handed the message to the recipient, and it is a platform server (pattern {b.sender_match.pattern if b.sender_match else '?'}).", [b.header_index]))
    else:
        hint = " Give the provider's egress host or network with --smarthost if it is theirs." if smarthost else ""
        out.append(F.make("border.from-unknown", f"{who} handed the message to the recipient, and it matches neither the smarthost nor the platform.{hint}", [b.header_index]))

    if b.sender_zone == ZONE_PLATFORM or platform_after_smarthost:
        return VERDICT_BYPASSED
    if not smarthost:
        return VERDICT_INCONCLUSIVE
    if b.sender_zone == ZONE_SMARTHOST:
        return VERDICT_VIA_CONNECTOR
    if sm_idx:
        return VERDICT_VIA_CONNECTOR
    return VERDICT_INCONCLUSIVE


def _sender_text(b: Border) -> str:
    name = b.sender_rdns or b.sender_host or "an unnamed host"
    return f"{name} [{b.sender_ip}]" if b.sender_ip else name


def _match_text(m: Match | None) -> str:
    if m is None:
        return "no pattern"
    if m.kind == "provider-domain":
        return f"same organisational domain as {m.pattern}"
    if m.kind == "ip":
        return f"address {m.value} in {m.pattern}"
    return f"{m.value} matches {m.pattern}"


def _verdict_finding(verdict: str, b: Border | None, smarthost: HostSet, hops: list[Hop]) -> F.Finding:
    refs = [b.header_index] if b else []
    if verdict == VERDICT_VIA_CONNECTOR:
        if b and b.sender_zone == ZONE_SMARTHOST:
            why = f"{_sender_text(b)}, a smarthost host, handed it to the recipient"
        else:
            why = "a smarthost hop is on the sending side and nothing from the platform follows it"
        return F.make("verdict.via-connector", f"The message left through the send connector's smarthost: {why}.", refs)
    if verdict == VERDICT_BYPASSED:
        who = _sender_text(b) if b else "a platform server"
        return F.make("verdict.bypassed", f"The message left through the platform's own outbound ({who}), not through the send connector. Check that the sender's account has the connector attached (sendConnectorId) and that the connector's state is ok.", refs)
    if b is None:
        why = "the recipient's border hop cannot be located (no Authentication-Results or Received-SPF from the recipient)"
    elif not smarthost:
        why = f"{_sender_text(b)} handed it to the recipient; give the connector's smarthost with --smarthost to prove the route"
    else:
        why = f"{_sender_text(b)} handed it to the recipient and matches neither the smarthost nor the platform, and no smarthost hop is on the sending side"
    return F.make("verdict.inconclusive", f"No route can be proven: {why}.", refs)


# --------------------------------------------------------------------------- authentication


def _spf_results(headers: Headers) -> list[SpfResult]:
    from verifier.parsers.auth import spf_results_from_ar

    out = list(headers.spf)
    for ar in headers.auth_results:
        if ar.kind == "authentication-results":
            out.extend(spf_results_from_ar(ar))
    out.sort(key=lambda s: s.header_index)
    return out


def _trusted_headers(headers: Headers, b: Border | None, spf: list[SpfResult]) -> frozenset[int] | None:
    """Which SPF and Authentication-Results headers the recipient's side wrote.

    Above the border's Received header: all of them. Between it and the next
    Received below (where Gmail, Sendmail milters and Exchange Online put their
    own results, and where a Postfix relay on the sending side puts *its*
    results): only those that name the border, by SPF client-ip or by
    authserv-id. Below that: none.
    """
    if b is None:
        return None
    rcv = headers.received
    top = b.header_index
    bottom = rcv[b.index + 1].header_index if b.index + 1 < len(rcv) else None
    border_ip = (rcv[b.index].from_ip or "").lower() or None
    border_by = (rcv[b.index].by_host or "").lower().rstrip(".") or None
    next_by = (rcv[b.index + 1].by_host or "").lower().rstrip(".") if bottom is not None else None
    ar_ips: dict[int, set[str]] = {}
    for x in spf:
        if x.source == "authentication-results" and x.client_ip:
            ar_ips.setdefault(x.header_index, set()).add(x.client_ip.lower())
    out: set[int] = set()

    def in_gap(i: int) -> bool:
        return i > top and (bottom is None or i < bottom)

    for ar in headers.auth_results:
        i = ar.header_index
        if i < top:
            out.add(i)
        elif in_gap(i):
            aid = (ar.authserv_id or "").lower().rstrip(".")
            if aid and border_by and (aid == border_by or border_by.endswith("." + aid)):
                out.add(i)
            elif aid and next_by and (aid == next_by or next_by.endswith("." + aid)):
                continue
            elif aid and border_by and same_org(aid, border_by):
                out.add(i)
            elif border_ip and border_ip in ar_ips.get(i, ()):
                out.add(i)
    for x in headers.spf:
        i = x.header_index
        if i < top or (in_gap(i) and border_ip and (x.client_ip or "").lower() == border_ip):
            out.add(i)
    return frozenset(out)


def _auth_findings(headers: Headers, spf: list[SpfResult], trusted_set: frozenset[int] | None, b: Border | None, smarthost: HostSet, out: list[F.Finding]) -> Alignment | None:
    def trusted(idx: int) -> bool:
        return trusted_set is None or idx in trusted_set

    untrusted = sorted({ar.header_index for ar in headers.auth_results if ar.kind == "authentication-results" and not trusted(ar.header_index)} | {s.header_index for s in headers.spf if not trusted(s.header_index)})
    if untrusted:
        out.append(F.make("auth.untrusted-results", f"{len(untrusted)} authentication header(s) sit below the recipient's border, so the sending side wrote them; they are ignored.", untrusted))
    lenient = [ar.header_index for ar in headers.auth_results if not ar.strict]
    if lenient:
        out.append(F.make("auth.lenient-parse", f"{len(lenient)} Authentication-Results header(s) do not follow RFC 8601 and were read leniently.", lenient))

    t_spf = [s for s in spf if trusted(s.header_index)]
    border_ip = b.sender_ip if b else None
    if not t_spf:
        out.append(F.make("spf.none-found", "The recipient's servers recorded no SPF result."))
    seen_spf = set()
    for s in t_spf:
        key = (s.result, s.domain, s.client_ip)
        if key in seen_spf:
            continue
        seen_spf.add(key)
        where = f" for client {s.client_ip}" if s.client_ip else ""
        if s.result == "pass":
            out.append(F.make("spf.pass", f"SPF passed for {s.domain or 'an unnamed domain'}{where} ({_src(s)}).", [s.header_index]))
            if s.client_ip and border_ip and s.client_ip.lower() == border_ip.lower() and b.sender_zone == ZONE_SMARTHOST:
                out.append(F.make("spf.pass-smarthost-ip", f"SPF passed for the smarthost's address {s.client_ip} that handed the message over.", [s.header_index]))
        else:
            out.append(F.make("spf.not-pass", f"SPF gave '{s.result}' for {s.domain or 'an unnamed domain'}{where} ({_src(s)}).", [s.header_index]))
        if s.client_ip and border_ip and s.client_ip.lower() != border_ip.lower() and s.source == "received-spf":
            out.append(F.make("spf.client-ip-mismatch", f"SPF was evaluated for {s.client_ip}, but the border hop recorded the client {border_ip}.", [s.header_index, b.header_index]))

    # DKIM
    sigs = headers.dkim_signatures
    from_dom = headers.from_.domain if headers.from_ else None
    if not sigs:
        out.append(F.make("dkim.not-signed", "The message carries no DKIM signature."))
    for sig in sigs:
        d = (sig.d or "").lower() or None
        if d and from_dom and same_org(d, from_dom):
            out.append(F.make("dkim.signed-by-sender-domain", f"A DKIM signature was made with d={d}, aligned with the From domain {from_dom}.", [sig.header_index]))
        elif d and smarthost and smarthost.match_name(d) is not None:
            out.append(F.make("dkim.signed-by-provider", f"A DKIM signature was made with d={d}, the smarthost provider's domain, not the sender's domain {from_dom or '(unknown)'}.", [sig.header_index]))
    dkim_pass: list[str] = []
    for ar, r in _results(headers, "dkim"):
        if not trusted(ar.header_index):
            continue
        d = _dkim_domain(r)
        if r.result == "pass":
            if d:
                dkim_pass.append(d)
            out.append(F.make("dkim.pass", f"{ar.authserv_id or 'The recipient'} verified a DKIM signature with d={d or '?'}.", [ar.header_index]))
        elif r.result in ("fail", "permerror", "temperror", "neutral", "policy"):
            reason = f" ({r.reason or r.comment})" if (r.reason or r.comment) else ""
            out.append(F.make("dkim.fail", f"{ar.authserv_id or 'The recipient'} could not verify the DKIM signature with d={d or '?'}: {r.result}{reason}.", [ar.header_index]))
    for ar, r in _results(headers, "dmarc"):
        if trusted(ar.header_index):
            hf = r.properties.get("header.from")
            out.append(F.make("dmarc.result", f"{ar.authserv_id or 'The recipient'} recorded DMARC {r.result} for {hf or from_dom or 'the From domain'}.", [ar.header_index]))

    # Alignment (relaxed: same organisational domain)
    if not from_dom:
        return None
    spf_pass = [s.domain for s in t_spf if s.result == "pass" and s.domain and s.identity != "helo"]
    has_results = bool(t_spf) or any(trusted(ar.header_index) for ar, _ in _results(headers, "dkim"))
    if has_results:
        spf_domains, dkim_domains, based_on = spf_pass, dkim_pass, "results"
    else:
        rp = headers.return_path.domain if headers.return_path else None
        spf_domains = [rp] if rp else []
        dkim_domains = [s.d.lower() for s in sigs if s.d]
        based_on = "identifiers"
    spf_al = any(same_org(x, from_dom) for x in spf_domains)
    dkim_al = any(same_org(x, from_dom) for x in dkim_domains)
    al = Alignment(from_dom, tuple(dict.fromkeys(spf_domains)), tuple(dict.fromkeys(dkim_domains)), spf_al, dkim_al, based_on)
    refs = [headers.from_.header_index] if headers.from_ else []
    if spf_al or dkim_al:
        how = " and ".join(x for x, ok in (("SPF", spf_al), ("DKIM", dkim_al)) if ok)
        out.append(F.make("dmarc.aligned", f"{how} {'passed' if based_on == 'results' else 'would pass'} for a domain aligned with the From domain {from_dom}, so DMARC can pass.", refs))
    else:
        spf_txt = ", ".join(spf_domains) or "none"
        dkim_txt = ", ".join(dkim_domains) or "none"
        lead = "Neither SPF nor DKIM passed for a domain aligned with" if based_on == "results" else "Neither the Return-Path nor any DKIM d= aligns with"
        out.append(F.make("dmarc.not-aligned", f"{lead} the From domain {from_dom} (SPF: {spf_txt}; DKIM: {dkim_txt}): DMARC fails wherever {org_domain(from_dom) or from_dom} publishes a policy. Fix: have the provider sign with d={from_dom} (custom DKIM) or use a bounce domain under {from_dom}.", refs))
    return al


def _results(headers: Headers, method: str):
    for ar in headers.auth_results:
        if ar.kind != "authentication-results":
            continue
        for r in ar.results:
            if r.method == method:
                yield ar, r


def _dkim_domain(r: MethodResult) -> str | None:
    d = r.properties.get("header.d")
    if d:
        return d.lower()
    i = r.properties.get("header.i")
    if i and "@" in i:
        return i.rsplit("@", 1)[1].lower() or None
    return None


def _src(s: SpfResult) -> str:
    if s.source == "received-spf":
        return "Received-SPF"
    return f"Authentication-Results of {s.authserv_id}" if s.authserv_id else "Authentication-Results"


# RFC 8617 section 4.2.1: an instance number is 1*2DIGIT, from 1 to 50.
ARC_MAX_INSTANCE = 50
_ARC_INSTANCE_RE = re.compile(r"[0-9]{1,2}")


def arc_instance(text: object) -> int | None:
    """The instance number an ARC header gives, or None unless it is 1 to 50.

    Read from the text without converting an arbitrary digit string, so neither a huge
    number nor a long one costs anything."""
    t = str(text).strip() if text is not None else ""
    if not _ARC_INSTANCE_RE.fullmatch(t):
        return None
    i = int(t)
    return i if 1 <= i <= ARC_MAX_INSTANCE else None


def _arc_findings(headers: Headers, out: list[F.Finding]) -> None:
    seals = headers.arc_seals
    amss = headers.arc_message_signatures
    aars = [ar for ar in headers.auth_results if ar.kind == "arc-authentication-results"]
    if not (seals or amss or aars):
        return
    by_i: dict[int, dict[str, int]] = {}
    problems: list[str] = []
    refs: list[int] = []

    def add(i_text, kind, idx):
        t = str(i_text).strip() if i_text is not None else ""
        if not t or not (t.isascii() and t.lstrip("-").isdigit()):
            problems.append(f"a {kind} without a valid instance i=")
            refs.append(idx)
            return
        i = arc_instance(t)
        if i is None:
            shown = t if len(t) <= 20 else t[:20] + "..."
            problems.append(f"a {kind} with instance i={shown}, outside 1 to {ARC_MAX_INSTANCE}")
            refs.append(idx)
            return
        slot = by_i.setdefault(i, {})
        if kind in slot:
            problems.append(f"two {kind} headers for i={i}")
            refs.append(idx)
        slot[kind] = idx

    for s in seals:
        add(s.i, "ARC-Seal", s.header_index)
    for s in amss:
        add(s.i, "ARC-Message-Signature", s.header_index)
    for a in aars:
        add(a.arc_instance, "ARC-Authentication-Results", a.header_index)
    if by_i:
        n = max(by_i)  # at most ARC_MAX_INSTANCE: arc_instance() admits nothing larger
        for i in range(1, n + 1):
            slot = by_i.get(i)
            if not slot:
                problems.append(f"no ARC set for i={i}")
                continue
            for kind in ("ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"):
                if kind not in slot:
                    problems.append(f"no {kind} for i={i}")
        cvs = {i: (s.tags.get("cv") or "").lower() for s in seals if (i := arc_instance(s.i)) is not None}
        for i, cv in sorted(cvs.items()):
            if cv == "fail":
                problems.append(f"the seal of i={i} says cv=fail")
            elif i == 1 and cv and cv != "none":
                problems.append(f"the seal of i=1 says cv={cv} instead of none")
            elif i > 1 and cv and cv != "pass":
                problems.append(f"the seal of i={i} says cv={cv}")
        last_cv = cvs.get(n)
        all_refs = sorted(v for slot in by_i.values() for v in slot.values())
        out.append(F.make("arc.chain", f"The message carries an ARC chain of {n} instance(s); the last seal says cv={last_cv or '?'}.", all_refs))
    if problems:
        out.append(F.make("arc.broken", "The ARC chain is malformed: " + "; ".join(problems[:5]) + ".", refs or [x for slot in by_i.values() for x in slot.values()]))


_SEV_ORDER = {F.ERROR: 0, F.WARNING: 1, F.INFO: 2}


def _sorted_findings(out: list[F.Finding]) -> list[F.Finding]:
    # stable: verdict first, then by severity, keeping discovery order within a severity
    return sorted(out, key=lambda f: (0 if f.code.startswith("verdict.") else 1, _SEV_ORDER.get(f.severity, 3)))
