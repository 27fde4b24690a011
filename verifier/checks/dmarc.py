"""DMARC (RFC 7489): find the From domain's policy, and what it means for given SPF and DKIM results.

Discovery (§6.6.3): TXT at ``_dmarc.<From domain>``; when that holds no DMARC
record, TXT at ``_dmarc.<organisational domain>`` (the registrable domain from
the bundled Public Suffix List, shared with the analysis through
:func:`verifier.analysis.hosts.org_domain`). Only records whose first tag is
``v=DMARC1`` count; more than one such record at a name means no policy. A
temporary DNS failure stops discovery with ``temperror``.

Evaluation (§3.1, §6.6.2, §6.6.4): DMARC passes when an SPF pass is for a
MAIL FROM domain aligned with the From domain, or a DKIM pass is for a d=
aligned with it; relaxed alignment means the same organisational domain, strict
means the same name. A failure asks for ``p`` (``sp`` for a From domain below
the domain where the record was found), applied to ``pct`` percent of failing
mail and downgraded one step (reject to quarantine, quarantine to none) for the
rest. A DKIM result of ``header-only`` is not a pass and never aligns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from verifier.analysis.hosts import org_domain
from verifier.checks.dns import DnsTemporaryError, Resolver, normalise_name
from verifier.errors import NetworkError

POLICIES = ("none", "quarantine", "reject")
_DOWNGRADE = {"reject": "quarantine", "quarantine": "none", "none": "none"}


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    raw: str
    p: str  # none | quarantine | reject
    sp: str | None = None
    adkim: str = "r"  # r | s
    aspf: str = "r"
    pct: int = 100
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    fo: str = "0"
    tags: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "raw": self.raw,
            "p": self.p,
            "sp": self.sp,
            "adkim": self.adkim,
            "aspf": self.aspf,
            "pct": self.pct,
            "rua": list(self.rua),
            "ruf": list(self.ruf),
            "fo": self.fo,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class DmarcPolicy:
    """The outcome of record discovery for one From domain."""

    from_domain: str
    org_domain: str | None
    status: str  # found | none | temperror
    found_at: str | None = None  # the domain whose _dmarc name held the record
    record: DmarcRecord | None = None
    reason: str = ""

    @property
    def is_subdomain_policy(self) -> bool:
        """Does ``sp`` govern the From domain (record found at a parent, From domain below it)?"""
        return self.found_at is not None and self.found_at != self.from_domain

    def to_json(self) -> dict:
        return {
            "from_domain": self.from_domain,
            "org_domain": self.org_domain,
            "status": self.status,
            "found_at": self.found_at,
            "record": self.record.to_json() if self.record else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DmarcOutcome:
    result: str  # pass | fail | none (no policy) | temperror
    from_domain: str
    spf_aligned: bool
    dkim_aligned: bool
    spf_domains: tuple[str, ...]  # domains SPF passed for
    dkim_domains: tuple[str, ...]  # d= of passing DKIM signatures
    policy: str | None  # the policy that applies to this From domain (p, or sp for a subdomain)
    disposition: str  # what a receiver applying the policy does to this message: none | quarantine | reject
    pct: int
    sampled_out_disposition: str | None  # for failing mail outside pct: the policy one step softer
    explanation: str
    lookup: DmarcPolicy | None = None

    def to_json(self) -> dict:
        return {
            "result": self.result,
            "from_domain": self.from_domain,
            "spf_aligned": self.spf_aligned,
            "dkim_aligned": self.dkim_aligned,
            "spf_domains": list(self.spf_domains),
            "dkim_domains": list(self.dkim_domains),
            "policy": self.policy,
            "disposition": self.disposition,
            "pct": self.pct,
            "sampled_out_disposition": self.sampled_out_disposition,
            "explanation": self.explanation,
            "lookup": self.lookup.to_json() if self.lookup else None,
        }


class DmarcSyntaxError(ValueError):
    pass


def parse_record(text: str | bytes) -> DmarcRecord:
    """Parse one DMARC record; raise DmarcSyntaxError when it is not a usable DMARC record.

    Unknown tags are ignored (§6.3). An invalid ``p`` makes the record unusable
    unless it has a ``rua``, in which case it is read as ``p=none`` (§6.6.3
    step 6). Other invalid values fall back to their defaults with a warning.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    raw = text.strip()
    tags: dict[str, str] = {}
    order: list[str] = []
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise DmarcSyntaxError(f"the term {part!r} is not a tag=value pair")
        k, v = part.split("=", 1)
        k = k.strip().lower()
        if k in tags:
            continue  # the first occurrence wins
        tags[k] = v.strip()
        order.append(k)
    if not order or order[0] != "v" or tags["v"] != "DMARC1":
        raise DmarcSyntaxError("the record does not start with v=DMARC1")
    warnings: list[str] = []
    rua = tuple(u.strip() for u in tags.get("rua", "").split(",") if u.strip())
    ruf = tuple(u.strip() for u in tags.get("ruf", "").split(",") if u.strip())
    p = tags.get("p", "").lower()
    if p not in POLICIES:
        if rua and any(u.lower().startswith("mailto:") or "://" in u for u in rua):
            warnings.append(f"p={tags.get('p', '')!s} is not valid; read as p=none because rua= is present")
            p = "none"
        else:
            raise DmarcSyntaxError("the record has no valid p= tag" if "p" not in tags else f"p={tags['p']} is not a valid policy")
    sp = tags.get("sp")
    if sp is not None:
        sp = sp.lower()
        if sp not in POLICIES:
            warnings.append(f"sp={tags['sp']} is not valid and is ignored")
            sp = None
    adkim = tags.get("adkim", "r").lower()
    if adkim not in ("r", "s"):
        warnings.append(f"adkim={tags['adkim']} is not valid; relaxed is used")
        adkim = "r"
    aspf = tags.get("aspf", "r").lower()
    if aspf not in ("r", "s"):
        warnings.append(f"aspf={tags['aspf']} is not valid; relaxed is used")
        aspf = "r"
    pct = 100
    if "pct" in tags:
        try:
            pct = int(tags["pct"])
            if not 0 <= pct <= 100:
                raise ValueError
        except ValueError:
            warnings.append(f"pct={tags['pct']} is not a number from 0 to 100; 100 is used")
            pct = 100
    return DmarcRecord(
        raw=raw,
        p=p,
        sp=sp,
        adkim=adkim,
        aspf=aspf,
        pct=pct,
        rua=rua,
        ruf=ruf,
        fo=tags.get("fo", "0"),
        tags=tags,
        warnings=tuple(warnings),
    )


async def _records_at(domain: str, resolver: Resolver) -> tuple[list[DmarcRecord], list[str]]:
    """Valid DMARC records at _dmarc.<domain>, and the problems of records that start like one."""
    txts = await resolver.txt(f"_dmarc.{domain}")
    found, problems = [], []
    for t in txts:
        if not t.lstrip().lower().startswith(b"v=dmarc1"):
            continue
        try:
            found.append(parse_record(t))
        except DmarcSyntaxError as exc:
            problems.append(str(exc))
    return found, problems


async def fetch_policy(from_domain: str, resolver: Resolver) -> DmarcPolicy:
    """Discover the DMARC record for ``from_domain`` (RFC 7489 §6.6.3), with the org-domain fallback."""
    dom = normalise_name(from_domain)
    org = org_domain(dom)
    candidates = [dom] if not org or org == dom else [dom, org]
    notes: list[str] = []
    for cand in candidates:
        try:
            records, problems = await _records_at(cand, resolver)
        except (DnsTemporaryError, NetworkError) as exc:
            return DmarcPolicy(dom, org, "temperror", reason=f"The DMARC record of {cand} could not be fetched: {str(exc).rstrip('.')}.")
        if len(records) == 1 and not problems:
            where = "" if cand == dom else f" (the organisational domain of {dom})"
            return DmarcPolicy(dom, org, "found", cand, records[0], f"_dmarc.{cand}{where} publishes p={records[0].p}.")
        if len(records) + len(problems) > 1:
            notes.append(f"_dmarc.{cand} holds {len(records) + len(problems)} DMARC records, which counts as none")
        elif problems:
            notes.append(f"_dmarc.{cand} holds an unusable DMARC record: {problems[0]}")
        else:
            notes.append(f"_dmarc.{cand} holds no DMARC record")
    return DmarcPolicy(dom, org, "none", reason=_cap("; ".join(notes)) + ".")


def aligned(domain: str | None, from_domain: str, mode: str) -> bool:
    """Identifier alignment (§3.1): strict is the same name, relaxed the same organisational domain."""
    if not domain:
        return False
    a, b = normalise_name(domain), normalise_name(from_domain)
    if a == b:
        return True
    if mode == "s":
        return False
    oa, ob = org_domain(a), org_domain(b)
    return oa is not None and oa == ob


def evaluate(
    from_domain: str,
    policy: DmarcPolicy | None,
    *,
    spf_pass_domains: tuple[str, ...] | list[str] = (),
    dkim_pass_domains: tuple[str, ...] | list[str] = (),
) -> DmarcOutcome:
    """The DMARC result for a From domain, given the domains SPF and DKIM passed for."""
    dom = normalise_name(from_domain)
    spf_d = tuple(dict.fromkeys(normalise_name(d) for d in spf_pass_domains if d))
    dkim_d = tuple(dict.fromkeys(normalise_name(d) for d in dkim_pass_domains if d))
    rec = policy.record if policy and policy.status == "found" else None
    adkim = rec.adkim if rec else "r"
    aspf = rec.aspf if rec else "r"
    spf_al = any(aligned(d, dom, aspf) for d in spf_d)
    dkim_al = any(aligned(d, dom, adkim) for d in dkim_d)
    passed = spf_al or dkim_al

    def mode(m: str) -> str:
        return "strict" if m == "s" else "relaxed"

    spf_ok = [d for d in spf_d if aligned(d, dom, aspf)]
    dkim_ok = [d for d in dkim_d if aligned(d, dom, adkim)]
    how = " and ".join(
        x
        for x, ok in (
            (f"SPF ({', '.join(spf_ok)}, {mode(aspf)})", spf_al),
            (f"DKIM ({', '.join(dkim_ok)}, {mode(adkim)})", dkim_al),
        )
        if ok
    )
    why_not = _why_not(dom, spf_d, dkim_d, aspf, adkim)

    if policy is not None and policy.status == "temperror":
        return DmarcOutcome("temperror", dom, spf_al, dkim_al, spf_d, dkim_d, None, "none", 100, None, policy.reason, policy)
    if rec is None:
        if passed:
            text = f"{dom} publishes no DMARC policy, so nothing is enforced; {how} would align with it."
        else:
            text = f"{dom} publishes no DMARC policy, so nothing is enforced; {why_not}."
        return DmarcOutcome("none", dom, spf_al, dkim_al, spf_d, dkim_d, None, "none", 100, None, text, policy)
    applies = rec.sp if (policy.is_subdomain_policy and rec.sp) else rec.p
    which = "sp" if (policy.is_subdomain_policy and rec.sp) else "p"
    if passed:
        text = f"DMARC passes for {dom}: {how} aligned with the From domain."
        return DmarcOutcome("pass", dom, spf_al, dkim_al, spf_d, dkim_d, applies, "none", rec.pct, None, text, policy)
    softer = _DOWNGRADE[applies] if rec.pct < 100 and applies != "none" else None
    if applies == "none":
        effect = f"the policy {which}=none only asks for reports"
    elif rec.pct >= 100:
        effect = f"the policy {which}={applies} asks receivers to {_verb(applies)} it"
    elif rec.pct == 0:
        effect = f"the policy {which}={applies} with pct=0 asks receivers to {_verb(softer)} it"
    else:
        effect = f"the policy {which}={applies} with pct={rec.pct} asks receivers to {_verb(applies)} {rec.pct}% of such mail and {_verb(softer)} the rest"
    disposition = applies if rec.pct > 0 else softer
    text = f"DMARC fails for {dom}: {why_not}, and {effect}."
    return DmarcOutcome("fail", dom, spf_al, dkim_al, spf_d, dkim_d, applies, disposition, rec.pct, softer, text, policy)


def _verb(policy: str | None) -> str:
    return {"reject": "reject", "quarantine": "quarantine", "none": "deliver"}.get(policy or "none", "deliver")


def _why_not(dom: str, spf_d: tuple[str, ...], dkim_d: tuple[str, ...], aspf: str, adkim: str) -> str:
    parts = []
    if spf_d:
        parts.append(f"SPF passed only for {', '.join(spf_d)}, not aligned{' strictly' if aspf == 's' else ''}")
    else:
        parts.append("SPF did not pass")
    if dkim_d:
        parts.append(f"DKIM passed only for {', '.join(dkim_d)}, not aligned{' strictly' if adkim == 's' else ''}")
    else:
        parts.append("no DKIM signature passed")
    return "; ".join(parts)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


async def check_dmarc(
    from_domain: str,
    resolver: Resolver,
    *,
    spf_pass_domains: tuple[str, ...] | list[str] = (),
    dkim_pass_domains: tuple[str, ...] | list[str] = (),
) -> DmarcOutcome:
    """Discovery and evaluation in one call."""
    policy = await fetch_policy(from_domain, resolver)
    return evaluate(from_domain, policy, spf_pass_domains=spf_pass_domains, dkim_pass_domains=dkim_pass_domains)
