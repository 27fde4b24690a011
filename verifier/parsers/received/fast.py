"""Stage 5 of the Received reader: the fast path.

Most Received values have one of a few shapes; one compiled pattern (no
backtracking: possessive words and comments, bounded repetitions) reads them
without the tokeniser and builds the clauses the tokeniser and the clause loop
would build, then interprets them with the same helpers
(:mod:`.from_clause`, :mod:`.tls_auth`). Anything the pattern does not take, or
any branch of the full reader it cannot see (HTML entities, envelope senders outside
comments, unreadable dates, keywords after the date), goes to :func:`.clauses.parse_full`.
tests/parsers/test_received_fast.py proves both give equal results.
"""

from __future__ import annotations

import re

from verifier.model import Defect, Received
from verifier.parsers._construct import positional_constructor
from verifier.parsers.dates import parse_date
from verifier.parsers.received.clauses import _ENVFROM_RE
from verifier.parsers.received.clauses import opt as _opt
from verifier.parsers.received.from_clause import NO_FROM as _NO_FROM
from verifier.parsers.received.from_clause import analyse_from as _analyse_from
from verifier.parsers.received.from_clause import as_local as _as_local
from verifier.parsers.received.from_clause import no_connection as _no_connection
from verifier.parsers.received.tls_auth import detect_auth as _detect_auth
from verifier.parsers.received.tls_auth import detect_tls as _detect_tls
from verifier.parsers.received.tls_auth import protocol as _protocol
from verifier.parsers.received.tokens import BRACKET, COMMENT, WORD, Tok

_new_received = positional_constructor(Received)

# The commonest shapes (Postfix, Sendmail, Exim, Dovecot, Gmail, Microsoft ...), keywords
# in lower case: "from NAME (COMMENT)... by HOST (COMMENT)... with PROTO [WORDS]
# (COMMENT)... id ID (COMMENT)... via WORDS for <RCPT>|RCPT (COMMENT)...; DATE (COMMENT)".
# Only "by" and the date are required. Every repetition is bounded, words and comment
# texts are possessive and every part is delimited, so one match is linear. A comment
# holds at most three nested comments one level deep (Postfix's "(256/256 bits)").
_FW = r'[^\s()\[\]<>;"]++'
# a word that is not one of the keywords, in any case
_FNK = rf'(?!(?i:from|by|via|with|id|for)(?![^\s()\[\]<>;"])){_FW}'
# an address literal as the name: "from [192.0.2.1] by ..." (Yahoo, Mandrill, Gmail's
# "from [192.168.1.2] (rdns.example [192.0.2.1])"), what the tokeniser reads as one literal
_FL = r'[^\s()\[\]<>;"]{0,64}+'
_FC = r"\([^()]*+(?:\([^()]*+\)[^()]*+){0,3}\)"
_FAST_RE = re.compile(
    rf"\s*(?:from\s+(?:(?P<name>{_FNK})|\[(?P<lit>{_FL})\])(?P<fc>(?:\s*{_FC}){{0,4}})\s+)?"
    rf"by\s+(?P<by>{_FNK})(?P<bc>(?:\s*{_FC}){{0,3}})"
    rf"(?:\s+with\s+(?P<with>{_FNK}(?:\s+{_FNK}){{0,3}})(?P<wc>(?:\s*{_FC}){{0,2}}))?"
    rf"(?:\s+id\s+(?P<id>{_FNK})(?P<ic>(?:\s*{_FC}){{0,2}}))?"
    rf"(?:\s+via\s+(?P<via>{_FNK}(?:\s+{_FNK}){{0,5}}))?"
    rf"(?:\s+for\s+(?:<(?P<for>[^<>\s]{{1,512}})>|(?P<forw>{_FNK}))(?P<rc>(?:\s*{_FC}){{0,2}}))?"
    r'\s*;\s*(?P<date>[^\s;()\[\]<>"]{1,64}(?:\s+[^\s;()\[\]<>"]{1,64}){0,16}(?:\s*\([^()]*\))?)\s*'
)
_FAST_COMMENT_RE = re.compile(r"\(([^()]*+(?:\([^()]*+\)[^()]*+){0,3})\)")
# What the fast path leaves to the full one: HTML entities ("&"), "envelope-" outside the
# clauses' comments, and keywords that would be read as clauses after the date.
_DATE_KW_RE = re.compile(r"\b(?:id|for|with|via)\b", re.IGNORECASE)


def parse_fast(value: str, header_index: int) -> Received | None:
    """The common shape read without the tokeniser: the same :class:`Received` as
    :func:`_parse_full`, or None to leave the value to it.

    The clauses are built as the tokeniser and the clause loop would build them, and
    interpreted by the same helpers; every other branch of the full path (HTML
    entities, envelope senders outside comments, unreadable dates, via, keywords inside clauses) falls
    back. tests/parsers/test_received_fast.py compares both paths.
    """
    if "&" in value:
        return None
    lower = value.lower()
    has_envelope = "envelope-" in lower
    m = _FAST_RE.fullmatch(value)
    if m is None:
        return None
    date_text = m.group("date")
    date_lower = date_text.lower()
    # substring tests first: a date rarely holds any of the four, and the pattern's
    # case-insensitive word search costs ten times as much. Only for ASCII text: the
    # pattern also takes "İd" or "ıd" for "id", which lower() does not turn into "id".
    if (
        not date_text.isascii()
        or "id" in date_lower
        or "for" in date_lower
        or "with" in date_lower
        or "via" in date_lower
    ) and _DATE_KW_RE.search(date_text):
        return None
    name, lit, fc, by, bc, with_text, wc, id_, ic, via_text, rcpt, rcpt_word, rc, _d = m.groups()
    # No word matched by the pattern is a keyword, and words hold no ";", "<" or ">":
    # the clause helpers reduce to the expressions below for "by", "id", "for" and "via".
    comments: list[str] = []
    from_toks: list[Tok] = []
    if name is not None or lit is not None:
        from_toks.append(Tok(WORD, name, 0, 0) if name is not None else Tok(BRACKET, lit, 0, 0))
        if fc:
            for text in _FAST_COMMENT_RE.findall(fc):
                from_toks.append(Tok(COMMENT, text, 0, 0))
                comments.append(text)
    if bc:
        comments.extend(_FAST_COMMENT_RE.findall(bc))
    with_toks: list[Tok] = []
    with_words: list[str] = []
    if with_text is not None:
        with_words = with_text.split()
        with_toks = [Tok(WORD, w, 0, 0) for w in with_words]
        if wc:
            for text in _FAST_COMMENT_RE.findall(wc):
                with_toks.append(Tok(COMMENT, text, 0, 0))
                comments.append(text)
    if ic:
        comments.extend(_FAST_COMMENT_RE.findall(ic))
    if rc:
        comments.extend(_FAST_COMMENT_RE.findall(rc))
    envelope_from: str | None = None
    if has_envelope:
        # Exim, Courier: "(envelope-from <a@b.example>)": read when every "envelope-"
        # stands in a comment of the clauses, as the full reader reads it then (the
        # first such comment that names an address, in order)
        if "envelope-" in date_lower:
            return None
        inside = sum(g.lower().count("envelope-") for g in (fc, bc, wc, ic, rc) if g)
        if inside != lower.count("envelope-"):
            return None
        for c in comments:
            em = _ENVFROM_RE.search(c)
            if em and em.group(1):
                envelope_from = em.group(1)
                break
    date = parse_date(date_text)
    if date.utc is None:
        return None
    defects: list[Defect] = []
    if date.offset_minutes is None:
        defects.append(
            Defect(
                "date.no-offset",
                "The date has no time-zone offset; it was read as UTC.",
                header_index,
            )
        )
    if from_toks:
        # every comment and every word of the with clause: what the full reader's hints hold
        mta_hints = " ".join(comments).lower() + " " + " ".join(with_words).lower()
        info = _analyse_from(from_toks, mta_hints, False, defects, header_index)
    else:
        info = _NO_FROM
    proto = _protocol(with_toks)
    tls, tls_detail = _detect_tls(with_toks, comments, proto)
    # every mark of a hop with no connection holds "uid", "userid" or a "local" protocol
    if (
        "uid" in value or "userid" in value or (proto is not None and proto[:5].lower() == "local")
    ) and (_no_connection(proto, comments, from_toks, False)):
        info = _as_local(info, from_toks)
        tls, tls_detail = False, None  # no connection was made: nothing to encrypt
    authenticated = _detect_auth(proto, comments)
    ident_id = id_.rstrip(",") or None if id_ is not None else None
    if rcpt is not None:
        for_ = rcpt
    elif rcpt_word is not None:
        for_ = rcpt_word.rstrip(",") or None
    else:
        for_ = None
    via = " ".join(via_text.split()).rstrip(",") or None if via_text is not None else None
    return _new_received(
        header_index,
        value,
        _opt(info.host),
        _opt(info.rdns),
        _opt(info.ip),
        info.ip_valid,
        _opt(info.ident),
        _opt(by.rstrip(",")),
        _opt(proto),
        tls,
        _opt(tls_detail),
        authenticated,
        ident_id,
        _opt(for_),
        _opt(envelope_from),
        _opt(via),
        date,
        tuple(defects),
    )
