"""Stage 3 of the Received reader: the from clause (client address, reverse name, HELO).

RFC 5321 §4.4 lets the receiver write, after ``from``, the name the client gave
in HELO/EHLO and then, in a comment ("TCP-info"), the address it connected from
and the name that address resolves to. Every MTA fills these positions its own
way. What each position means, per family (the authority is cited for each; the
example lines are written for this module, with documentation addresses):

FAMILY_NOTES
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.model import Defect
from verifier.parsers.ip import V4_PORT_COLON as _V4_PORT_COLON
from verifier.parsers.ip import V4ISH as _V4ISH
from verifier.parsers.ip import looks_ip as _looks_ip
from verifier.parsers.ip import parse_ip
from verifier.parsers.received.tokens import BRACKET, COMMENT, QUOTED, WORD, Tok

_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,253})")

# Words some MTAs put where the reverse name goes when there is none.
_NO_RDNS = frozenset({"unknown", "softdnserr", "harddnserr", "no-reverse-dns", "unverified"})


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


def analyse_from(
    toks: list[Tok], mta_hints: str, obtuse: bool, defects: list[Defect], header_index: int
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


NO_FROM = _FromInfo()  # what analyse_from gives for an absent from clause; never changed
