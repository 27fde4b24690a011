"""DMARC alignment (relaxed: same organisational domain) of the From domain with the
domains SPF and DKIM passed for, from the recipient's trusted results; or, when the
recipient recorded none, with the Return-Path domain and the signatures' d=.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.analysis import findings as F
from verifier.analysis.auth import dkim_domain, results
from verifier.analysis.hosts import org_domain, same_org
from verifier.model import Headers, SpfResult
from verifier.parsers._construct import positional_constructor


@dataclass(frozen=True, slots=True)
class Alignment:
    from_domain: str | None
    spf_domains: tuple[str, ...]  # domains SPF passed for (trusted results)
    dkim_domains: tuple[str, ...]  # domains DKIM passed for (trusted results)
    spf_aligned: bool
    dkim_aligned: bool
    based_on: str  # "results" (recipient's verdicts) | "identifiers" (no results: Return-Path, d=)


# Alignment(...) with every field given in order, without the frozen dataclass's keyword
# __init__: the same object, about half the cost (parsers/_construct.py).
_new_alignment = positional_constructor(Alignment)


def alignment(headers: Headers, spf: list[SpfResult], trusted: frozenset[int] | None, out: list[F.Finding]) -> Alignment | None:
    """The alignment and its finding; None when the From domain is unknown."""

    def is_trusted(idx: int) -> bool:
        return trusted is None or idx in trusted

    from_dom = headers.from_.domain if headers.from_ else None
    if not from_dom:
        return None
    t_spf = [s for s in spf if is_trusted(s.header_index)]
    dkim = [(ar, r) for ar, r in results(headers, "dkim") if is_trusted(ar.header_index)]
    spf_pass = [s.domain for s in t_spf if s.result == "pass" and s.domain and s.identity != "helo"]
    if t_spf or dkim:
        spf_domains = spf_pass
        dkim_domains = [d for _, r in dkim if r.result == "pass" and (d := dkim_domain(r))]
        based_on = "results"
    else:
        rp = headers.return_path.domain if headers.return_path else None
        spf_domains = [rp] if rp else []
        dkim_domains = [s.d.lower() for s in headers.dkim_signatures if s.d]
        based_on = "identifiers"
    spf_al = any(same_org(x, from_dom) for x in spf_domains)
    dkim_al = any(same_org(x, from_dom) for x in dkim_domains)
    al = _new_alignment(from_dom, tuple(dict.fromkeys(spf_domains)), tuple(dict.fromkeys(dkim_domains)), spf_al, dkim_al, based_on)
    refs = [headers.from_.header_index] if headers.from_ else []
    if spf_al or dkim_al:
        how = " and ".join(x for x, ok in (("SPF", spf_al), ("DKIM", dkim_al)) if ok)
        out.append(F.say("dmarc.aligned", refs, how=how, verb="passed" if based_on == "results" else "would pass", from_domain=from_dom))
    else:
        lead = "Neither SPF nor DKIM passed for a domain aligned with" if based_on == "results" else "Neither the Return-Path nor any DKIM d= aligns with"
        out.append(F.say("dmarc.not-aligned", refs, lead=lead, from_domain=from_dom, spf=", ".join(spf_domains) or "none", dkim=", ".join(dkim_domains) or "none", org=org_domain(from_dom) or from_dom))
    return al
