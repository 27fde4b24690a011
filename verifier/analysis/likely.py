"""The most likely route, with an explicit confidence.

The verdict only states what the recipient's own evidence proves. When it proves a
route, the likely route is that route, ``confirmed``. When it proves none
(``inconclusive``: a mailing list, a forwarder, or a recipient that writes no
Authentication-Results or Received-SPF), the chain may still show where the
message left the platform: the topmost hop on the sending side in which a host
that is neither the platform nor the smarthost received the message from a
platform or smarthost server. That hand-off suggests the route, ``unconfirmed``:
nothing the recipient wrote shows that the hop is genuine.

Rules, so the guess never claims more than the chain shows:

- hops the recipient's side wrote (the border and above) are never used;
- ``bypassed`` is suggested when a platform server hands the message to a host that is
  not the given smarthost; without ``--smarthost`` (any unknown host may then be the
  smarthost) only when the platform first passed it between two of its own servers,
  as its outbound relay does;
- ``via-connector`` is only suggested when the hand-off's sender belongs to the
  smarthost, or a hop on the sending side was written by the smarthost, and no
  platform hop follows it; never from the platform's hops alone;
- the likely route never changes the verdict or the exit code.
"""

from __future__ import annotations

from verifier.analysis.border import Border
from verifier.analysis.chain import Hop
from verifier.analysis.hosts import HostSet
from verifier.analysis.members import (
    CONFIRMED,
    UNCONFIRMED,
    VERDICT_BYPASSED,
    VERDICT_INCONCLUSIVE,
    VERDICT_VIA_CONNECTOR,
    ZONE_PLATFORM,
    ZONE_SMARTHOST,
    ZONE_UNKNOWN,
)
from verifier.analysis.verdict import platform_after_smarthost, sender_text, sending_side
from verifier.analysis.zones import classify_sender
from verifier.model import LikelyRoute, Verdict


def _who(h: Hop) -> str:
    r = h.received
    name = r.from_rdns or r.from_host or "an unnamed host"
    return f"{name} [{r.from_ip}]" if r.from_ip else name


def _relayed_inside_platform(hops: list[Hop], h: Hop, smarthost: HostSet, platform: HostSet) -> bool:
    """Did the platform pass the message between two of its own servers just before this
    hand-off? Its outbound relay receives from its mailbox servers; a send connector's
    smarthost receives straight from a mailbox server. Without ``--smarthost`` an unknown
    receiver may be the smarthost, so only this shape suggests the platform's outbound."""
    if h.index + 1 >= len(hops):
        return False
    below = hops[h.index + 1]
    return below.zone == ZONE_PLATFORM and classify_sender(below.received, smarthost, platform)[0] == ZONE_PLATFORM


def likely_route(verdict: Verdict, hops: list[Hop], b: Border | None, smarthost: HostSet, platform: HostSet, sending: list[Hop] | None = None) -> LikelyRoute | None:
    """The likely route (see the module documentation); ``sending`` is
    ``sending_side(hops, b)`` when the caller has it already."""
    if sending is None:
        sending = sending_side(hops, b)
    first_pf = platform_after_smarthost(sending)
    sm_hops = [h for h in sending if h.zone == ZONE_SMARTHOST]
    if verdict == VERDICT_BYPASSED and b is not None:
        if b.sender_zone == ZONE_PLATFORM:
            return LikelyRoute(VERDICT_BYPASSED, CONFIRMED, b.index, b.header_index, f"the recipient's border received the message from the platform server {sender_text(b)}.")
        assert first_pf is not None  # a bypassed verdict without a platform border has one
        hop = hops[first_pf]
        return LikelyRoute(VERDICT_BYPASSED, CONFIRMED, hop.index, hop.received.header_index, f"the platform handled the message again (Received #{hop.index}) after the smarthost.")
    if verdict == VERDICT_VIA_CONNECTOR and b is not None:
        if b.sender_zone == ZONE_SMARTHOST:
            return LikelyRoute(VERDICT_VIA_CONNECTOR, CONFIRMED, b.index, b.header_index, f"the recipient's border received the message from the smarthost host {sender_text(b)}.")
        hop = sm_hops[0]
        return LikelyRoute(VERDICT_VIA_CONNECTOR, CONFIRMED, hop.index, hop.received.header_index, f"the smarthost wrote Received #{hop.index} on the sending side and nothing from the platform follows it.")
    if verdict != VERDICT_INCONCLUSIVE:
        return None
    if not smarthost and not any(h.zone == ZONE_PLATFORM for h in sending):
        # Without a smarthost only the platform's outbound relay can suggest a route, and
        # it shows as a platform hop below the hand-off: no such hop, nothing to suggest.
        return None

    if b is None:
        why_not = "no Authentication-Results or Received-SPF from the recipient confirms where its side begins, so any server on the way could have written that header"
    else:
        why_not = f"the recipient's border (Received #{b.index}) received the message from {sender_text(b)}, which is neither the platform nor the smarthost (a mailing list, a forwarder or an unlisted relay), and only that relay's own header tells what happened before"
    for h in sending:
        if h.zone != ZONE_UNKNOWN:
            continue  # written by the platform or the smarthost: not a hand-off to the outside
        s_zone, _ = classify_sender(h.received, smarthost, platform)
        by = h.received.by_host or "an unnamed host"
        if s_zone == ZONE_PLATFORM and (smarthost or _relayed_inside_platform(hops, h, smarthost, platform)):
            return LikelyRoute(VERDICT_BYPASSED, UNCONFIRMED, h.index, h.received.header_index, f"Received #{h.index} shows {by}, neither the platform nor the smarthost, receiving the message from the platform server {_who(h)}; not proven, because {why_not}.")
        if s_zone == ZONE_SMARTHOST:
            later_pf = [p for p in sending if p.zone == ZONE_PLATFORM and p.index < h.index]
            if not later_pf:
                return LikelyRoute(VERDICT_VIA_CONNECTOR, UNCONFIRMED, h.index, h.received.header_index, f"Received #{h.index} shows {by}, neither the platform nor the smarthost, receiving the message from the smarthost host {_who(h)}; not proven, because {why_not}.")
    if sm_hops and first_pf is None and not any(h.zone == ZONE_PLATFORM and h.index < sm_hops[0].index for h in sending):
        hop = sm_hops[0]
        return LikelyRoute(VERDICT_VIA_CONNECTOR, UNCONFIRMED, hop.index, hop.received.header_index, f"the smarthost wrote Received #{hop.index} and nothing from the platform follows it; not proven, because {why_not}.")
    return None
