"""From parsed headers to a verdict: the coordinator of the analysis.

Pure: no I/O, no clock. ``analyze(headers, options)`` is the whole engine;
``analyze_bytes`` adds the parsing step in front of it. Each step lives in a
module named for what it decides, run in this order:

1. :mod:`.defects`   what was odd about the input (repairs, per-header defects);
2. :mod:`.border`    where the recipient's side begins (the border hop and its
   evidence: a trusted authserv-id, else the topmost SPF client address or
   authserv-id, else only a guess);
3. :mod:`.zones` and :mod:`.chain`   whose server wrote each hop, the delays;
4. :mod:`.verdict`   which way the message left the platform;
5. :mod:`.auth`      which authentication headers the recipient wrote, and what
   they say about SPF, DKIM and DMARC;
6. :mod:`.alignment` DMARC alignment of the From domain;
7. :mod:`.arc`       whether the ARC chain is well formed;
8. :mod:`.likely`    the most likely route when the verdict proves none.

Every finding's sentence is in :mod:`.findings`, next to its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.analysis import findings as F
from verifier.analysis.alignment import Alignment, alignment
from verifier.analysis.arc import arc_findings
from verifier.analysis.auth import auth_findings, results, spf_results, trusted_headers
from verifier.analysis.border import Border, guess_text, locate_border, new_border
from verifier.analysis.chain import Hop, chain_findings, zones_and_delays
from verifier.analysis.defects import collect_defects, input_findings
from verifier.analysis.hosts import host_set
from verifier.analysis.likely import likely_route
from verifier.analysis.members import UNCONFIRMED
from verifier.analysis.options import Options
from verifier.analysis.verdict import sending_side, verdict_finding
from verifier.analysis.verdict import verdict as decide_verdict
from verifier.analysis.zones import classify_sender
from verifier.model import (
    AuthResults,
    Defect,
    Headers,
    LikelyRoute,
    MethodResult,
    Severity,
    SpfResult,
    Verdict,
    Zone,
)
from verifier.parsers import parse_headers
from verifier.parsers._construct import positional_constructor

# Kept for the code that compares against them; each is equal to its string.
VERDICT_VIA_CONNECTOR = Verdict.VIA_CONNECTOR
VERDICT_BYPASSED = Verdict.BYPASSED
VERDICT_INCONCLUSIVE = Verdict.INCONCLUSIVE
VERDICT_NOT_DELIVERED = Verdict.NOT_DELIVERED

ZONE_PLATFORM = Zone.PLATFORM
ZONE_SMARTHOST = Zone.SMARTHOST
ZONE_RECIPIENT = Zone.RECIPIENT
ZONE_UNKNOWN = Zone.UNKNOWN

__all__ = [
    "Alignment",
    "Analysis",
    "Border",
    "Hop",
    "Options",
    "VERDICT_BYPASSED",
    "VERDICT_INCONCLUSIVE",
    "VERDICT_NOT_DELIVERED",
    "VERDICT_VIA_CONNECTOR",
    "ZONE_PLATFORM",
    "ZONE_RECIPIENT",
    "ZONE_SMARTHOST",
    "ZONE_UNKNOWN",
    "analyze",
    "analyze_bytes",
]


@dataclass(frozen=True, slots=True)
class Analysis:
    headers: Headers
    options: Options
    hops: tuple[Hop, ...]
    border: Border | None
    verdict: Verdict
    findings: tuple[F.Finding, ...]
    spf: tuple[SpfResult, ...]
    alignment: Alignment | None
    trusted_headers: frozenset[int] | None = None  # SPF/AR headers the recipient's side wrote
    total_seconds: float | None = None
    defects: tuple[Defect, ...] = ()  # every defect the parsers noted, with its header field
    likely: LikelyRoute | None = None  # the most likely route, proven or not (likely.py)

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
        return list(results(self.headers, method))


# Analysis(headers, options, hops, border, verdict, findings, spf, alignment, trusted_headers,
# total_seconds, defects, likely), every field given, without the frozen dataclass's
# keyword __init__: the same object, about half the cost (parsers/_construct.py).
_new_analysis = positional_constructor(Analysis)


def analyze_bytes(data: bytes | str, options: Options | None = None) -> Analysis:
    return analyze(parse_headers(data), options or Options())


def analyze(headers: Headers, options: Options | None = None) -> Analysis:
    options = options or Options()
    smarthost = host_set(tuple(options.smarthosts), True)
    platform = host_set(tuple(options.platform))
    trusted_ids = {a.lower() for a in options.trusted_authserv_ids}
    out: list[F.Finding] = []

    rcv = headers.received
    input_findings(headers, out)

    spf = spf_results(headers)
    found = locate_border(headers, trusted_ids, spf)
    guess: str | None = None
    if found is not None and not found.strong:
        # Only a guess (the topmost external client address): reported, never used as proof.
        guess = guess_text(rcv, found.hop)
        found = None
    b: Border | None = None
    if found is not None:
        b_rcv = rcv[found.hop]
        s_zone, s_match = classify_sender(b_rcv, smarthost, platform)
        b = new_border(found.hop, b_rcv.header_index, b_rcv.by_host, b_rcv.from_host, b_rcv.from_rdns, b_rcv.from_ip, s_zone, s_match, found.evidence, found.evidence_headers)
    hops = zones_and_delays(headers, b.index if b else None, smarthost, platform)
    total = chain_findings(headers, hops, options, out)

    sending = sending_side(hops, b)  # read by the verdict and the likely route
    verdict = decide_verdict(headers, hops, b, smarthost, out, guess, sending)
    trusted = trusted_headers(headers, b, spf)
    auth_findings(headers, spf, trusted, b, smarthost, out)
    al = alignment(headers, spf, trusted, out)
    arc_findings(headers, out)
    likely = likely_route(verdict, hops, b, smarthost, platform, sending)
    if likely is not None and likely.confidence == UNCONFIRMED:
        out.append(F.say("route.likely", [likely.header_index] if likely.header_index is not None else [], route=likely.route, reason=likely.reason))
    out.append(verdict_finding(verdict, b, smarthost))

    return _new_analysis(headers, options, tuple(hops), b, verdict, tuple(_sorted_findings(out)), tuple(spf), al, trusted, total, collect_defects(headers), likely)


_SEV_ORDER: dict[str, int] = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _sorted_findings(out: list[F.Finding]) -> list[F.Finding]:
    # stable: verdict first, then by severity, keeping discovery order within a severity
    return sorted(out, key=lambda f: (0 if f.code.startswith("verdict.") else 1, _SEV_ORDER.get(f.severity, 3)))
