"""The report model: everything a report shows, built once from an ``Analysis``.

The JSON, text and HTML reports all render this object, so they cannot
disagree (one DKIM domain, one delay, one list of findings). ``to_json()`` is
the contract documented in README.md ("JSON output"): key order and values
are stable; absent values are ``null``, never empty strings.

Values here are as the headers wrote them. Each renderer makes them safe for
its medium: the HTML templates escape them, the text report replaces control
characters before anything reaches a terminal (``safe_text``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from verifier.analysis.engine import Analysis
from verifier.analysis.hosts import org_domain
from verifier.model import TagList

# --------------------------------------------------------------------------- helpers

# C0 controls except TAB, DEL, and the C1 controls (0x80-0x9f: CSI is 0x9b on some
# terminals); also the Unicode line and paragraph separators and bidi overrides, which
# can make a line read differently from what it holds.
_CONTROL_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe_text(value: str) -> str:
    """``value`` with every control character replaced by a visible escape (``\\x1b``).

    Used for every value printed to a terminal: an escape sequence in a header
    must not recolour the screen, set the window title or rewrite a line.
    """
    if not _CONTROL_RE.search(value):
        return value
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", value)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{dt.microsecond:06d}".rstrip("0") if dt.microsecond else "") + "Z"


def _nz(v):
    return v if v not in ("", None) else None


def duration(seconds: float | None) -> str:
    """A short duration for tables: 0s, 12s, 3.5m, 2.1h; ``?`` when unknown."""
    if seconds is None:
        return "?"
    if seconds < 1:
        return f"{seconds:.1f}s" if seconds else "0s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


# What to do about a finding, for the codes that call for an action. The finding's
# message says what was seen; this says what a support engineer can change.
FIXES: dict[str, str] = {
    "input.no-headers": "Paste the message's full header block (from 'Show original' or the .eml file), not the body.",
    "chain.no-received": "Get the headers as the recipient's mailbox shows them: a copy taken before delivery has no route.",
    "chain.unparsed-hop": "Check that the header was pasted whole; a Received line cut in the middle cannot be read.",
    "chain.clock-skew": "Compare the clocks of the two servers named (NTP); the delay between them cannot be trusted until then.",
    "chain.long-delay": "Look at the queue and logs of the server that held the message at that time (greylisting, retries, a busy queue).",
    "border.not-found": "Give the recipient's authserv-id with --trusted-authserv, or paste headers that include its Authentication-Results.",
    "border.from-platform": "Check that the send connector is attached to this sender and active; the platform delivered the message itself.",
    "border.from-unknown": "Give the connector's smarthost with --smarthost (and the platform's hosts with --platform if they differ).",
    "route.platform-after-smarthost": "The smarthost handed the message back to the platform: check the smarthost's own routing for this recipient.",
    "route.no-smarthost-given": "Give the connector's smarthost (--smarthost, or the Smarthost field) to prove the route through it.",
    "spf.not-pass": "Add the sending host's address (the smarthost when the connector is used) to the envelope domain's SPF record.",
    "spf.client-ip-mismatch": "The SPF result is about another hop's address: check which server wrote it before relying on it.",
    "dkim.fail": "Check that the signing key in DNS matches the signer's key and that no hop rewrote signed headers or the body.",
    "dkim.not-signed": "Enable DKIM signing for the sender's domain on the platform or on the smarthost.",
    "dmarc.not-aligned": "Sign with the From domain (DKIM) or send with an envelope sender in the From domain that the smarthost is allowed to use (SPF).",
    "arc.broken": "The ARC chain cannot be relied on: look at the intermediary that added the broken set.",
    "verdict.bypassed": "Check the send connector: attached to this sender, active, and no pending API task; then send a probe (verifier probe).",
    "verdict.inconclusive": "Give --smarthost and --trusted-authserv, or paste the headers as the recipient received them.",
}


# A finding whose message already says what to do gets no second fix.
_ADVICE = ("Fix:", "Give the", "Check that")

# --------------------------------------------------------------------------- the parts


@dataclass(frozen=True, slots=True)
class HeaderRef:
    """A header field a finding or a verdict cites."""

    index: int
    name: str
    line: int

    @property
    def label(self) -> str:
        return f"{self.name}@line {self.line}"


@dataclass(frozen=True, slots=True)
class HopView:
    index: int
    header_index: int
    from_host: str | None
    from_rdns: str | None
    from_ip: str | None
    ip_valid: bool | None
    by_host: str | None
    with_: str | None
    tls: bool | None
    tls_detail: str | None
    authenticated: bool
    id: str | None
    for_: str | None
    envelope_from: str | None
    timestamp: datetime | None
    date_raw: str | None
    delay_seconds: float | None
    zone: str
    raw: str
    border: bool = False  # the recipient's border hop
    delay_state: str = "unknown"  # "ok" | "skew" (clocks disagree) | "unknown" (a date is missing)

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "header_index": self.header_index,
            "from_host": self.from_host,
            "from_rdns": self.from_rdns,
            "from_ip": self.from_ip,
            "ip_valid": self.ip_valid,
            "by_host": self.by_host,
            "with": self.with_,
            "tls": self.tls,
            "tls_detail": self.tls_detail,
            "authenticated": self.authenticated,
            "id": self.id,
            "for": self.for_,
            "envelope_from": self.envelope_from,
            "timestamp": iso(self.timestamp),
            "date_raw": self.date_raw,
            "delay_seconds": self.delay_seconds,
            "zone": self.zone,
            "raw": self.raw,
        }

    @property
    def sender_label(self) -> str:
        names = [self.from_host or ""]
        if self.from_rdns and self.from_rdns != self.from_host:
            names.append(self.from_rdns)
        return " / ".join(n for n in names if n) or "-"


@dataclass(frozen=True, slots=True)
class BorderView:
    index: int
    header_index: int
    receiver: str | None
    sender_host: str | None  # rDNS name when recorded, else HELO
    sender_helo: str | None
    sender_ip: str | None
    sender_zone: str
    evidence: tuple[str, ...]
    evidence_headers: tuple[int, ...]

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "header_index": self.header_index,
            "receiver": self.receiver,
            "sender_host": self.sender_host,
            "sender_helo": self.sender_helo,
            "sender_ip": self.sender_ip,
            "sender_zone": self.sender_zone,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class SpfView:
    source: str
    result: str
    client_ip: str | None
    domain: str | None
    identity: str | None
    authserv_id: str | None
    trusted: bool | None
    header_index: int

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "result": self.result,
            "client_ip": self.client_ip,
            "domain": self.domain,
            "identity": self.identity,
            "authserv_id": self.authserv_id,
            "trusted": self.trusted,
            "header_index": self.header_index,
        }


@dataclass(frozen=True, slots=True)
class DkimView:
    result: str
    domain: str | None  # d= (or the domain of i= when d= is absent), lower case
    selector: str | None
    authserv_id: str | None
    trusted: bool | None
    header_index: int

    def to_json(self) -> dict:
        return {
            "result": self.result,
            "domain": self.domain,
            "selector": self.selector,
            "authserv_id": self.authserv_id,
            "trusted": self.trusted,
            "header_index": self.header_index,
        }


@dataclass(frozen=True, slots=True)
class DmarcView:
    result: str
    header_from: str | None
    policy: str | None
    authserv_id: str | None
    trusted: bool | None
    header_index: int

    def to_json(self) -> dict:
        return {
            "result": self.result,
            "header_from": self.header_from,
            "policy": self.policy,
            "authserv_id": self.authserv_id,
            "trusted": self.trusted,
            "header_index": self.header_index,
        }


@dataclass(frozen=True, slots=True)
class ArcView:
    result: str
    authserv_id: str | None
    trusted: bool | None
    header_index: int

    def to_json(self) -> dict:
        return {"result": self.result, "authserv_id": self.authserv_id, "trusted": self.trusted, "header_index": self.header_index}


@dataclass(frozen=True, slots=True)
class SignatureView:
    d: str | None
    s: str | None
    a: str | None
    h: tuple[str, ...]
    i: str | None
    header_index: int

    def to_json(self) -> dict:
        return {"d": self.d, "s": self.s, "a": self.a, "h": list(self.h), "i": self.i, "header_index": self.header_index}


@dataclass(frozen=True, slots=True)
class AlignmentView:
    from_domain: str | None
    from_org_domain: str | None
    spf_domains: tuple[str, ...]
    dkim_domains: tuple[str, ...]
    spf_aligned: bool
    dkim_aligned: bool
    based_on: str

    def to_json(self) -> dict:
        return {
            "from_domain": self.from_domain,
            "from_org_domain": self.from_org_domain,
            "spf_domains": list(self.spf_domains),
            "dkim_domains": list(self.dkim_domains),
            "spf_aligned": self.spf_aligned,
            "dkim_aligned": self.dkim_aligned,
            "based_on": self.based_on,
        }


@dataclass(frozen=True, slots=True)
class FindingView:
    code: str
    severity: str
    message: str
    headers: tuple[int, ...]
    refs: tuple[HeaderRef, ...] = ()
    fix: str | None = None

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message, "headers": list(self.headers)}


@dataclass(frozen=True, slots=True)
class DefectView:
    code: str
    message: str
    header_index: int | None
    header_name: str | None = None

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message, "header_index": self.header_index}


@dataclass(frozen=True, slots=True)
class LikelyView:
    route: str
    confidence: str
    hop_index: int | None
    header_index: int | None
    reason: str

    def to_json(self) -> dict:
        return {
            "route": self.route,
            "confidence": self.confidence,
            "hop_index": self.hop_index,
            "header_index": self.header_index,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """One header field as pasted, for the "all headers" list."""

    index: int
    name: str
    value: str  # unfolded, as written
    line: int
    decoded: str | None  # the value with RFC 2047 words decoded, when that differs
    evidence: bool  # cited by a finding, the verdict or the border


@dataclass(frozen=True, slots=True)
class Meta:
    return_path: str | None
    from_: str | None
    message_id: str | None
    subject: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class OptionsView:
    smarthosts: tuple[str, ...]
    platform: tuple[str, ...]
    trusted_authserv_ids: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "smarthosts": list(self.smarthosts),
            "platform": list(self.platform),
            "trusted_authserv_ids": list(self.trusted_authserv_ids),
        }


@dataclass(frozen=True, slots=True)
class Report:
    input_name: str | None
    verdict: str
    verdict_finding: FindingView | None
    hops: tuple[HopView, ...]  # header order, topmost first
    border: BorderView | None
    meta: Meta
    spf: tuple[SpfView, ...]
    dkim: tuple[DkimView, ...]
    dmarc: tuple[DmarcView, ...]
    arc: tuple[ArcView, ...]
    dkim_signatures: tuple[SignatureView, ...]
    arc_sets: tuple[int, ...]
    authserv_ids: tuple[str, ...]
    alignment: AlignmentView | None
    total_seconds: float | None
    total_from: str | None  # "the Date header" | "the oldest hop"
    findings: tuple[FindingView, ...]
    defects: tuple[DefectView, ...]
    options: OptionsView
    likely: LikelyView | None
    has_likely: bool  # the analysis gives a likely route (the key is in the JSON)
    header_lines: tuple[HeaderLine, ...] = field(default=())

    @property
    def likely_unproven(self) -> LikelyView | None:
        """The likely route when the verdict proves none: shown before the strict verdict.
        A confirmed likely route is the verdict itself and is not shown twice."""
        if self.likely is not None and self.likely.confidence != "confirmed":
            return self.likely
        return None

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict:
        out: dict = {}
        if self.input_name is not None:
            out["input"] = self.input_name
        out["verdict"] = self.verdict
        if self.has_likely:
            out["likely"] = self.likely.to_json() if self.likely else None
        out.update(
            {
                "hops": [h.to_json() for h in self.hops],
                "border": self.border.to_json() if self.border else None,
                "return_path": self.meta.return_path,
                "from": self.meta.from_,
                "message_id": self.meta.message_id,
                "subject": self.meta.subject,
                "date": iso(self.meta.date),
                "spf": [s.to_json() for s in self.spf],
                "dkim": [d.to_json() for d in self.dkim],
                "dmarc": [d.to_json() for d in self.dmarc],
                "arc": [x.to_json() for x in self.arc],
                "dkim_signatures": [s.to_json() for s in self.dkim_signatures],
                "arc_sets": list(self.arc_sets),
                "authserv_ids": list(self.authserv_ids),
                "alignment": self.alignment.to_json() if self.alignment else None,
                "total_seconds": self.total_seconds,
                "findings": [f.to_json() for f in self.findings],
                "defects": [d.to_json() for d in self.defects],
                "options": self.options.to_json(),
            }
        )
        return out

    # ------------------------------------------------------------------ views

    @property
    def hops_oldest_first(self) -> tuple[HopView, ...]:
        return tuple(reversed(self.hops))

    @property
    def other_findings(self) -> tuple[FindingView, ...]:
        """Every finding but the verdict's own (shown in the banner)."""
        return tuple(f for f in self.findings if not f.code.startswith("verdict."))

    @property
    def verdict_refs(self) -> tuple[HeaderRef, ...]:
        return self.verdict_finding.refs if self.verdict_finding else ()

    @property
    def max_delay(self) -> float:
        return max((h.delay_seconds for h in self.hops if h.delay_seconds), default=0.0)

    @property
    def smarthost_hops(self) -> tuple[int, ...]:
        return tuple(h.index for h in self.hops if h.zone == "smarthost")


# --------------------------------------------------------------------------- building


def _dkim_domain(props: dict[str, str]) -> str | None:
    d = props.get("header.d")
    if not d and "@" in (props.get("header.i") or ""):
        d = props["header.i"].rsplit("@", 1)[1]
    return _nz(d.lower() if d else None)


def _sig(t: TagList) -> SignatureView:
    return SignatureView(_nz(t.d), _nz(t.s), _nz(t.a), tuple(t.h), _nz(t.i), t.header_index)


def _instance(i: str | None) -> bool:
    """An ARC instance number worth listing: ASCII digits, short enough to be a number."""
    s = (i or "").strip()
    return s.isascii() and s.isdigit() and len(s) <= 18


def _decoded(value: str) -> str | None:
    if "=?" not in value:
        return None
    from verifier.parsers.paste import decode_words

    d = decode_words(value)
    return d if d != value else None


def build(a: Analysis, *, input_name: str | None = None, header_lines: bool = True) -> Report:
    """The report model of one analysis (``header_lines=False`` skips the header list, for JSON)."""
    h = a.headers
    fields = h.block.fields

    def ref(i: int) -> HeaderRef | None:
        if 0 <= i < len(fields):
            f = fields[i]
            return HeaderRef(i, f.name, f.line)
        return None

    # delays: why a hop has none (a missing date, or clocks that disagree)
    rcv = h.received
    base = h.date.utc if h.date and h.date.utc else None
    border_idx = a.border.index if a.border else None
    hops = []
    for hop in a.hops:
        r = hop.received
        ts = r.date.utc if r.date else None
        below = (rcv[hop.index + 1].date.utc if rcv[hop.index + 1].date else None) if hop.index + 1 < len(rcv) else base
        if hop.delay_seconds is not None:
            state = "ok"
        elif ts is not None and below is not None:
            state = "skew"
        else:
            state = "unknown"
        hops.append(
            HopView(
                index=hop.index,
                header_index=r.header_index,
                from_host=_nz(r.from_host),
                from_rdns=_nz(r.from_rdns),
                from_ip=_nz(r.from_ip),
                ip_valid=r.ip_valid,
                by_host=_nz(r.by_host),
                with_=_nz(r.with_),
                tls=r.tls,
                tls_detail=_nz(r.tls_detail),
                authenticated=r.authenticated,
                id=_nz(r.id),
                for_=_nz(r.for_),
                envelope_from=_nz(r.envelope_from),
                timestamp=ts,
                date_raw=_nz(r.date.raw if r.date else None),
                delay_seconds=hop.delay_seconds,
                zone=hop.zone,
                raw=r.raw,
                border=border_idx == hop.index,
                delay_state=state,
            )
        )

    spf = tuple(
        SpfView(s.source, s.result, _nz(s.client_ip), _nz(s.domain), _nz(s.identity), _nz(s.authserv_id), a.trusted(s.header_index), s.header_index)
        for s in a.spf
    )
    dkim, dmarc, arc = [], [], []
    for ar, r in a.method_results("dkim"):
        dkim.append(DkimView(r.result, _dkim_domain(r.properties), _nz(r.properties.get("header.s")), _nz(ar.authserv_id), a.trusted(ar.header_index), ar.header_index))
    for ar, r in a.method_results("dmarc"):
        dmarc.append(DmarcView(r.result, _nz(r.properties.get("header.from")), _nz(r.properties.get("policy.dmarc")), _nz(ar.authserv_id), a.trusted(ar.header_index), ar.header_index))
    for ar, r in a.method_results("arc"):
        arc.append(ArcView(r.result, _nz(ar.authserv_id), a.trusted(ar.header_index), ar.header_index))

    b = a.border
    border = None
    if b is not None:
        border = BorderView(b.index, b.header_index, _nz(b.receiver), _nz(b.sender_rdns or b.sender_host), _nz(b.sender_host), _nz(b.sender_ip), b.sender_zone, tuple(b.evidence), tuple(b.evidence_headers))
    al = a.alignment
    alignment = None
    if al is not None:
        alignment = AlignmentView(al.from_domain, org_domain(al.from_domain), tuple(al.spf_domains), tuple(al.dkim_domains), al.spf_aligned, al.dkim_aligned, al.based_on)

    findings = []
    for f in a.findings:
        refs = tuple(x for x in (ref(i) for i in f.headers) if x is not None)
        advised = any(w in f.message for w in _ADVICE)
        findings.append(FindingView(f.code, f.severity, f.message, tuple(f.headers), refs, None if advised else FIXES.get(f.code)))
    verdict_finding = next((f for f in findings if f.code.startswith("verdict.")), None)

    new_defects = getattr(a, "defects", None)
    if new_defects is None:
        defects = tuple(DefectView(d.code, d.message, d.header_index) for d in (*h.block.defects, *h.defects))
    else:
        defects = tuple(DefectView(d.code, d.message, d.header_index, getattr(d, "header_name", None)) for d in new_defects)

    has_likely = hasattr(a, "likely")
    lk = getattr(a, "likely", None)
    likely = LikelyView(str(lk.route), str(lk.confidence), lk.hop_index, lk.header_index, lk.reason) if lk is not None else None

    lines: tuple[HeaderLine, ...] = ()
    if header_lines:
        cited: set[int] = set()
        for f in findings:
            cited.update(f.headers)
        if border:
            cited.add(border.header_index)
            cited.update(border.evidence_headers)
        if likely and likely.header_index is not None:
            cited.add(likely.header_index)
        lines = tuple(HeaderLine(f.index, f.name, f.value, f.line, _decoded(f.value), f.index in cited) for f in fields)

    return Report(
        input_name=input_name,
        verdict=str(a.verdict),
        verdict_finding=verdict_finding,
        hops=tuple(hops),
        border=border,
        meta=Meta(
            return_path=_nz(h.return_path.address if h.return_path else None),
            from_=_nz(h.from_.address if h.from_ else None),
            message_id=_nz(h.message_id),
            subject=_nz(h.subject),
            date=h.date.utc if h.date else None,
        ),
        spf=spf,
        dkim=tuple(dkim),
        dmarc=tuple(dmarc),
        arc=tuple(arc),
        dkim_signatures=tuple(_sig(t) for t in h.dkim_signatures),
        arc_sets=tuple(sorted({int(t.i) for t in h.arc_seals if _instance(t.i)})),
        authserv_ids=tuple(a.authserv_ids),
        alignment=alignment,
        total_seconds=a.total_seconds,
        total_from=("the Date header" if base is not None else "the oldest hop") if a.total_seconds is not None else None,
        findings=tuple(findings),
        defects=defects,
        options=OptionsView(tuple(a.options.smarthosts), tuple(a.options.platform), tuple(a.options.trusted_authserv_ids)),
        likely=likely,
        has_likely=has_likely,
        header_lines=lines,
    )
