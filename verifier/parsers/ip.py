"""IP addresses: the project's one place that reads them.

:func:`parse_ip` reads an address as MTAs write it (``IPv6:`` prefixes, ports,
``ident@``, stray brackets) and is used by the Received reader (client addresses
in the from clause) and the Authentication-Results / Received-SPF reader
(``client-ip=``, ``smtp.remote-ip=``, comments). :func:`ip_value` and
:func:`is_ip` read an address already written as one (a parsed hop's address, a
pattern, a smartHost, a HELO literal, a listen address); the analysis, the
checks, the platform preflight and the API emulator use them.
"""

from __future__ import annotations

import ipaddress
import re
from socket import AF_INET6, inet_ntop, inet_pton  # text <-> bytes conversions only

__all__ = ["parse_ip", "looks_ip", "ip_value", "is_ip", "V4ISH", "V4_PORT_COLON"]

_HAS_DIGIT = re.compile(r"[0-9]")
V4ISH = re.compile(r"\d{1,4}(?:\.\d{1,4}){3}")
_V4_PORT_DOT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})\.(\d{1,5})")
V4_PORT_COLON = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})")
_V6ISH = re.compile(r"[0-9A-Fa-f:.]{2,64}(?:%[0-9A-Za-z._-]{1,32})?")
# A dotted IPv4 address already in canonical form (no leading zeros): what
# ipaddress would return unchanged.
_V4_CANON = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)


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
    m = V4_PORT_COLON.fullmatch(t) or _V4_PORT_DOT.fullmatch(t)
    if m:
        t = m.group(1)
    if ":" not in t and not V4ISH.fullmatch(t):
        return None, False  # a host name or a word: not worth asking ipaddress
    if "." not in t and "%" not in t and _is_canonical_v6(t):
        return t, True  # what ipaddress would return unchanged, found at C speed
    try:
        addr = ipaddress.ip_address(t)
    except ValueError:
        if V4ISH.fullmatch(t):
            return t, False
        if t.count(":") >= 2 and _V6ISH.fullmatch(t):
            return t, False
        return None, False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped), True
    return str(addr), True


def _is_canonical_v6(t: str) -> bool:
    """True when ``t`` is an IPv6 address already written the way ``ipaddress`` writes
    it (RFC 5952: lower case, no leading zeros, the first longest run of two or more
    zero groups shortened to ``::``). The C library's conversion writes the same form
    except for addresses with an embedded IPv4 part, which it writes with dots; the
    caller keeps dotted text away, so an exact round trip means ``ipaddress`` would give
    ``t`` back (tests/parsers/test_fast_paths.py compares both)."""
    try:
        return inet_ntop(AF_INET6, inet_pton(AF_INET6, t)) == t
    except (OSError, ValueError):
        return False


def looks_ip(text: str) -> bool:
    """True when :func:`parse_ip` reads an address (valid or not) in ``text``."""
    ip, _ = parse_ip(text)
    return ip is not None


def ip_value(
    text: str | None, *, zone: bool = True, brackets: bool = False
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``text`` is written as, or None when it is not one.

    No MTA spelling is undone (see :func:`parse_ip` for those). ``brackets``: one
    pair of surrounding ``[`` ``]`` (an address literal) is read through. ``zone``:
    an IPv6 zone id (``fe80::1%eth0``) is dropped when True; when False a zone makes
    the text no address (a relay is never reached at a zone of someone else's link).
    """
    if not text:
        return None
    if brackets and text[:1] == "[" and text[-1:] == "]":
        text = text[1:-1]
    if "%" in text:
        if not zone:
            return None
        text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_ip(text: str | None, *, zone: bool = True, brackets: bool = False) -> bool:
    """True when ``text`` is written as an IP address (see :func:`ip_value`)."""
    return ip_value(text, zone=zone, brackets=brackets) is not None
