"""``parse_headers``: bytes in, :class:`verifier.model.Headers` out (see :mod:`verifier.parsers`).

A module of its own rather than the package's ``__init__``: the compiled build
(docs/compiled.md) compiles the modules of the package, not its ``__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from verifier.parsers.paste import decode_words, normalise
from verifier.parsers.received import parse_received
from verifier.parsers.tags import parse_tag_list


def _internal(f: HeaderField, exc: Exception) -> Defect:
    return Defect(
        "parser.internal",
        f"The {f.name} header could not be read ({type(exc).__name__}); it was skipped.",
        f.index,
    )


# The fields parse_headers reads, by lower-cased name (one dict look-up per field).
_RECEIVED, _SPF, _AUTH, _TAGS, _RETURN_PATH, _FROM, _MESSAGE_ID, _SUBJECT, _DATE = range(9)
_KINDS = {
    "received": _RECEIVED,
    "received-spf": _SPF,
    "authentication-results": _AUTH,
    "arc-authentication-results": _AUTH,
    "dkim-signature": _TAGS,
    "arc-seal": _TAGS,
    "arc-message-signature": _TAGS,
    "return-path": _RETURN_PATH,
    "from": _FROM,
    "message-id": _MESSAGE_ID,
    "subject": _SUBJECT,
    "date": _DATE,
}


# The field parsers parse_headers calls, read from this table at each call: a test swaps
# one for a failing one to prove that a broken parser costs only its own header (a
# compiled build binds direct calls to module functions, which no test could swap).
PARSERS: dict[str, Callable[..., Any]] = {
    "received": parse_received,
    "authentication-results": parse_authentication_results,
    "tag-list": parse_tag_list,
    "received-spf": parse_received_spf,
    "address": parse_address,
    "date": parse_date,
    "words": decode_words,
}


def parse_headers(data: bytes | str) -> Headers:
    """Parse a pasted header block, a whole message, or bytes of any kind. Never raises."""
    block = normalise(data)
    parsers = PARSERS
    read_received = parsers["received"]
    read_ar = parsers["authentication-results"]
    read_tags = parsers["tag-list"]
    read_spf = parsers["received-spf"]
    read_address = parsers["address"]
    read_date = parsers["date"]
    read_words = parsers["words"]
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

    kinds = _KINDS
    for f in block.fields:
        name = f.name.lower()
        kind = kinds.get(name)
        if kind is None:
            continue  # most fields: nothing to read
        try:
            if kind == _RECEIVED:
                r = read_received(f.value, f.index)
                received.append(r if r is not None else Received(header_index=f.index, raw=f.value))
            elif kind == _AUTH:
                a = read_ar(f.value, f.index, name)
                if a is not None:
                    ars.append(a)
            elif kind == _TAGS:
                t = read_tags(f.value, f.index, name)
                if t is not None:
                    {"dkim-signature": dkim, "arc-seal": seals, "arc-message-signature": amss}[name].append(t)
            elif kind == _SPF:
                s = read_spf(f.value, f.index)
                if s is not None:
                    spf.append(s)
            elif kind == _RETURN_PATH:
                if return_path is None:
                    return_path = read_address(f.value, f.index)
            elif kind == _FROM:
                if from_ is None:
                    from_ = read_address(f.value, f.index)
            elif kind == _MESSAGE_ID:
                if message_id is None:
                    message_id = f.value.strip() or None
            elif kind == _SUBJECT:
                if subject is None:
                    subject = read_words(f.value)
            elif date is None:  # _DATE
                d = read_date(f.value)
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
        except Exception as exc:  # isolation: one broken header must not hide the others
            defects.append(_internal(f, exc))
            if kind == _RECEIVED:
                received.append(Received(header_index=f.index, raw=f.value))
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
