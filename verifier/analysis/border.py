"""Where the recipient's side begins: the border hop, the Received header written by
the recipient's first server, and the evidence that locates it.

Strongest evidence first:

1. an authserv-id the caller trusts (``--trusted-authserv``);
2. otherwise the topmost piece of independent evidence of either kind: a
   Received-SPF ``client-ip`` (or a client address an Authentication-Results
   header records) equal to a hop's client address, or an Authentication-Results
   authserv-id equal to a hop's receiving host. Topmost, because a relay on the
   sending side may check SPF or DKIM itself and say so lower down. When the
   topmost is an authserv-id and an SPF address names that same server's client,
   the SPF hop is the border;
3. failing all of those, the topmost hop whose client address is not internal
   (loopback, RFC 1918, ...): only a guess, reported and never used as proof.

From a hop found by an authserv-id the border moves down through internal
hand-offs (an internal client address whose name is the receiving host of the
hop below, or an internal client address handing the message back to the server that
received it just below: a content filter re-injecting it), so a recipient's own filters
are not taken for its border.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.analysis.hosts import Match, ip_or_none, is_internal_ip, same_org
from verifier.model import AuthResults, Headers, Received, SpfResult, Zone
from verifier.parsers._construct import positional_constructor

# Border evidence is looked for in at most this many SPF and Authentication-Results
# headers (topmost first), so hostile input with thousands of them stays linear.
MAX_EVIDENCE_HEADERS = 32


@dataclass(frozen=True, slots=True)
class Border:
    index: int
    header_index: int
    receiver: str | None
    sender_host: str | None
    sender_rdns: str | None
    sender_ip: str | None
    sender_zone: Zone
    sender_match: Match | None
    evidence: tuple[str, ...]
    evidence_headers: tuple[int, ...]


# Border(...) and BorderSearch(...) with every field given in order, without the frozen
# dataclasses' keyword __init__: the same objects, about half the cost (parsers/_construct.py).
new_border = positional_constructor(Border)


@dataclass(frozen=True, slots=True)
class BorderSearch:
    """What the border search found: a hop, the evidence naming it, and whether that
    evidence is independent proof (``strong``) or only the topmost external address."""

    hop: int  # index among Received headers, 0 = topmost
    evidence: tuple[str, ...]
    evidence_headers: tuple[int, ...]
    strong: bool


_new_search = positional_constructor(BorderSearch)


def ar_client_ips(ar: AuthResults, spf: list[SpfResult]) -> list[str]:
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


def locate_border(headers: Headers, trusted_ids: set[str], spf: list[SpfResult]) -> BorderSearch | None:
    """Find the border hop (see the module documentation), or None when no hop qualifies."""
    rcv = headers.received
    if not rcv:
        return None
    by_ip: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for k, r in enumerate(rcv):
        if r.from_ip:
            by_ip.setdefault(r.from_ip.lower(), []).append(k)
        if r.by_host:
            by_name.setdefault(r.by_host.lower().rstrip("."), []).append(k)

    def ar_hop(ar: AuthResults) -> int | None:
        aid = (ar.authserv_id or "").lower().rstrip(".")
        hit = _nearest(by_name.get(aid, []), rcv, ar.header_index)
        if hit is None:  # an authserv-id naming the domain of the receiving hosts
            hit = _nearest([i for n, ids in by_name.items() if n.endswith("." + aid) for i in ids], rcv, ar.header_index)
        return hit

    ars = [ar for ar in headers.auth_results if ar.kind == "authentication-results" and ar.authserv_id][:MAX_EVIDENCE_HEADERS]
    # 1. authserv-ids the caller trusts
    if trusted_ids:
        for ar in ars:
            if (ar.authserv_id or "").lower() in trusted_ids:
                i = ar_hop(ar)
                if i is None:  # it names no hop: the first Received below it is the border
                    below = [j for j, r in enumerate(rcv) if r.header_index > ar.header_index]
                    i = below[0] if below else None
                if i is not None:
                    return descend(rcv, i, ["trusted authserv-id " + (ar.authserv_id or "")], [ar.header_index])
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
        for ip in ar_client_ips(ar, spf):
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
            return _new_search(hop, tuple(texts), tuple(refs), True)
        return descend(rcv, hop, texts, refs)
    # 3. weak: the topmost hop whose client address is external (a guess, never proof)
    for i, r in enumerate(rcv):
        if r.from_ip and not is_internal_ip(r.from_ip):
            return _new_search(i, ("first external client address from the top (no authentication header confirms it)",), (), False)
    return None


def _local_handoff(r: Received) -> bool:
    """A hand-off inside one site: an internal client address, or no address at all and a
    client named like the receiver (LMTP or a content filter on the same host)."""
    if r.from_ip:
        return is_internal_ip(r.from_ip)
    by = (r.by_host or "").lower()
    names = [n.lower() for n in (r.from_host, r.from_rdns) if n]
    return not names or (bool(by) and any(n == by or same_org(n, by) for n in names))


def descend(rcv: tuple[Received, ...], i: int, evidence: list[str], ev_headers: list[int]) -> BorderSearch:
    """Move down from hop ``i`` through the recipient's internal hand-offs."""
    while i + 1 < len(rcv):
        r, below = rcv[i], rcv[i + 1]
        names = {n.lower() for n in (r.from_host, r.from_rdns) if n}
        below_by = (below.by_host or "").lower()
        if not (_local_handoff(r) and below_by):
            break
        if not names or below_by in names or any(same_org(n, below_by) for n in names):
            i += 1
            evidence = evidence + [f"internal hand-off from {below.by_host}"]
            continue
        if r.from_ip and below_by.rstrip(".") == (r.by_host or "").lower().rstrip("."):
            # The same server handed the message to itself again from an internal address:
            # a content filter re-injecting it ("from localhost [127.0.0.1] by mx" above
            # "from the sender by mx").
            i += 1
            evidence = evidence + [f"re-injection into {below.by_host} from {r.from_ip}"]
            continue
        break
    return _new_search(i, tuple(evidence), tuple(ev_headers), True)


def guess_text(rcv: tuple[Received, ...], hop: int) -> str:
    """The weak border guess, in words (reported, never used as proof)."""
    r = rcv[hop]
    return f"{r.from_rdns or r.from_host or 'an unnamed host'} [{r.from_ip}] handing it to {r.by_host or 'an unnamed host'} (Received #{hop})"
