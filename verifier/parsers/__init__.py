"""Pure parsers: bytes in, :class:`verifier.model.Headers` out. No I/O, no clock.

``parse_headers(data)`` normalises the paste (:mod:`.paste`), then reads every
Received, Authentication-Results, ARC-Authentication-Results, Received-SPF,
DKIM-Signature, ARC-Seal, ARC-Message-Signature, Return-Path, From, Message-ID,
Subject (RFC 2047 words decoded) and Date, and the SPF results the spf= methods
of Authentication-Results record (``Headers.ar_spf``), so analysis needs no parser. Failures are isolated per header: an
unexpected exception in one header's parser becomes a Defect ``parser.internal``
on that header and the others are still read (the parsers are written so that
this does not happen). A Date header that cannot be read, or has no offset, adds
``date.unparsed`` / ``date.no-offset`` to ``Headers.defects``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from verifier.model import (
    Address,
    AuthResults,
    Defect,
    HeaderField,
    Headers,
    ParsedDate,
    Received,
    SpfResult,
    TagList,
)
from verifier.parsers.addresses import parse_address
from verifier.parsers.auth import (
    parse_authentication_results,
    parse_received_spf,
    spf_results_from_ar,
)
from verifier.parsers.dates import parse_date
from verifier.parsers.paste import decode_words, normalise, split_messages
from verifier.parsers.received import parse_received
from verifier.parsers.tags import parse_tag_list

__all__ = [
    "parse_headers",
    "normalise",
    "split_messages",
    "parse_received",
    "parse_date",
    "parse_received_spf",
    "parse_authentication_results",
    "spf_results_from_ar",
    "parse_tag_list",
    "parse_address",
    "decode_words",
]

T = TypeVar("T")


def _guard(f: HeaderField, fn: Callable[[], T], defects: list[Defect]) -> T | None:
    try:
        return fn()
    except Exception as exc:  # isolation: one broken header must not hide the others
        defects.append(
            Defect(
                "parser.internal",
                f"The {f.name} header could not be read ({type(exc).__name__}); it was skipped.",
                f.index,
            )
        )
        return None


def parse_headers(data: bytes | str) -> Headers:
    """Parse a pasted header block, a whole message, or bytes of any kind. Never raises."""
    block = normalise(data)
    defects: list[Defect] = []
    received: list[Received] = []
    spf: list[SpfResult] = []
    ars: list[AuthResults] = []
    dkim: list[TagList] = []
    seals: list[TagList] = []
    amss: list[TagList] = []
    return_path: Address | None = None
    from_: Address | None = None
    message_id: str | None = None
    subject: str | None = None
    date: ParsedDate | None = None

    for f in block.fields:
        name = f.lname
        if name == "received":
            r = _guard(f, lambda f=f: parse_received(f.value, f.index), defects)
            if r is None:
                r = Received(header_index=f.index, raw=f.value)
            received.append(r)
        elif name == "received-spf":
            s = _guard(f, lambda f=f: parse_received_spf(f.value, f.index), defects)
            if s is not None:
                spf.append(s)
        elif name in ("authentication-results", "arc-authentication-results"):
            a = _guard(
                f,
                lambda f=f, name=name: parse_authentication_results(f.value, f.index, name),
                defects,
            )
            if a is not None:
                ars.append(a)
        elif name in ("dkim-signature", "arc-seal", "arc-message-signature"):
            t = _guard(f, lambda f=f, name=name: parse_tag_list(f.value, f.index, name), defects)
            if t is not None:
                {"dkim-signature": dkim, "arc-seal": seals, "arc-message-signature": amss}[
                    name
                ].append(t)
        elif name == "return-path" and return_path is None:
            return_path = _guard(f, lambda f=f: parse_address(f.value, f.index), defects)
        elif name == "from" and from_ is None:
            from_ = _guard(f, lambda f=f: parse_address(f.value, f.index), defects)
        elif name == "message-id" and message_id is None:
            message_id = f.value.strip() or None
        elif name == "subject" and subject is None:
            subject = decode_words(f.value)
        elif name == "date" and date is None:
            d = _guard(f, lambda f=f: parse_date(f.value), defects)
            if d is not None:
                date = d
                if d.utc is not None and d.offset_minutes is None:
                    defects.append(
                        Defect(
                            "date.no-offset",
                            "The Date header has no time-zone offset; it was read as UTC.",
                            f.index,
                        )
                    )
                if d.utc is None:
                    defects.append(
                        Defect(
                            "date.unparsed",
                            f"The Date header {d.raw[:80]!r} could not be read.",
                            f.index,
                        )
                    )
    ar_spf: list[SpfResult] = []
    for a in ars:
        if a.kind == "authentication-results":
            ar_spf.extend(spf_results_from_ar(a))
    return Headers(
        block=block,
        received=tuple(received),
        return_path=return_path,
        from_=from_,
        spf=tuple(spf),
        auth_results=tuple(ars),
        dkim_signatures=tuple(dkim),
        arc_seals=tuple(seals),
        arc_message_signatures=tuple(amss),
        message_id=message_id,
        subject=subject,
        date=date,
        defects=tuple(defects),
        ar_spf=tuple(ar_spf),
    )
