"""Return-Path and From reduced to an address and its domain.

Written by hand: ``email.headerregistry`` raises on some real-world values (a
spam-archive Message-ID broke eml_parser that way) and ``email.utils.parseaddr``
returns ``('', '')`` for a group or an unbalanced comment, losing the address.

Read: display names (quoted or not, RFC 2047 encoded words left as they are since
only the address matters), comments, groups (``Team: a@x, b@y;`` gives the first
member), the null path ``<>`` (address None), a bare ``local@domain``. When there
are several ``<...>``, the first one is the address. Never raises.

Comments and quoted strings are found by the parsers' shared lexer
(:mod:`verifier.parsers.lexer`), whose rules for an unmatched ``(`` or ``"`` (an
ordinary character), a stray ``)`` (dropped) and backslashes (quoted-pairs inside
comments and quoted strings) apply.

Bounds: one pass to drop comments and quoted strings; the value is cut at
:data:`MAX_CHARS` characters.
"""

from __future__ import annotations

from verifier.model import Address
from verifier.parsers.lexer import COMMENT, QUOTED, lex

__all__ = ["parse_address", "MAX_CHARS"]

MAX_CHARS = 4096


def _strip_comments_and_quotes(s: str) -> str:
    """``s`` with its comments removed and each quoted string (a display name) turned
    into one space, by the shared lexer's rules (:mod:`verifier.parsers.lexer`)."""
    if "(" not in s and ")" not in s and '"' not in s:
        return s
    toks, _depth, _cut = lex(s, brackets=False)
    out: list[str] = []
    pos = 0
    for t in toks:
        if t.start > pos:
            out.append(s[pos : t.start].replace(")", ""))  # white space and stray ")"
        if t.kind == QUOTED:
            out.append(" ")
        elif t.kind != COMMENT:
            out.append(s[t.start : t.end])
        pos = t.end
    if pos < len(s):
        out.append(s[pos:].replace(")", ""))
    return "".join(out)


def _clean(addr: str) -> tuple[str | None, str | None]:
    a = addr.strip().strip("<>").strip().rstrip(".;,")
    if a.lower().startswith("mailto:"):
        a = a[7:]
    if not a or "@" not in a:
        return None, None  # "MAILER-DAEMON" and the like: no address to align
    local, domain = a.rsplit("@", 1)
    domain = domain.strip().rstrip(".").lower()
    if not local or not domain:
        return None, None
    return f"{local}@{domain}", domain


def parse_address(value: str, header_index: int) -> Address:
    """Read the first address of a From or Return-Path value."""
    raw = value
    s = _strip_comments_and_quotes(value[:MAX_CHARS])
    a = s.find("<")
    if a != -1:
        b = s.find(">", a + 1)
        inner = s[a + 1 : b] if b != -1 else s[a + 1 :]
        inner = inner.strip()
        if not inner:
            return Address(
                header_index=header_index, raw=raw, address=None, domain=None
            )  # null path
        if ":" in inner and "@" in inner.split(":", 1)[1]:
            inner = inner.rsplit(":", 1)[1]  # obsolete source route "<@a,@b:user@c>"
        address, domain = _clean(inner)
        return Address(header_index=header_index, raw=raw, address=address, domain=domain)
    # No angle brackets: a group "name: a@b, c@d;" or a bare address.
    body = s
    colon = body.find(":")
    if colon != -1 and "@" not in body[:colon]:
        body = body[colon + 1 :]
    for part in body.replace(";", ",").split(","):
        for word in part.split():
            if "@" in word:
                address, domain = _clean(word)
                return Address(header_index=header_index, raw=raw, address=address, domain=domain)
    return Address(header_index=header_index, raw=raw, address=None, domain=None)
