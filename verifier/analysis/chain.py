"""The chain of hops: each Received header with its zone and the delay it added, and
what the chain itself says (unreadable hops, invalid addresses, clock skew, long
delays, the total trip time).

A hop's delay is its timestamp minus the timestamp just below it (the next lower
hop's, or for the bottom hop the Date header's); it is unknown when either is
unreadable, never stretched over two hops, and never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from verifier.analysis import findings as F
from verifier.analysis.hosts import HostSet, Match
from verifier.analysis.members import ZONE_RECIPIENT
from verifier.analysis.options import Options
from verifier.analysis.zones import classify_receiver
from verifier.model import HeaderBlock, Headers, Received, Zone
from verifier.parsers._construct import positional_constructor


@dataclass(frozen=True, slots=True)
class Hop:
    index: int  # position among Received headers, 0 = topmost
    received: Received
    zone: Zone
    delay_seconds: float | None
    zone_match: Match | None = None


# Hop(index, received, zone, delay_seconds, zone_match), every field given, without the
# frozen dataclass's keyword __init__: the same object, about half the cost.
_new_hop = positional_constructor(Hop)


def first_field_index(block: HeaderBlock, lname: str) -> int | None:
    """The index of the first field named ``lname`` (given in lower case), as
    ``block.get(lname).index`` gives it, or None. Only names of the same length are
    lower-cased and compared (``block.get`` lower-cases every name through a property)."""
    size = len(lname)
    for f in block.fields:
        name = f.name
        if len(name) == size and name.lower() == lname:
            return f.index
    return None


def zones_and_delays(headers: Headers, border_idx: int | None, smarthost: HostSet, platform: HostSet) -> list[Hop]:
    """Every hop, topmost first: the border and above are the recipient's, the rest are
    classified by the host that wrote them."""
    rcv = headers.received
    n = len(rcv)
    # The timestamp just below each hop: the next lower hop's (unknown when that hop's
    # date is unreadable: a delay is never stretched over two hops), for the bottom hop
    # the Date header.
    base = headers.date.utc if headers.date and headers.date.utc else None
    below_ts: list[datetime | None] = [None] * n
    for i in range(n):
        if i + 1 < n:
            below_date = rcv[i + 1].date
            below_ts[i] = below_date.utc if below_date else None
        else:
            below_ts[i] = base
    hops = []
    for i, r in enumerate(rcv):
        if border_idx is not None and i <= border_idx:
            zone, m = ZONE_RECIPIENT, None
        else:
            zone, m = classify_receiver(r, smarthost, platform)
        ts = r.date.utc if r.date else None
        delay = None
        below = below_ts[i]
        if ts is not None and below is not None:
            d = (ts - below).total_seconds()
            delay = d if d >= 0 else None
        hops.append(_new_hop(i, r, zone, delay, m))
    return hops


def chain_findings(headers: Headers, hops: list[Hop], options: Options, out: list[F.Finding]) -> float | None:
    """Findings about the chain itself; returns the total trip time in seconds, if known."""
    rcv = headers.received
    if not rcv:
        out.append(F.say("chain.no-received"))
        return None
    for h in hops:
        r = h.received
        if not r.from_host and not r.by_host and not r.from_ip:
            out.append(F.say("chain.unparsed-hop", [r.header_index], hop=h.index))
        if r.from_ip and r.ip_valid is False:
            out.append(F.say("chain.invalid-ip", [r.header_index], hop=h.index, ip=r.from_ip))
        if r.date is None or r.date.utc is None:
            what = f"'{r.date.raw}'" if r.date and r.date.raw else "no date"
            out.append(F.say("chain.date-unparsed", [r.header_index], hop=h.index, what=what))
    # clock skew and long delays, oldest first
    prev_ts, prev_label, prev_hdr, prev_hop = None, None, None, None
    if headers.date and headers.date.utc:
        prev_ts, prev_label, prev_hdr = headers.date.utc, "the Date header", first_field_index(headers.block, "date")
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
            if d < 0 or d > options.long_delay_seconds:
                refs = [r.header_index] + ([prev_hdr] if prev_hdr is not None else [])
                by = r.by_host or "unknown host"
                if d < 0:
                    previous = prev_label if prev_label is not None else f"Received #{prev_hop}"
                    out.append(F.say("chain.clock-skew", refs, hop=h.index, by=by, skew=dur(-d), previous=previous))
                else:
                    out.append(F.say("chain.long-delay", refs, hop=h.index, by=by, delay=dur(d), threshold=dur(options.long_delay_seconds)))
        # the previous hop's label is written only when a clock skew names it
        prev_ts, prev_label, prev_hdr, prev_hop = ts, None, r.header_index, h.index
    total = None
    if first_ts is not None and last_ts is not None:
        total = (last_ts - first_ts).total_seconds()
        if total >= 0:
            start = "the Date header" if headers.date and headers.date.utc else "the oldest hop"
            out.append(F.say("chain.total-delay", total=dur(total), start=start))
        else:
            total = None
    return total


def dur(seconds: float) -> str:
    """A duration for a sentence: 0.25 s, 42 s, 7.5 min, 3.2 h, 2.1 days."""
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
