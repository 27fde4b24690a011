"""Return-Path and From reduced to an address and its domain.

Written by hand: ``email.headerregistry`` raises on some real-world values (a
spam-archive Message-ID broke eml_parser that way) and ``email.utils.parseaddr``
returns ``('', '')`` for a group or an unbalanced comment, losing the address.

Read: display names (quoted or not, RFC 2047 encoded words left as they are since
only the address matters), comments, groups (``Team: a@x, b@y;`` gives the first
member), the null path ``<>`` (address None), a bare ``local@domain``. When there
are several ``<...>``, the first one is the address. Never raises.

Bounds: one pass to drop comments and quoted strings; the value is cut at
:data:`MAX_CHARS` characters.
"""

from __future__ import annotations

from verifier.model import Address

__all__ = ["parse_address", "MAX_CHARS"]

MAX_CHARS = 4096


def _strip_comments_and_quotes(s: str) -> str:
    out: list[str] = []
    depth = 0
    in_quote = False
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if in_quote:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_quote = False
                out.append(" ")
            i += 1
            continue
        if depth:
            if ch == "\\":
                i += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            i += 1
            continue
        if ch == '"':
            in_quote = True
        elif ch == "(":
            depth = 1
        else:
            out.append(ch)
        i += 1
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
