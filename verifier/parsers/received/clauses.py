"""Stage 2 of the Received reader: the date and the clauses (the full reader).

**Date**: the text after the last ``;`` outside comments and literals; without
one, from a weekday, an ISO date or a ``day month`` pair (SendGrid and Brevo write
no ``;``). Keywords after the date (``id`` after the date, seen from Courier) are
read as clauses.

**Clauses**: ``from``, ``by``, ``via``, ``with``, ``id``, ``for`` are keywords only
as whole top-level words; the first occurrence wins; a later ``from <addr>`` is the
envelope sender (XMail). Each clause's tokens then go to the from-clause reader
(:mod:`.from_clause`) and the protocol/TLS/auth reader (:mod:`.tls_auth`).
"""

from __future__ import annotations

import re

from verifier.model import Defect, ParsedDate, Received
from verifier.parsers.dates import parse_date
from verifier.parsers.entities import decode_entities, has_entities
from verifier.parsers.received.from_clause import analyse_from as _analyse_from
from verifier.parsers.received.from_clause import as_local as _as_local
from verifier.parsers.received.from_clause import no_connection as _no_connection
from verifier.parsers.received.tls_auth import detect_auth as _detect_auth
from verifier.parsers.received.tls_auth import detect_tls as _detect_tls
from verifier.parsers.received.tls_auth import protocol as _protocol
from verifier.parsers.received.tokens import (
    ANGLE,
    BRACKET,
    COMMENT,
    KEYWORDS,
    MAX_NESTING,
    MAX_TOKENS,
    SEMI,
    WORD,
    Tok,
    tokenise,
)

_WEEKDAY_RE = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6},?", re.IGNORECASE)
_MONTH_RE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?,?", re.IGNORECASE
)
_ISO_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?")
_DAY_RE = re.compile(r"\d{1,2}")
_SENDMAIL_LOCAL_RE = re.compile(r"from\s+[^\s@\[\]()]{1,256}@[^\s@\[\]()]{1,256}")
_ENVFROM_RE = re.compile(r"envelope-(?:from|sender)[ =:]{0,3}<?([^<>\s()]{0,512})>?", re.IGNORECASE)


def opt(value: str | None) -> str | None:
    """Absent values are None, never empty strings."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _first_value(toks: list[Tok]) -> str | None:
    for t in toks:
        if t.kind == WORD:
            v = t.text.rstrip(";,")
            return v or None
        if t.kind in (ANGLE, BRACKET):
            return t.text.strip() or None
    return None


def _for_value(toks: list[Tok]) -> str | None:
    for t in toks:
        if t.kind == ANGLE:
            v = t.text.strip()
            if not v or " " in v:  # "<multiple recipients>"
                return None
            return v
        if t.kind == WORD:
            v = t.text.strip().rstrip(";,").strip("<>")
            return v or None
    return None


def _find_date_start(toks: list[Tok]) -> int | None:
    """Without a ';': the index of the token where a date starts, or None."""
    for i, t in enumerate(toks):
        if t.kind != WORD:
            continue
        w = t.text
        if _WEEKDAY_RE.fullmatch(w) and i + 1 < len(toks):
            nxt = toks[i + 1].text
            if _MONTH_RE.fullmatch(nxt) or _DAY_RE.fullmatch(nxt):
                return i
        if _ISO_RE.fullmatch(w):
            return i
        if _DAY_RE.fullmatch(w) and i + 2 < len(toks) and _MONTH_RE.fullmatch(toks[i + 1].text):
            if toks[i + 2].text.isdigit():
                return i
    return None


def parse_full(value: str, header_index: int) -> Received:
    """The general reading: tokenise, find the date, split the clauses, interpret them."""
    raw = value
    defects: list[Defect] = []
    s = value
    if has_entities(s):
        s = decode_entities(s)
        defects.append(
            Defect(
                "received.html-escaped",
                "The header held HTML entities; they were decoded.",
                header_index,
            )
        )
    toks, depth, truncated = tokenise(s)
    if depth > MAX_NESTING:
        defects.append(
            Defect(
                "received.deep-nesting",
                f"Comments are nested {depth} levels deep; beyond {MAX_NESTING} they are kept as raw text.",
                header_index,
            )
        )
    if truncated:
        # Keep the date: read the text after the last ';' when it lies beyond the cut.
        cut_at = toks[-1].end if toks else 0
        semi = s.rfind(";")
        if semi >= cut_at and len(s) - semi <= 4096:
            tail, _d, _t = tokenise(s[semi:])
            for t in tail:
                t.start += semi
                t.end += semi
            toks.extend(tail)
        defects.append(
            Defect(
                "received.truncated",
                f"The header has more than {MAX_TOKENS} parts; only the first ones were read.",
                header_index,
            )
        )

    # ---- date
    last = -1
    for i in range(len(toks) - 1, -1, -1):
        if toks[i].kind == SEMI:
            last = i
            break
    date: ParsedDate | None = None
    clause_toks = toks
    tail_toks: list[Tok] = []
    date_text: str | None = None
    if last >= 0:
        clause_toks = toks[:last]
        after = toks[last + 1 :]
        # keywords after the date (Courier: "...; <date> id 000000DB...")
        cut = len(after)
        for i, t in enumerate(after):
            if t.kind == WORD and t.text.lower() in ("id", "for", "with", "via"):
                cut = i
                break
        date_toks = [
            t for t in after[:cut] if not (t.kind == COMMENT and _ENVFROM_RE.search(t.text))
        ]
        tail_toks = after[cut:]
        if date_toks:
            date_text = s[date_toks[0].start : date_toks[-1].end]
            if date_text.strip():
                date = parse_date(date_text)
                if date.utc is None:
                    # the text after the last ';' is not a date: maybe one is earlier (no ';')
                    k = _find_date_start(clause_toks)
                    if k is not None:
                        alt = parse_date(s[clause_toks[k].start : clause_toks[-1].end])
                        if alt.utc is not None:
                            date, date_text = alt, alt.raw
                            clause_toks = clause_toks[:k]
    else:
        k = _find_date_start(toks)
        if k is not None:
            end = len(toks)
            for i in range(k, len(toks)):
                if toks[i].kind == WORD and toks[i].text.lower() in (
                    "id",
                    "for",
                    "with",
                    "via",
                    "by",
                    "from",
                ):
                    end = i
                    break
            date_toks = [
                t for t in toks[k:end] if not (t.kind == COMMENT and _ENVFROM_RE.search(t.text))
            ]
            if date_toks:
                date_text = s[date_toks[0].start : date_toks[-1].end]
            tail_toks = toks[end:]
            clause_toks = toks[:k]
    if date_text is not None and date_text.strip():
        if date is None:
            date = parse_date(date_text)
        if date.utc is None:
            defects.append(
                Defect(
                    "date.unparsed", f"The date {date.raw[:80]!r} could not be read.", header_index
                )
            )
        elif date.offset_minutes is None:
            defects.append(
                Defect(
                    "date.no-offset",
                    "The date has no time-zone offset; it was read as UTC.",
                    header_index,
                )
            )
    else:
        defects.append(Defect("received.no-date", "The header carries no date.", header_index))

    # ---- a leading comment that holds the from clause: "(from HOST [ip]) by ..." (NAVGW)
    work = clause_toks + tail_toks
    sendmail_local = False
    has_top_from = any(t.kind == WORD and t.text.lower() == "from" for t in work)
    if (
        not has_top_from
        and work
        and work[0].kind == COMMENT
        and work[0].text.lower().startswith("from ")
    ):
        inner = work[0].text
        # Sendmail, local submission: "(from user@localhost) by ..." (its $_ macro
        # without $s: no HELO, no address; cf/m4/proto.m4's Received template)
        sendmail_local = _SENDMAIL_LOCAL_RE.fullmatch(inner.strip()) is not None
        sub, _d, _t = tokenise(inner)
        offset = work[0].start + 1
        for t in sub:
            t.start += offset
            t.end += offset
        work = sub + work[1:]

    # ---- clauses
    clauses: dict[str, list[Tok]] = {}
    order: list[str] = []
    current: str | None = None
    envelope_from: str | None = None
    leading: list[Tok] = []
    i = 0
    while i < len(work):
        t = work[i]
        if t.kind == WORD:
            lw = t.text.lower()
            if lw in KEYWORDS:
                if lw not in clauses:
                    clauses[lw] = []
                    order.append(lw)
                    current = lw
                    i += 1
                    continue
                if lw == "from" and i + 1 < len(work) and work[i + 1].kind == ANGLE:
                    # XMail: "... for <rcpt> from <sender>; date"
                    envelope_from = work[i + 1].text.strip() or None
                    i += 2
                    continue
        if current is None:
            leading.append(t)
        else:
            clauses[current].append(t)
        i += 1

    all_comments = [t.text for t in work if t.kind == COMMENT]
    lower_all = " ".join(all_comments).lower()
    mta_hints = (
        lower_all
        + " "
        + " ".join(t.text.lower() for t in clauses.get("with", []) if t.kind != COMMENT)
    )
    # (every token of the with clause is in it, so a "microsoft" there is found too)

    # Obtuse smtpd writes "via SMTP by host" (via before by).
    obtuse = "via" in order and "by" in order and order.index("via") < order.index("by")
    info = _analyse_from(clauses.get("from", []), mta_hints, obtuse, defects, header_index)
    proto = _protocol(clauses.get("with", []))
    by_host = None
    if "by" in clauses:
        v = _first_value(clauses["by"])
        by_host = v.rstrip(";,") if v else None
        by_host = by_host or None
    tls, tls_detail = _detect_tls(clauses.get("with", []), all_comments, proto)
    if _no_connection(proto, all_comments, clauses.get("from", []), sendmail_local):
        info = _as_local(info, clauses.get("from", []))
        tls, tls_detail = False, None  # no connection was made: nothing to encrypt
    authenticated = _detect_auth(proto, all_comments)
    ident_id = _first_value(clauses["id"]) if "id" in clauses else None
    for_ = _for_value(clauses["for"]) if "for" in clauses else None
    via = None
    if "via" in clauses:
        vw = [t.text for t in clauses["via"] if t.kind == WORD][:6]
        via = " ".join(vw).rstrip(";,") or None

    if envelope_from is None:
        for c in [t.text for t in toks if t.kind == COMMENT]:
            m = _ENVFROM_RE.search(c)
            if m and m.group(1):
                envelope_from = m.group(1)
                break
    if envelope_from is None:
        for idx, t in enumerate(work):
            if (
                t.kind == WORD
                and t.text.lower() in ("envelope-from", "envelope-sender")
                and idx + 1 < len(work)
            ):
                nxt = work[idx + 1]
                envelope_from = nxt.text.strip("<>") or None
                break

    if not clauses.get("from") and "from" not in clauses and "by" not in clauses:
        code = (
            "received.comment-only"
            if work and all(t.kind == COMMENT for t in work)
            else "received.no-from-by"
        )
        defects.append(
            Defect(code, "The header names neither a sending nor a receiving host.", header_index)
        )

    return Received(
        header_index=header_index,
        raw=raw,
        from_host=opt(info.host),
        from_rdns=opt(info.rdns),
        from_ip=opt(info.ip),
        ip_valid=info.ip_valid,
        ident=opt(info.ident),
        by_host=opt(by_host),
        with_=opt(proto),
        tls=tls,
        tls_detail=opt(tls_detail),
        authenticated=authenticated,
        id=(ident_id.strip("<>") or None) if ident_id else None,
        for_=opt(for_),
        envelope_from=opt(envelope_from),
        via=opt(via),
        date=date,
        defects=tuple(defects),
    )
