"""The one HTML-entity decoder of the parsers.

Header blocks copied from a web page (a webmail's "show original", a ticket, a
forum post) carry ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;``, ``&apos;``, ``&nbsp;``
and numeric references (``&#60;``, ``&#x3C;``). Only those are decoded: a header
never needs the others, and decoding less keeps text such as ``AT&T;`` as written.
A numeric reference to no character (0, a surrogate, beyond U+10FFFF) becomes
U+FFFD. Linear: one regular-expression substitution, each reference bounded.
"""

from __future__ import annotations

import re

__all__ = ["ENTITY_RE", "decode_entities", "has_entities"]

ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_ENTITY_MAP = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "nbsp": " "}


def _replace(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] == "#":
        cp = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            return "\ufffd"
        return chr(cp)
    return _ENTITY_MAP[name]


def has_entities(text: str) -> bool:
    """True when ``text`` holds a reference :func:`decode_entities` would decode."""
    return "&" in text and ENTITY_RE.search(text) is not None


def decode_entities(text: str) -> str:
    """``text`` with its references decoded (see the module docstring)."""
    return ENTITY_RE.sub(_replace, text) if "&" in text else text
