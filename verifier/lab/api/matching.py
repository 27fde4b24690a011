"""Wildcard matching and a JSON depth check that no input can make slow or deep.

Filters (``%`` and ``_``, SQL ``LIKE``) and access rules (``*``) come from
clients. Turned into regular expressions, a pattern with many wildcards makes
a backtracking engine try combinations without end; here the pattern is split
on its "any run" wildcard and the pieces are found in order, leftmost first,
which is enough for a match to exist and takes time proportional to the
pattern's length times the value's. Nested JSON is measured by scanning the
text once, before the recursive parser sees it.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a request body (the API's bodies use 3)."""


def _piece_at(piece: str, value: str, at: int, one: str | None) -> bool:
    """``piece`` matches ``value[at:at+len(piece)]``, ``one`` standing for any single character."""
    if at < 0 or at + len(piece) > len(value):
        return False
    if one is None or one not in piece:
        return value.startswith(piece, at)
    return all(p == one or p == v for p, v in zip(piece, value[at : at + len(piece)], strict=True))


def _find(piece: str, value: str, start: int, end: int, one: str | None) -> int:
    """Leftmost index >= start where ``piece`` matches and ends by ``end``; -1 if none."""
    if one is None or one not in piece:
        return value.find(piece, start, end)
    for at in range(start, end - len(piece) + 1):
        if _piece_at(piece, value, at, one):
            return at
    return -1


def glob_match(pattern: str, value: str, *, many: str, one: str | None = None, fold: bool = False) -> bool:
    """Does ``value`` match ``pattern`` in full? ``many`` matches any run, ``one`` any one character.

    No backtracking: with the pattern split on ``many``, the first piece must start
    the value, the last must end it, and each middle piece is taken at its leftmost
    place after the previous one (a later place never helps the pieces that follow).
    """
    if fold:
        pattern, value = pattern.lower(), value.lower()
    pieces = pattern.split(many)
    if len(pieces) == 1:
        return len(pattern) == len(value) and _piece_at(pattern, value, 0, one)
    first, middle, last = pieces[0], pieces[1:-1], pieces[-1]
    if len(first) + len(last) > len(value):
        return False
    if not _piece_at(first, value, 0, one) or not _piece_at(last, value, len(value) - len(last), one):
        return False
    pos, end = len(first), len(value) - len(last)
    for piece in middle:
        if not piece:
            continue
        found = _find(piece, value, pos, end, one)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


# Backslash pairs first, so an escaped quote is never taken for the end of a string.
_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if ``text`` nests arrays/objects deeper than ``limit`` (brackets in strings do not count).

    One pass over the text, without recursion; text that is not JSON may be
    answered either way, and is then refused by the parser.
    """
    depth = 0
    in_string = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if in_string:
            if token == '"':
                in_string = False
        elif token == '"':
            in_string = True
        elif token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False
