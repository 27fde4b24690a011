"""Received headers (RFC 5321 §4.4 and what real MTAs write) into :class:`Received`.

Written by hand: no maintained Python library reads the TCP-info comments in which
each MTA records the client's address, reverse name and HELO. The approach:

1. **Tokenise** the unfolded value in one pass into words, comments ``(...)``,
   address literals ``[...]``, angle addresses ``<...>``, quoted strings and ``;``.
   Parentheses are matched with one explicit stack (never recursion), so deep
   nesting costs nothing; a comment nested deeper than :data:`MAX_NESTING` levels
   is kept as raw text and reported (``received.deep-nesting``). An unmatched
   ``(`` is an ordinary character. ``[...]``, ``<...>`` and ``"..."`` close within
   :data:`MAX_SPAN` characters or are ordinary characters. Only the first
   :data:`MAX_TOKENS` tokens are interpreted (``received.truncated``).
2. **Date**: the text after the last ``;`` outside comments/literals; without one,
   from a weekday, an ISO date or a ``day month`` pair (SendGrid/Brevo write no
   ``;``). Keywords after the date (``id`` after the date, seen from Courier) are
   read as clauses.
3. **Clauses**: ``from``, ``by``, ``via``, ``with``, ``id``, ``for`` are keywords
   only as whole top-level words (so ``.co.id`` or ``with cipher`` inside a comment
   are not); the first occurrence wins; a later ``from <addr>`` is the envelope
   sender (XMail).
4. **From clause**: the client's address is taken from the TCP-info: a bracketed
   address in a comment first, then a bracketed literal after the name, then an
   unbracketed address alone in a comment (qmail, Exchange), and only then the
   name itself. Never from ``helo=``/``HELO`` values, ids, ``with`` or dates.

Each branch that exists for one MTA's habit names that MTA in a comment and has a
unit test with a line of that form in tests/parsers/test_received.py.

Defects (``Received.defects``): ``received.invalid-ip`` (an address that is not one,
kept as written, ``ip_valid`` False), ``received.no-date``, ``date.unparsed`` (date
text present but unreadable; ``date.utc`` None, ``date.raw`` kept), ``date.no-offset``
(read as UTC), ``received.comment-only`` (qmail's "(qmail N invoked by uid N)" and
the like), ``received.no-from-by``, ``received.html-escaped``,
``received.deep-nesting``, ``received.truncated``.

Linear time: every loop walks the input or the token list once; regular
expressions are applied to single bounded tokens.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from verifier.model import Defect, ParsedDate, Received
from verifier.parsers._construct import positional_constructor
from verifier.parsers.dates import parse_date

__all__ = ["parse_received", "parse_ip", "MAX_NESTING", "MAX_TOKENS", "MAX_SPAN"]

MAX_NESTING = 64
MAX_TOKENS = 2000
MAX_SPAN = 1024

_KEYWORDS = frozenset({"from", "by", "via", "with", "id", "for"})
_SPECIAL = frozenset('()[]<>;"')

_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]{1,7});")
_ENTITY_MAP = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_HAS_DIGIT = re.compile(r"[0-9]")
_V4ISH = re.compile(r"\d{1,4}(?:\.\d{1,4}){3}")
_V4_PORT_DOT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})\.(\d{1,5})")
_V4_PORT_COLON = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})")
_V6ISH = re.compile(r"[0-9A-Fa-f:.]{2,64}(?:%[0-9A-Za-z._-]{1,32})?")
# A dotted IPv4 address already in canonical form (no leading zeros): what
# ipaddress would return unchanged.
_V4_CANON = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
_WEEKDAY_RE = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6},?", re.IGNORECASE)
_MONTH_RE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?,?", re.IGNORECASE
)
_ISO_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?")
_DAY_RE = re.compile(r"\d{1,2}")
_ENVFROM_RE = re.compile(r"envelope-(?:from|sender)[ =:]{0,3}<?([^<>\s()]{0,512})>?", re.IGNORECASE)
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,253})")

# RFC 3848 protocol types (and the common lower-case/legacy spellings).
_TLS_PROTOS = frozenset(
    {"ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA",
     "SMTPS", "HTTPS", "SMTPSA"}
)  # fmt: skip
_PLAIN_PROTOS = frozenset(
    {"SMTP", "ESMTP", "LMTP", "ESMTPA", "LMTPA", "UTF8SMTP", "UTF8SMTPA", "UTF8LMTP", "UTF8LMTPA",
     "ASMTP"}  # Exim's older name for authenticated SMTP without TLS
)  # fmt: skip
_AUTH_PROTOS = frozenset(
    {"ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA", "UTF8SMTPA", "UTF8SMTPSA", "UTF8LMTPA", "UTF8LMTPSA",
     "SMTPSA", "ASMTP"}
)  # fmt: skip
_KNOWN_PROTOS = (
    _TLS_PROTOS
    | _PLAIN_PROTOS
    | _AUTH_PROTOS
    | frozenset(
        {
            "HTTP",
            "HTTPU",
            "HTTPREST",
            "LOCAL",
            "IMAP",
            "POP3",
            "MAPI",
            "TCP",
            "QMQP",
            "ECSTREAM",
            "UUCP",
            "TLS",
        }
    )
)
# Words some MTAs put where the reverse name goes when there is none.
_NO_RDNS = frozenset({"unknown", "softdnserr", "harddnserr", "no-reverse-dns", "unverified"})

_new_received = positional_constructor(Received)

# token kinds
WORD, COMMENT, BRACKET, ANGLE, QUOTED, SEMI = range(6)


@dataclass(slots=True)
class _Tok:
    kind: int
    text: str
    start: int
    end: int


def _unescape(value: str) -> str:
    def rep(m: re.Match[str]) -> str:
        name = m.group(1)
        if name[0] == "#":
            cp = int(name[1:])
            return chr(cp) if 0 < cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else "\ufffd"
        return _ENTITY_MAP[name]

    return _ENTITY_RE.sub(rep, value)


_PAREN_RE = re.compile(r"[()]")
_NEXT_RE = re.compile(r'\s*(?:([^\s()\[\]<>;"]+)|(.))', re.S)


def _match_parens(s: str) -> tuple[dict[int, int], int]:
    """Map each '(' that has a matching ')' to its position; also the max depth seen.

    One explicit stack, visiting only the parentheses (found by a regex scan).
    """
    stack: list[int] = []
    match: dict[int, int] = {}
    depth = 0
    for m in _PAREN_RE.finditer(s):
        i = m.start()
        if s[i] == "(":
            stack.append(i)
            if len(stack) > depth:
                depth = len(stack)
        elif stack:
            match[stack.pop()] = i
    return match, depth


def _tokenise(s: str) -> tuple[list[_Tok], int, bool]:
    """One pass over ``s``. Returns tokens, the maximum nesting depth and whether truncated."""
    parens, depth = _match_parens(s) if "(" in s else ({}, 0)
    toks: list[_Tok] = []
    append = toks.append
    n = len(s)
    i = 0
    closers = {"[": "]", "<": ">", '"': '"'}
    last_close = {c: s.rfind(c) for c in ("]", ">", '"')}
    truncated = False
    next_match = _NEXT_RE.match
    while i < n:
        if len(toks) >= MAX_TOKENS:
            truncated = True
            break
        # one regex call per token: skip white space, then a word or one special character
        m = next_match(s, i)
        if m is None:
            break
        word = m.group(1)
        if word is not None:
            j = m.end()
            append(_Tok(WORD, word, j - len(word), j))
            i = j
            continue
        i = m.start(2)
        ch = s[i]
        if ch.isspace():  # trailing white space, given back by the backtracking "\s*"
            i += 1
            continue
        if ch == "(":
            j = parens.get(i)
            if j is not None:
                append(_Tok(COMMENT, s[i + 1 : j], i, j + 1))
                i = j + 1
                continue
            # an unmatched "(": it and the unmatched ones right after it are one word
            j = i + 1
            while j < n and s[j] == "(" and j not in parens:
                j += 1
            append(_Tok(WORD, s[i:j], i, j))
            i = j
            continue
        if ch == ")":
            i += 1
            continue
        if ch == ";":
            append(_Tok(SEMI, ";", i, i + 1))
            i += 1
            continue
        if ch in closers:
            close = closers[ch]
            j = -1 if last_close[close] <= i else s.find(close, i + 1, i + 1 + MAX_SPAN)
            if j != -1:
                kind = BRACKET if ch == "[" else ANGLE if ch == "<" else QUOTED
                append(_Tok(kind, s[i + 1 : j], i, j + 1))
                i = j + 1
                continue
            j = i + 1
            if last_close[close] <= i:  # none can close: the whole run is one word
                while j < n and s[j] == ch:
                    j += 1
            append(_Tok(WORD, s[i:j], i, j))
            i = j
            continue
        # a stray ">" or "]"
        append(_Tok(WORD, ch, i, i + 1))
        i += 1
    return toks, depth, truncated


# --------------------------------------------------------------------------- IPs


def parse_ip(text: str) -> tuple[str | None, bool]:
    """Read an address as MTAs write it. Returns (address, valid).

    Handles ``IPv6:`` prefixes, zone ids, IPv4-mapped IPv6 (reduced to IPv4), port
    suffixes (``1.2.3.4:25``, ``1.2.3.4.25``), stray brackets and ``ident@``
    prefixes. A string that looks like an address but is not one (``11.22.333.44``)
    comes back as written with valid False; anything else gives (None, False).
    """
    t = text.strip().strip("[]").strip()
    if _V4_CANON.fullmatch(t):
        return t, True
    if not _HAS_DIGIT.search(t):
        return None, False  # every address form has a digit
    if "@" in t:
        t = t.rsplit("@", 1)[1]
    if t[:5].lower() == "ipv6:":
        t = t[5:]
    if not t or len(t) > 100:
        return None, False
    m = _V4_PORT_COLON.fullmatch(t) or _V4_PORT_DOT.fullmatch(t)
    if m:
        t = m.group(1)
    if ":" not in t and not _V4ISH.fullmatch(t):
        return None, False  # a host name or a word: not worth asking ipaddress
    try:
        addr = ipaddress.ip_address(t)
    except ValueError:
        if _V4ISH.fullmatch(t):
            return t, False
        if t.count(":") >= 2 and _V6ISH.fullmatch(t):
            return t, False
        return None, False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped), True
    return str(addr), True


def _looks_ip(text: str) -> bool:
    ip, _ = parse_ip(text)
    return ip is not None


# --------------------------------------------------------------------------- helpers


def _clean_host(word: str) -> str | None:
    w = word.strip().rstrip(";,")
    if w.endswith(".") and len(w) > 1:
        w = w[:-1]  # Gmail writes the reverse name fully qualified: "mail-x.google.com."
    return w or None


def _comment_words(text: str) -> list[str]:
    return text.split()


def _scan_helo(words: list[str]) -> tuple[bool, str | None, list[str]]:
    """Find ``HELO x``/``EHLO x``/``LHLO x``/``helo=x`` in comment words.

    Returns (found, value, remaining words). An empty HELO (qmail ``(HELO )``) is
    found with value None.
    """
    rest: list[str] = []
    found = False
    value: str | None = None
    i = 0
    while i < len(words):
        w = words[i]
        lw = w.lower()
        if lw in ("helo", "ehlo", "lhlo") and not found:
            found = True
            if i + 1 < len(words):
                value = words[i + 1].rstrip(",;") or None
                i += 2
            else:
                i += 1
            continue
        if lw.startswith("helo=") and not found:
            found = True
            value = w[5:].rstrip(",;") or None
            i += 1
            continue
        rest.append(w)
        i += 1
    return found, value, rest


@dataclass(slots=True)
class _FromInfo:
    host: str | None = None
    rdns: str | None = None
    ip: str | None = None
    ip_valid: bool | None = None
    ident: str | None = None


def _analyse_from(
    toks: list[_Tok], mta_hints: str, obtuse: bool, defects: list[Defect], header_index: int
) -> _FromInfo:
    """Interpret the tokens of the from clause (the keyword itself excluded)."""
    info = _FromInfo()
    name: str | None = None
    name_is_literal = False
    rest = toks
    if toks and toks[0].kind == WORD and toks[0].text not in (",", "("):
        name = toks[0].text.rstrip(",;")
        rest = toks[1:]
    elif toks and toks[0].kind == BRACKET:
        name = "[" + toks[0].text + "]"
        name_is_literal = True
        rest = toks[1:]

    helo_found = False
    helo: str | None = None
    # Candidate addresses, by priority: 0 bracketed in a comment, 1 bracketed after the
    # name, 2 unbracketed alone in a comment, 3 the name itself.
    cands: list[tuple[int, str, str, bool]] = []  # (priority, as written, address, valid)
    rdns_from_comment: str | None = None
    rdns_marker: str | None = None  # "verified", "helo=", "qmail"
    comment_count = 0
    exim3_helo: str | None = None
    claimed: str | None = None

    k = 0
    while k < len(rest):
        t = rest[k]
        if t.kind == COMMENT:
            comment_count += 1
            words = _comment_words(t.text)
            found, value, remain = _scan_helo(words)
            if found and not helo_found:
                helo_found, helo = True, value
                if any(w.lower().startswith("helo=") for w in words):
                    rdns_marker = rdns_marker or "helo="
            # bracketed address inside the comment (not the HELO value)
            joined = " ".join(remain)
            got_bracket = False
            pos = 0
            while True:
                a = joined.find("[", pos)
                if a == -1:
                    break
                b = joined.find("]", a + 1, a + 1 + 200)
                if b == -1:
                    break
                inner = joined[a + 1 : b]
                ip, valid = parse_ip(inner)
                if ip is not None:
                    cands.append((0, inner, ip, valid))
                    got_bracket = True
                    before = joined[:a].split()
                    if before and rdns_from_comment is None:
                        cand = before[-1]
                        if "@" in cand:  # Sendmail "(ident@host [ip])"
                            info.ident, cand = cand.rsplit("@", 1)
                        cand = cand.rstrip(",")
                        if cand.lower() not in _NO_RDNS and not _looks_ip(cand) and cand:
                            rdns_from_comment = _clean_host(cand)
                        else:
                            rdns_from_comment = ""
                    after = joined[b + 1 :].lower()
                    # CommuniGate Pro: "([ip] verified)" means the name was checked.
                    if "unverified" in after or "failed" in after:
                        rdns_marker = "unverified"
                    elif "verified" in after and rdns_marker is None:
                        rdns_marker = "verified"
                    break
                pos = b + 1
            if not got_bracket and not found:
                stripped = t.text.strip()
                ip, valid = parse_ip(stripped) if " " not in stripped else (None, False)
                if ip is not None:
                    cands.append((2, stripped, ip, valid))
                    # qmail / CriticalPath write exactly "(ip)" or "(ident@ip)" after
                    # the reverse name; Scalix writes "( ip)" and XMail "(ip:port)".
                    if (
                        stripped == t.text
                        and _V4ISH.fullmatch(stripped.rsplit("@", 1)[-1])
                        and "microsoft" not in mta_hints
                    ):
                        rdns_marker = rdns_marker or "qmail"
                    elif _V4_PORT_COLON.fullmatch(stripped.rsplit("@", 1)[-1]):
                        rdns_marker = rdns_marker or "port"
                    if "@" in stripped:
                        info.ident = stripped.rsplit("@", 1)[0]
                elif (
                    # Exim 3: "from rdns (helo) [ip]": a comment holding one host name,
                    # followed by a bracketed literal outside it.
                    len(words) == 1
                    and _HOSTNAME_RE.fullmatch(words[0])
                    and k + 1 < len(rest)
                    and rest[k + 1].kind == BRACKET
                ):
                    exim3_helo = words[0]
            for w in remain:
                if w.lower().startswith("ident="):  # Exim
                    info.ident = w[6:].rstrip(",") or None
        elif t.kind == BRACKET:
            ip, valid = parse_ip(t.text)
            if ip is not None:
                cands.append((1, t.text, ip, valid))
        elif t.kind == WORD and t.text.lower() == "claiming":
            # Obtuse smtpd: 'from rdns(ip), claiming to be "helo" via SMTP by ...'
            j = k + 1
            while j < len(rest) and rest[j].kind == WORD and rest[j].text.lower() in ("to", "be"):
                j += 1
            if j < len(rest) and rest[j].kind in (QUOTED, WORD):
                claimed = rest[j].text.strip() or None
                k = j
        elif t.kind == WORD and t.text.lower().startswith("helo=") and not helo_found:
            helo_found, helo = True, t.text[5:] or None
        k += 1

    # The name itself as an address (bare IP or literal) when nothing better exists.
    name_ip: str | None = None
    if name is not None:
        ip, valid = parse_ip(name)
        if ip is not None and (name_is_literal or _V4ISH.fullmatch(name) or ":" in name):
            name_ip = name
            if not cands:
                cands.append((3, name_ip, ip, valid))

    best = min(cands, key=lambda c: c[0]) if cands else None
    if best is not None:
        ip, valid = best[2], best[3]
        info.ip = ip
        info.ip_valid = valid if ip is not None else None
        if ip is not None and not valid:
            defects.append(
                Defect(
                    "received.invalid-ip",
                    f"The client address {ip!r} is not a valid IP address; it is kept as written.",
                    header_index,
                )
            )

    # The name the client gave.
    if exim3_helo is not None and not helo_found:
        helo_found, helo = True, exim3_helo
    if claimed is not None and not helo_found:
        helo_found, helo = True, claimed
    if helo_found:
        info.host = helo
    elif name is not None and name.lower() != "unknown":
        if name_ip is not None and best is not None and best[1] == name_ip:
            # the name is the only address: an IP, not a HELO, unless it is an
            # address literal with no comment at all ("from [1.2.3.4] by ...").
            info.host = name if (name_is_literal and comment_count == 0) else None
        elif obtuse:
            info.host = None
        else:
            info.host = name
    # The reverse name the receiver recorded.
    name_is_host = (
        name is not None
        and not name_is_literal
        and name_ip is None
        and name.lower() not in _NO_RDNS
        and not name.startswith("[")
    )
    if rdns_from_comment is not None:
        info.rdns = rdns_from_comment or None
    elif name_is_host and (
        helo_found  # qmail/GMX "from rdns (HELO x)", Exim "from rdns ([ip] helo=x)"
        or rdns_marker in ("verified", "qmail")
        or obtuse
        or ("exim" in mta_hints and info.ip is not None)  # Exim omits helo= when it equals the name
    ):
        info.rdns = _clean_host(name) if name else None
    if rdns_marker == "unverified" and rdns_from_comment is None:
        info.rdns = None
    if rdns_marker == "port" and not helo_found:
        info.rdns = None
    return info


def _detect_tls(
    with_toks: list[_Tok], all_comments: list[str], proto: str | None
) -> tuple[bool | None, str | None]:
    detail: str | None = None
    # Postfix: "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) ...)"
    for c in all_comments:
        lc = c.lower()
        if lc.startswith("using tls") or lc.startswith("using ssl"):
            cut = c.find("(")
            return True, c[6 : cut if cut != -1 else len(c)].strip()
        # Microsoft Exchange / Sendmail: "(version=TLS1_2, cipher=...)", "(version=TLSv1/SSLv3 cipher=...)"
        if lc.startswith("version=") and ("tls" in lc or "ssl" in lc):
            return True, c.strip()
        # Courier: "(AUTH: LOGIN x, SSL: TLSv1/SSLv3,128bits,RC4-MD5)"
        if "ssl: " in lc or "tls: " in lc:
            idx = lc.find("ssl: ") if "ssl: " in lc else lc.find("tls: ")
            return True, c[idx + 5 :].strip()
    # Tokens of the with clause: qmail's TLS patch writes "with AES256-GCM-SHA384 encrypted SMTP"
    # or "with (DHE-RSA-AES256-SHA encrypted) SMTP"; Exim 4.92+ "with esmtps (TLS1.3) tls CIPHER";
    # older Exim "with esmtps (TLSv1:AES256-SHA:256)"; Exchange 2010 "(TLS)".
    words: list[str] = []
    for t in with_toks:
        if t.kind == COMMENT:
            lc = t.text.lower().strip()
            if lc.endswith(" encrypted"):
                return True, t.text.strip()[: -len(" encrypted")]
            if lc.startswith(("tls", "ssl")) and "exim" not in lc:
                detail = detail or t.text.strip()
        elif t.kind == WORD:
            words.append(t.text)
    for i, w in enumerate(words):
        if w.lower() == "encrypted" and i > 0:
            return True, words[i - 1]
        if w.lower() == "tls" and i + 1 < len(words) and i > 0:
            extra = words[i + 1]
            detail = f"{detail} {extra}" if detail else extra
    p = (proto or "").upper()
    if detail:
        return True, detail
    if p in _TLS_PROTOS:
        return True, proto
    if p in _PLAIN_PROTOS:
        return False, None
    return None, None


def _detect_auth(proto: str | None, all_comments: list[str]) -> bool:
    if proto and proto.upper() in _AUTH_PROTOS:
        return True
    for c in all_comments:
        lc = c.lower()
        if (
            "authenticated sender:" in lc  # Postfix
            or "authenticated bits" in lc  # Sendmail
            or lc.startswith("authenticated (")  # Sendmail (older)
            or lc.startswith("auth: ")  # Courier
            or "authenticated as" in lc  # CriticalPath, qmail-smtpd-auth
            or "authenticated user" in lc  # SquirrelMail, NaSMail
            or lc.startswith("account ")  # CommuniGate Pro
        ):
            return True
    return False


def _protocol(with_toks: list[_Tok]) -> str | None:
    """The protocol named by the with clause."""
    words: list[str] = []
    for t in with_toks:
        if t.kind == WORD:
            w = t.text.rstrip(";,")
            if w.lower() == "encrypted":
                words = []  # qmail TLS patch: "with CIPHER encrypted SMTP"
                continue
            if words and w.lower() == "tls":
                break
            words.append(w)
            if len(words) == 1 and w.upper() in _KNOWN_PROTOS:
                break
            if len(words) >= 6:
                break
        elif t.kind == BRACKET:  # XMail: "with [XMail 1.20 ESMTP Server]"
            if not words:
                return t.text.strip() or None
            break
        elif t.kind == COMMENT:
            if words:
                break
    return " ".join(words) or None


def _opt(value: str | None) -> str | None:
    """Absent values are None, never empty strings."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _first_value(toks: list[_Tok]) -> str | None:
    for t in toks:
        if t.kind == WORD:
            v = t.text.rstrip(";,")
            return v or None
        if t.kind in (ANGLE, BRACKET):
            return t.text.strip() or None
    return None


def _for_value(toks: list[_Tok]) -> str | None:
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


def _find_date_start(toks: list[_Tok]) -> int | None:
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


# --------------------------------------------------------------------------- fast path

# The commonest shapes (Postfix, Sendmail, Exim, Dovecot, Gmail, Microsoft ...), keywords
# in lower case: "from NAME (COMMENT)... by HOST (COMMENT)... with PROTO [WORDS]
# (COMMENT)... id ID (COMMENT)... via WORDS for <RCPT>|RCPT (COMMENT)...; DATE (COMMENT)".
# Only "by" and the date are required. Every repetition is bounded, words and comment
# texts are possessive and every part is delimited, so one match is linear. A comment
# holds at most three nested comments one level deep (Postfix's "(256/256 bits)").
_FW = r'[^\s()\[\]<>;"]++'
# a word that is not one of the keywords, in any case
_FNK = rf'(?!(?i:from|by|via|with|id|for)(?![^\s()\[\]<>;"])){_FW}'
_FC = r"\([^()]*+(?:\([^()]*+\)[^()]*+){0,3}\)"
_FAST_RE = re.compile(
    rf"\s*(?:from\s+(?P<name>{_FNK})(?P<fc>(?:\s*{_FC}){{0,4}})\s+)?"
    rf"by\s+(?P<by>{_FNK})(?P<bc>(?:\s*{_FC}){{0,3}})"
    rf"(?:\s+with\s+(?P<with>{_FNK}(?:\s+{_FNK}){{0,3}})(?P<wc>(?:\s*{_FC}){{0,2}}))?"
    rf"(?:\s+id\s+(?P<id>{_FNK})(?P<ic>(?:\s*{_FC}){{0,2}}))?"
    rf"(?:\s+via\s+(?P<via>{_FNK}(?:\s+{_FNK}){{0,5}}))?"
    rf"(?:\s+for\s+(?:<(?P<for>[^<>\s]{{1,512}})>|(?P<forw>{_FNK}))(?P<rc>(?:\s*{_FC}){{0,2}}))?"
    r'\s*;\s*(?P<date>[^\s;()\[\]<>"]{1,64}(?:\s+[^\s;()\[\]<>"]{1,64}){0,16}(?:\s*\([^()]*\))?)\s*'
)
_FAST_COMMENT_RE = re.compile(r"\(([^()]*+(?:\([^()]*+\)[^()]*+){0,3})\)")
# What the fast path leaves to the full one: HTML entities ("&"), envelope senders
# ("envelope-" in any case), and keywords that would be read as clauses after the date.
_DATE_KW_RE = re.compile(r"\b(?:id|for|with|via)\b", re.IGNORECASE)


_NO_FROM = _FromInfo()  # what _analyse_from gives for an absent from clause; never changed


def _parse_fast(value: str, header_index: int) -> Received | None:
    """The common shape read without the tokeniser: the same :class:`Received` as
    :func:`_parse_full`, or None to leave the value to it.

    The clauses are built as the tokeniser and the clause loop would build them, and
    interpreted by the same helpers; every other branch of the full path (HTML
    entities, envelope senders, unreadable dates, via, keywords inside clauses) falls
    back. tests/parsers/test_received_fast.py compares both paths.
    """
    if "&" in value or "envelope-" in value.lower():
        return None
    m = _FAST_RE.fullmatch(value)
    if m is None:
        return None
    date_text = m.group("date")
    if _DATE_KW_RE.search(date_text):
        return None
    name, fc, by, bc, with_text, wc, id_, ic, via_text, rcpt, rcpt_word, rc, _d = m.groups()
    # No word matched by the pattern is a keyword, and words hold no ";", "<" or ">":
    # the clause helpers reduce to the expressions below for "by", "id", "for" and "via".
    comments: list[str] = []
    from_toks: list[_Tok] = []
    if name is not None:
        from_toks.append(_Tok(WORD, name, 0, 0))
        if fc:
            for text in _FAST_COMMENT_RE.findall(fc):
                from_toks.append(_Tok(COMMENT, text, 0, 0))
                comments.append(text)
    if bc:
        comments.extend(_FAST_COMMENT_RE.findall(bc))
    with_toks: list[_Tok] = []
    with_words: list[str] = []
    if with_text is not None:
        with_words = with_text.split()
        with_toks = [_Tok(WORD, w, 0, 0) for w in with_words]
        if wc:
            for text in _FAST_COMMENT_RE.findall(wc):
                with_toks.append(_Tok(COMMENT, text, 0, 0))
                comments.append(text)
    if ic:
        comments.extend(_FAST_COMMENT_RE.findall(ic))
    if rc:
        comments.extend(_FAST_COMMENT_RE.findall(rc))
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
        mta_hints = " ".join(comments).lower() + " " + " ".join(with_words).lower()
        if with_toks and "microsoft" in " ".join(t.text for t in with_toks).lower():
            mta_hints += " microsoft"
        info = _analyse_from(from_toks, mta_hints, False, defects, header_index)
    else:
        info = _NO_FROM
    proto = _protocol(with_toks)
    tls, tls_detail = _detect_tls(with_toks, comments, proto)
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
        None,  # envelope_from
        _opt(via),
        date,
        tuple(defects),
    )


def parse_received(value: str, header_index: int) -> Received:
    """Parse one unfolded Received value. Never raises; oddities become defects."""
    r = _parse_fast(value, header_index)
    if r is not None:
        return r
    return _parse_full(value, header_index)


def _parse_full(value: str, header_index: int) -> Received:
    """The general reading: tokenise, find the date, split the clauses, interpret them."""
    raw = value
    defects: list[Defect] = []
    s = value
    if "&" in s and _ENTITY_RE.search(s):
        s = _unescape(s)
        defects.append(
            Defect(
                "received.html-escaped",
                "The header held HTML entities; they were decoded.",
                header_index,
            )
        )
    toks, depth, truncated = _tokenise(s)
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
            tail, _d, _t = _tokenise(s[semi:])
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
    tail_toks: list[_Tok] = []
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
    has_top_from = any(t.kind == WORD and t.text.lower() == "from" for t in work)
    if (
        not has_top_from
        and work
        and work[0].kind == COMMENT
        and work[0].text.lower().startswith("from ")
    ):
        inner = work[0].text
        sub, _d, _t = _tokenise(inner)
        offset = work[0].start + 1
        for t in sub:
            t.start += offset
            t.end += offset
        work = sub + work[1:]

    # ---- clauses
    clauses: dict[str, list[_Tok]] = {}
    order: list[str] = []
    current: str | None = None
    envelope_from: str | None = None
    leading: list[_Tok] = []
    i = 0
    while i < len(work):
        t = work[i]
        if t.kind == WORD:
            lw = t.text.lower()
            if lw in _KEYWORDS:
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
    if "microsoft" in " ".join(t.text.lower() for t in clauses.get("with", [])):
        mta_hints += " microsoft"

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
        from_host=_opt(info.host),
        from_rdns=_opt(info.rdns),
        from_ip=_opt(info.ip),
        ip_valid=info.ip_valid,
        ident=_opt(info.ident),
        by_host=_opt(by_host),
        with_=_opt(proto),
        tls=tls,
        tls_detail=_opt(tls_detail),
        authenticated=authenticated,
        id=(ident_id.strip("<>") or None) if ident_id else None,
        for_=_opt(for_),
        envelope_from=_opt(envelope_from),
        via=_opt(via),
        date=date,
        defects=tuple(defects),
    )
