"""Data shared by every layer: what the parsers produce and what analysis reads.

All frozen dataclasses with slots. Nothing here does I/O. Absent values are
``None``, never empty strings. Every parsed header keeps the index of the
header field it came from (0 = topmost field of the block), so findings can
point at the exact lines that prove them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Verdict(enum.StrEnum):
    """Where the message left the sender's platform (compares equal to its string)."""

    VIA_CONNECTOR = "via-connector"  # through the send connector's smarthost
    BYPASSED = "bypassed"  # through the platform's own outbound
    INCONCLUSIVE = "inconclusive"  # the headers prove neither
    NOT_DELIVERED = "not-delivered"  # the probe's message never arrived (no headers to read)


class Zone(enum.StrEnum):
    """Whose server wrote a Received header."""

    PLATFORM = "platform"
    SMARTHOST = "smarthost"
    RECIPIENT = "recipient"
    UNKNOWN = "unknown"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Confidence(enum.StrEnum):
    """How sure a likely route is: proven by the recipient's own evidence, or not."""

    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, slots=True)
class Defect:
    """Something odd about the input: kept, reported, never fatal."""

    code: str  # stable, dotted: "received.invalid-ip", "date.unparsed", "paste.html-escaped"
    message: str  # one sentence for a person
    header_index: int | None = None
    header_name: str | None = None  # the field it belongs to, as written ("Received"); None for the block


@dataclass(frozen=True, slots=True)
class LikelyRoute:
    """The most likely route when the strict verdict cannot prove one (or agrees with it)."""

    route: str  # Verdict.VIA_CONNECTOR | Verdict.BYPASSED
    confidence: str  # Confidence.CONFIRMED | Confidence.UNCONFIRMED
    hop_index: int | None  # the hop that suggests it (0 = topmost Received)
    header_index: int | None  # that hop's header field
    reason: str  # why this route, and why it is not proven


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One header field after paste normalisation and unfolding."""

    index: int  # position in the block, 0 = topmost
    name: str  # as written (case kept)
    value: str  # unfolded value: CRLF+WSP folded into single spaces, ends trimmed
    line: int  # 1-based line number of the field's first line in the normalised text

    @property
    def lname(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class HeaderBlock:
    """The result of paste normalisation."""

    fields: tuple[HeaderField, ...]
    defects: tuple[Defect, ...] = ()
    has_body: bool = False
    text: str = ""  # the normalised header text (LF line ends), for DKIM/ARC re-verification

    def get_all(self, name: str) -> list[HeaderField]:
        n = name.lower()
        return [f for f in self.fields if f.lname == n]

    def get(self, name: str) -> HeaderField | None:
        n = name.lower()
        for f in self.fields:
            if f.lname == n:
                return f
        return None


@dataclass(frozen=True, slots=True)
class ParsedDate:
    raw: str
    utc: datetime | None  # aware, UTC; None when the text could not be read
    offset_minutes: int | None  # the offset as written (+0200 -> 120); None if absent/unknown


@dataclass(frozen=True, slots=True)
class Received:
    """One Received header, as parsed. Fields are what the header *says*."""

    header_index: int
    raw: str
    from_host: str | None = None  # the name the client gave (HELO/EHLO, or the from-clause name)
    from_rdns: str | None = None  # the reverse-DNS name the receiver recorded
    from_ip: str | None = None  # the client's address as written (normalised when valid)
    ip_valid: bool | None = None  # None when there is no IP
    ident: str | None = None
    by_host: str | None = None
    with_: str | None = None  # protocol, e.g. ESMTPS, SMTP, LMTP, "Microsoft SMTP Server"
    tls: bool | None = None  # True: evidence of TLS; False: protocol says plain; None: unknown
    tls_detail: str | None = None  # e.g. "TLS1_2, cipher=... " or "TLSv1.3 with cipher ..."
    authenticated: bool = False  # ESMTPA/ESMTPSA, "Authenticated sender", "authenticated bits"
    id: str | None = None
    for_: str | None = None  # recipient, without angle brackets
    envelope_from: str | None = None
    via: str | None = None
    date: ParsedDate | None = None
    defects: tuple[Defect, ...] = ()


@dataclass(frozen=True, slots=True)
class SpfResult:
    """An SPF result, from Received-SPF or from an spf= method of Authentication-Results."""

    header_index: int
    source: str  # "received-spf" | "authentication-results"
    result: str  # lower case: pass, fail, softfail, neutral, none, temperror, permerror, or other
    client_ip: str | None = None
    domain: str | None = None  # the domain checked: envelope-from domain, else the HELO name
    envelope_from: str | None = None
    helo: str | None = None
    receiver: str | None = None
    identity: str | None = None  # mailfrom | helo
    authserv_id: str | None = None


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One method of an Authentication-Results header (RFC 8601 resinfo)."""

    method: str  # lower case: spf, dkim, dmarc, arc, auth, iprev, ...
    result: str  # lower case
    reason: str | None = None
    properties: dict[str, str] = field(default_factory=dict)  # "header.d" -> "example.com"
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class AuthResults:
    """One Authentication-Results or ARC-Authentication-Results header."""

    header_index: int
    kind: str  # "authentication-results" | "arc-authentication-results"
    authserv_id: str | None
    results: tuple[MethodResult, ...] = ()
    version: str | None = None
    arc_instance: int | None = None  # i= of an ARC-Authentication-Results
    strict: bool = True  # False when only the lenient fallback could read it
    defects: tuple[Defect, ...] = ()


@dataclass(frozen=True, slots=True)
class TagList:
    """A DKIM-Signature, ARC-Message-Signature or ARC-Seal (RFC 6376 §3.2 tag-list)."""

    header_index: int
    kind: str  # "dkim-signature" | "arc-message-signature" | "arc-seal"
    tags: dict[str, str]  # values with folding whitespace removed where the RFC allows it
    defects: tuple[Defect, ...] = ()

    @property
    def d(self) -> str | None:
        return self.tags.get("d")

    @property
    def s(self) -> str | None:
        return self.tags.get("s")

    @property
    def a(self) -> str | None:
        return self.tags.get("a")

    @property
    def i(self) -> str | None:
        return self.tags.get("i")

    @property
    def h(self) -> tuple[str, ...]:
        raw = self.tags.get("h")
        if not raw:
            return ()
        return tuple(x.strip().lower() for x in raw.split(":") if x.strip())


@dataclass(frozen=True, slots=True)
class Address:
    """An address header reduced to what analysis needs (From, Return-Path)."""

    header_index: int
    raw: str
    address: str | None  # local@domain without brackets; None when unreadable or null (<>)
    domain: str | None  # lower case


@dataclass(frozen=True, slots=True)
class Headers:
    """Everything the parsers read from one header block."""

    block: HeaderBlock
    received: tuple[Received, ...]  # header order, topmost first
    return_path: Address | None
    from_: Address | None
    spf: tuple[SpfResult, ...]
    auth_results: tuple[AuthResults, ...]  # both AR and AAR, header order
    dkim_signatures: tuple[TagList, ...]
    arc_seals: tuple[TagList, ...]
    arc_message_signatures: tuple[TagList, ...]
    message_id: str | None = None
    subject: str | None = None
    date: ParsedDate | None = None
    defects: tuple[Defect, ...] = ()
    # SPF results read from the spf= methods of Authentication-Results headers (header order)
    ar_spf: tuple[SpfResult, ...] = ()
