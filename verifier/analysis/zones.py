"""Whose server a host is: the smarthost's, the platform's, or neither.

A Received header's sending side is classified by its client (address, reverse name,
HELO name); the rest of the chain by the host that wrote each header. When a host
matches both sets equally strongly, it is ``unknown``: the headers cannot tell.
"""

from __future__ import annotations

from verifier.analysis.hosts import HostSet, Match
from verifier.analysis.members import ZONE_PLATFORM, ZONE_SMARTHOST, ZONE_UNKNOWN
from verifier.model import Received, Zone


def _pick(s: Match | None, p: Match | None) -> tuple[Zone, Match | None]:
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


def classify_sender(r: Received, smarthost: HostSet, platform: HostSet) -> tuple[Zone, Match | None]:
    """The zone of the client that handed a message over in this Received header."""
    names = (r.from_rdns, r.from_host)
    s = smarthost.match_any(ip=r.from_ip, names=names) if smarthost else None
    p = platform.match_any(ip=r.from_ip, names=names) if platform else None
    return _pick(s, p)


def classify_receiver(r: Received, smarthost: HostSet, platform: HostSet) -> tuple[Zone, Match | None]:
    """The zone of the host that wrote this Received header."""
    s = smarthost.match_name(r.by_host) if smarthost else None
    p = platform.match_name(r.by_host) if platform else None
    return _pick(s, p)


def match_text(m: Match | None) -> str:
    """How a host matched, for a sentence."""
    if m is None:
        return "no pattern"
    if m.kind == "provider-domain":
        return f"same organisational domain as {m.pattern}"
    if m.kind == "ip":
        return f"address {m.value} in {m.pattern}"
    return f"{m.value} matches {m.pattern}"
