"""The verdict: which way the message left the sender's platform.

The rules, first match wins (README.md "Verdict rules" lists the same):

1. the border's sender is a platform server, or the platform handled the message
   again after a smarthost hop on the sending side -> ``bypassed``;
2. no smarthost was given -> ``inconclusive`` (only the platform route can be proven);
3. the border's sender belongs to the smarthost -> ``via-connector``;
4. a smarthost hop is on the sending side and nothing from the platform follows it
   -> ``via-connector``;
5. otherwise -> ``inconclusive``; and with no border at all -> ``inconclusive``.
"""

from __future__ import annotations

from verifier.analysis import findings as F
from verifier.analysis.border import Border
from verifier.analysis.chain import Hop
from verifier.analysis.hosts import HostSet
from verifier.analysis.members import (
    VERDICT_BYPASSED,
    VERDICT_INCONCLUSIVE,
    VERDICT_VIA_CONNECTOR,
    ZONE_PLATFORM,
    ZONE_SMARTHOST,
    ZONE_UNKNOWN,
)
from verifier.analysis.zones import match_text
from verifier.model import HeaderBlock, HeaderField, Headers, Verdict

_SBR_NAME = "x-mclm-sbr-processed"


_SENDING_ZONES = (ZONE_PLATFORM, ZONE_SMARTHOST, ZONE_UNKNOWN)


def sbr_fields(block: HeaderBlock) -> list[HeaderField]:
    """The block's ``x-mclm-sbr-processed`` fields (in any case), in header order.

    Only names of that length are lower-cased: most messages have no such field, and
    this costs less than lower-casing every name (the ``lname`` property) or the whole
    header text for a substring test (about 1 ms per pass over the corpus, as a
    pre-filter)."""
    size = len(_SBR_NAME)
    return [f for f in block.fields if len(f.name) == size and f.name.lower() == _SBR_NAME]


def sending_side(hops: list[Hop], b: Border | None) -> list[Hop]:
    """The hops below the border (every hop when there is no border), topmost first."""
    zones = _SENDING_ZONES
    if b is None:
        return [h for h in hops if h.zone in zones]
    top = b.index
    return [h for h in hops if h.zone in zones and h.index > top]


def platform_after_smarthost(sending: list[Hop]) -> int | None:
    """The first platform hop written after (above) every smarthost hop, if any.
    Higher index is older."""
    sm_idx = [h.index for h in sending if h.zone == ZONE_SMARTHOST]
    pf_idx = [h.index for h in sending if h.zone == ZONE_PLATFORM]
    if sm_idx and pf_idx and min(pf_idx) < max(sm_idx) and min(pf_idx) < min(sm_idx):
        return min(pf_idx)
    return None


def verdict(headers: Headers, hops: list[Hop], b: Border | None, smarthost: HostSet, out: list[F.Finding], guess: str | None = None, sending: list[Hop] | None = None) -> Verdict:
    """Apply the verdict rules, adding the route and border findings on the way.
    ``sending`` is ``sending_side(hops, b)`` when the caller has it already."""
    marks = sbr_fields(headers.block)
    if marks and any(f.value.strip().lower() == "true" for f in marks):
        out.append(F.say("route.sbr-processed", [f.index for f in marks]))
    if not smarthost:
        out.append(F.say("route.no-smarthost-given"))

    if sending is None:
        sending = sending_side(hops, b)
    for h in sending:
        if h.zone == ZONE_SMARTHOST:
            out.append(F.say("route.smarthost-hop", [h.received.header_index], hop=h.index, by=h.received.by_host, match=match_text(h.zone_match)))
        elif h.zone == ZONE_PLATFORM:
            out.append(F.say("route.platform-hop", [h.received.header_index], hop=h.index, by=h.received.by_host, pattern=h.zone_match.pattern if h.zone_match else "?"))
    sm_idx = [h.index for h in sending if h.zone == ZONE_SMARTHOST]
    first_pf = platform_after_smarthost(sending)
    if first_pf is not None:
        out.append(F.say("route.platform-after-smarthost", [hops[first_pf].received.header_index], hop=first_pf))

    if b is None:
        if headers.received:
            hint = f" The topmost external client address suggests {guess}, but nothing confirms it." if guess else " No hop has an external client address either."
            out.append(F.say("border.not-found", hint=hint))
        return VERDICT_INCONCLUSIVE

    who = sender_text(b)
    out.append(F.say("border.found", [b.header_index, *b.evidence_headers], hop=b.index, receiver=b.receiver or "an unnamed host", who=who, evidence="; ".join(b.evidence)))
    if b.sender_zone == ZONE_SMARTHOST:
        out.append(F.say("border.from-smarthost", [b.header_index], who=who, match=match_text(b.sender_match)))
    elif b.sender_zone == ZONE_PLATFORM:
        out.append(F.say("border.from-platform", [b.header_index], who=who, pattern=b.sender_match.pattern if b.sender_match else "?"))
    else:
        hint = " Give the provider's egress host or network with --smarthost if it is theirs." if smarthost else ""
        out.append(F.say("border.from-unknown", [b.header_index], who=who, hint=hint))

    if b.sender_zone == ZONE_PLATFORM or first_pf is not None:
        return VERDICT_BYPASSED
    if not smarthost:
        return VERDICT_INCONCLUSIVE
    if b.sender_zone == ZONE_SMARTHOST:
        return VERDICT_VIA_CONNECTOR
    if sm_idx:
        return VERDICT_VIA_CONNECTOR
    return VERDICT_INCONCLUSIVE


def sender_text(b: Border) -> str:
    name = b.sender_rdns or b.sender_host or "an unnamed host"
    return f"{name} [{b.sender_ip}]" if b.sender_ip else name


def verdict_finding(v: Verdict, b: Border | None, smarthost: HostSet) -> F.Finding:
    """The finding that states the verdict and why, listed first in every report."""
    refs = [b.header_index] if b else []
    if v == VERDICT_VIA_CONNECTOR:
        if b and b.sender_zone == ZONE_SMARTHOST:
            why = f"{sender_text(b)}, a smarthost host, handed it to the recipient"
        else:
            why = "a smarthost hop is on the sending side and nothing from the platform follows it"
        return F.say("verdict.via-connector", refs, why=why)
    if v == VERDICT_BYPASSED:
        return F.say("verdict.bypassed", refs, who=sender_text(b) if b else "a platform server")
    if b is None:
        why = "the recipient's border hop cannot be located (no Authentication-Results or Received-SPF from the recipient)"
    elif not smarthost:
        why = f"{sender_text(b)} handed it to the recipient; give the connector's smarthost with --smarthost to prove the route"
    else:
        why = f"{sender_text(b)} handed it to the recipient and matches neither the smarthost nor the platform, and no smarthost hop is on the sending side"
    return F.say("verdict.inconclusive", refs, why=why)
