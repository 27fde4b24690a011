"""Authentication: which SPF and Authentication-Results headers the recipient's side
wrote (only those are trusted), and what those say about SPF, DKIM and DMARC.
"""

from __future__ import annotations

from collections.abc import Iterator

from verifier.analysis import findings as F
from verifier.analysis.border import Border
from verifier.analysis.hosts import HostSet, same_org
from verifier.analysis.members import ZONE_SMARTHOST
from verifier.model import AuthResults, Headers, MethodResult, SpfResult


def spf_results(headers: Headers) -> list[SpfResult]:
    """Every SPF result, from Received-SPF and from Authentication-Results, in header order."""
    out = list(headers.spf)
    out.extend(headers.ar_spf)
    out.sort(key=lambda s: s.header_index)
    return out


def trusted_headers(headers: Headers, b: Border | None, spf: list[SpfResult]) -> frozenset[int] | None:
    """Which SPF and Authentication-Results headers the recipient's side wrote.

    Above the border's Received header: all of them. Between it and the next
    Received below (where Gmail, Sendmail milters and Exchange Online put their
    own results, and where a Postfix relay on the sending side puts *its*
    results): only those that name the border, by SPF client-ip or by
    authserv-id. Below that: none. None when the border is unknown.
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


def results(headers: Headers, method: str) -> Iterator[tuple[AuthResults, MethodResult]]:
    """Every result of one method in the Authentication-Results headers (not ARC's)."""
    for ar in headers.auth_results:
        if ar.kind != "authentication-results":
            continue
        for r in ar.results:
            if r.method == method:
                yield ar, r


def dkim_domain(r: MethodResult) -> str | None:
    """The signing domain of a dkim= result: header.d, else the domain of header.i."""
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


def auth_findings(headers: Headers, spf: list[SpfResult], trusted: frozenset[int] | None, b: Border | None, smarthost: HostSet, out: list[F.Finding]) -> None:
    """Trust, SPF, DKIM and DMARC findings, from the trusted headers only."""

    def is_trusted(idx: int) -> bool:
        return trusted is None or idx in trusted

    untrusted = sorted({ar.header_index for ar in headers.auth_results if ar.kind == "authentication-results" and not is_trusted(ar.header_index)} | {s.header_index for s in headers.spf if not is_trusted(s.header_index)})
    if untrusted:
        out.append(F.say("auth.untrusted-results", untrusted, count=len(untrusted)))
    lenient = [ar.header_index for ar in headers.auth_results if not ar.strict]
    if lenient:
        out.append(F.say("auth.lenient-parse", lenient, count=len(lenient)))

    t_spf = [s for s in spf if is_trusted(s.header_index)]
    border_ip = b.sender_ip if b else None
    if not t_spf:
        out.append(F.say("spf.none-found"))
    seen_spf = set()
    for s in t_spf:
        key = (s.result, s.domain, s.client_ip)
        if key in seen_spf:
            continue
        seen_spf.add(key)
        where = f" for client {s.client_ip}" if s.client_ip else ""
        domain = s.domain or "an unnamed domain"
        if s.result == "pass":
            out.append(F.say("spf.pass", [s.header_index], domain=domain, where=where, source=_src(s)))
            if s.client_ip and border_ip and b is not None and s.client_ip.lower() == border_ip.lower() and b.sender_zone == ZONE_SMARTHOST:
                out.append(F.say("spf.pass-smarthost-ip", [s.header_index], ip=s.client_ip))
        else:
            out.append(F.say("spf.not-pass", [s.header_index], result=s.result, domain=domain, where=where, source=_src(s)))
        if s.client_ip and border_ip and b is not None and s.client_ip.lower() != border_ip.lower() and s.source == "received-spf":
            out.append(F.say("spf.client-ip-mismatch", [s.header_index, b.header_index], ip=s.client_ip, border_ip=border_ip))

    # DKIM
    sigs = headers.dkim_signatures
    from_dom = headers.from_.domain if headers.from_ else None
    if not sigs:
        out.append(F.say("dkim.not-signed"))
    for sig in sigs:
        d = (sig.d or "").lower() or None
        if d and from_dom and same_org(d, from_dom):
            out.append(F.say("dkim.signed-by-sender-domain", [sig.header_index], d=d, from_domain=from_dom))
        elif d and smarthost and smarthost.match_name(d) is not None:
            out.append(F.say("dkim.signed-by-provider", [sig.header_index], d=d, from_domain=from_dom or "(unknown)"))
    for ar, r in results(headers, "dkim"):
        if not is_trusted(ar.header_index):
            continue
        d = dkim_domain(r)
        who = ar.authserv_id or "The recipient"
        if r.result == "pass":
            out.append(F.say("dkim.pass", [ar.header_index], who=who, d=d or "?"))
        elif r.result in ("fail", "permerror", "temperror", "neutral", "policy"):
            reason = f" ({r.reason or r.comment})" if (r.reason or r.comment) else ""
            out.append(F.say("dkim.fail", [ar.header_index], who=who, d=d or "?", result=r.result, reason=reason))
    for ar, r in results(headers, "dmarc"):
        if is_trusted(ar.header_index):
            hf = r.properties.get("header.from")
            out.append(F.say("dmarc.result", [ar.header_index], who=ar.authserv_id or "The recipient", result=r.result, domain=hf or from_dom or "the From domain"))
