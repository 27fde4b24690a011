"""The one lexer of the header parsers: comments, quoted strings, domain literals,
angle addresses and words, read in one bounded, linear pass.

Used by the Received reader (:mod:`verifier.parsers.received`), the
Authentication-Results / Received-SPF reader (:mod:`verifier.parsers.auth`), the
date reader (:mod:`verifier.parsers.dates`) and the address reader
(:mod:`verifier.parsers.addresses`), so that the four agree on what a comment is.
Its shape follows the usual way mail filters read a Received header (rspamd's
received tokeniser, for one): find the structured parts first, hand the clause
reader a flat list of typed tokens, never recurse.

Token kinds: :data:`WORD` (a run of ordinary characters), :data:`COMMENT` (``(...)``,
text without the outer parentheses, nested comments kept inside as written),
:data:`LITERAL` (``[...]``, a domain or address literal, text without the brackets),
:data:`ANGLE` (``<...>``), :data:`QUOTED` (``"..."``, text without the quotes, as
written: :func:`unquote` removes the quoted-pair backslashes) and :data:`SEMI` (``;``).
A caller that has no use for literals or angle addresses asks for them to be read
as ordinary characters (``brackets=False``); the other rules are the same for all.

The rules, the same for every parser:

- **Parentheses** are matched with one explicit stack over the parentheses only
  (never recursion). A ``(`` that a later ``)`` closes opens a comment that ends at
  that ``)``. **An unmatched ``(``** (nothing closes it) is an ordinary character;
  a run of unmatched ones is one word. **A stray ``)``** (it closes nothing) is
  dropped; it still ends the word before it.
- **Backslashes**: inside a comment and inside a quoted string a backslash quotes
  the next character (RFC 5322 quoted-pair), so ``\\)`` does not close a comment
  and ``\\"`` does not end a string. Everywhere else a backslash is an ordinary
  character.
- **Nesting** is bounded in effect: comments nest to any depth at no cost (one
  stack entry per open parenthesis, a list that grows with the input only), and
  :func:`lex` reports the deepest level so that a reader can flag a depth beyond
  :data:`MAX_NESTING` (the Received reader does: ``received.deep-nesting``).
- **Quoted strings, literals and angle addresses** must close within
  :data:`MAX_SPAN` characters; otherwise the opening character is ordinary (and
  when nothing at all can close it, the whole run of that character is one word).
- **Quotes inside comments** are comment text: a comment ends at its matching
  ``)`` whatever quotes it holds.
- At most ``max_tokens`` tokens are produced (a constant of the caller, never a
  number read from the input); the result says whether the input was cut.

Linear time: the parenthesis pass visits each parenthesis once; the token loop
takes one regular-expression step per token and every step moves forward; a
quoted string or literal is searched for within :data:`MAX_SPAN` characters only,
and a character that cannot be closed at all is seen once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "WORD",
    "COMMENT",
    "LITERAL",
    "ANGLE",
    "QUOTED",
    "SEMI",
    "MAX_NESTING",
    "MAX_SPAN",
    "Token",
    "match_parens",
    "lex",
    "lex_plain",
    "strip_comments",
    "unquote",
]

WORD, COMMENT, LITERAL, ANGLE, QUOTED, SEMI = range(6)

MAX_NESTING = 64
MAX_SPAN = 1024


@dataclass(slots=True)
class Token:
    kind: int
    text: str
    start: int
    end: int


_PAREN_RE = re.compile(r"[()\\]")
# one step per token: skip white space, then a word or one special character
_NEXT_FULL = re.compile(r'\s*(?:([^\s()\[\]<>;"]+)|(.))', re.S)
_NEXT_PLAIN = re.compile(r'\s*(?:([^\s();"]+)|(.))', re.S)
# a quoted string from its opening quote: quoted-pairs allowed, at most MAX_SPAN characters
_QUOTED_RE = re.compile(rf'"((?:[^"\\]|\\.){{0,{MAX_SPAN}}}+)"', re.S)
_QPAIR_RE = re.compile(r"\\(.)", re.S)
_CLOSERS = {"[": "]", "<": ">"}


def match_parens(s: str) -> tuple[dict[int, int], int]:
    """Map each ``(`` that a later ``)`` closes to that ``)``; also the deepest level.

    One explicit stack, visiting only parentheses and backslashes (a regular
    expression finds them). A backslash inside an open parenthesis quotes the
    character after it.
    """
    stack: list[int] = []
    match: dict[int, int] = {}
    depth = 0
    skip = -1
    for m in _PAREN_RE.finditer(s):
        i = m.start()
        if i <= skip:
            continue
        ch = s[i]
        if ch == "(":
            stack.append(i)
            if len(stack) > depth:
                depth = len(stack)
        elif ch == ")":
            if stack:
                match[stack.pop()] = i
        elif stack:  # a backslash inside a comment
            skip = i + 1
    return match, depth


def lex(
    s: str, *, brackets: bool = True, max_tokens: int | None = None
) -> tuple[list[Token], int, bool]:
    """One pass over ``s``: the tokens, the deepest comment nesting and whether the
    token limit cut the input. ``brackets=False`` reads ``[ ] < >`` as ordinary
    characters."""
    parens, depth = match_parens(s) if "(" in s else ({}, 0)
    toks: list[Token] = []
    append = toks.append
    n = len(s)
    i = 0
    last_close: dict[str, int] = {}
    truncated = False
    next_match = (_NEXT_FULL if brackets else _NEXT_PLAIN).match
    limit = n + 1 if max_tokens is None else max_tokens
    while i < n:
        if len(toks) >= limit:
            truncated = True
            break
        m = next_match(s, i)
        if m is None:  # pragma: no cover - the pattern matches any character
            break
        word = m.group(1)
        if word is not None:
            j = m.end()
            append(Token(WORD, word, j - len(word), j))
            i = j
            continue
        i = m.start(2)
        ch = s[i]
        if ch.isspace():  # trailing white space, given back by the backtracking "\s*"
            i += 1
            continue
        if ch == "(":
            shut = parens.get(i)
            if shut is not None:
                append(Token(COMMENT, s[i + 1 : shut], i, shut + 1))
                i = shut + 1
                continue
            # an unmatched "(": it and the unmatched ones right after it are one word
            j = i + 1
            while j < n and s[j] == "(" and j not in parens:
                j += 1
            append(Token(WORD, s[i:j], i, j))
            i = j
            continue
        if ch == ")":
            i += 1
            continue
        if ch == ";":
            append(Token(SEMI, ";", i, i + 1))
            i += 1
            continue
        if ch == '"':
            last = last_close.get('"')
            if last is None:
                last = last_close['"'] = s.rfind('"')
            if last > i:
                qm = _QUOTED_RE.match(s, i)
                if qm is not None:
                    j = qm.end()
                    append(Token(QUOTED, qm.group(1), i, j))
                    i = j
                    continue
                append(Token(WORD, ch, i, i + 1))
                i += 1
                continue
            j = i + 1  # nothing can close it: the whole run is one word
            while j < n and s[j] == ch:
                j += 1
            append(Token(WORD, s[i:j], i, j))
            i = j
            continue
        close = _CLOSERS.get(ch)
        if close is not None:
            last = last_close.get(close)
            if last is None:
                last = last_close[close] = s.rfind(close)
            j = -1 if last <= i else s.find(close, i + 1, i + 1 + MAX_SPAN)
            if j != -1:
                append(Token(LITERAL if ch == "[" else ANGLE, s[i + 1 : j], i, j + 1))
                i = j + 1
                continue
            j = i + 1
            if last <= i:  # none can close: the whole run is one word
                while j < n and s[j] == ch:
                    j += 1
            append(Token(WORD, s[i:j], i, j))
            i = j
            continue
        # a stray ">" or "]"
        append(Token(WORD, ch, i, i + 1))
        i += 1
    return toks, depth, truncated


# A plain value: no quote, no backslash, every "(" closed before the next one opens.
_PLAIN_RE = re.compile(r'(?:[^()"\\]++|\([^()"\\]*+\))*+')
_PLAIN_TOKEN_RE = re.compile(r"\(([^()]*)\)|(;)|([^\s();]+)")


def lex_plain(s: str) -> list[tuple[int, str]] | None:
    """The fast path of ``lex(s, brackets=False)`` for a plain value (no quote, no
    backslash, comments neither nested nor left open): the same kinds and texts, as
    ``(kind, text)`` pairs, found by one C-level scan; None for any other value.
    tests/parsers/test_lexer.py compares both."""
    if _PLAIN_RE.fullmatch(s) is None:
        return None
    out: list[tuple[int, str]] = []
    append = out.append
    for comment, semi, word in _PLAIN_TOKEN_RE.findall(s):
        if word:
            append((WORD, word))
        elif semi:
            append((SEMI, ";"))
        else:
            append((COMMENT, comment))
    return out


def strip_comments(s: str) -> str:
    """``s`` without its comments (by the rules above: unmatched ``(`` kept, stray
    ``)`` dropped). Text on both sides of a comment is joined as it stands."""
    if "(" not in s and ")" not in s:
        return s
    parens, _depth = match_parens(s)
    out: list[str] = []
    i = 0
    n = len(s)
    while i < n:
        j = _next_paren(s, i)
        if j == -1:
            out.append(s[i:])
            break
        out.append(s[i:j])
        if s[j] == "(":
            close = parens.get(j)
            if close is not None:
                i = close + 1
                continue
            out.append("(")
        i = j + 1
    return "".join(out)


_ANY_PAREN = re.compile(r"[()]")


def _next_paren(s: str, i: int) -> int:
    m = _ANY_PAREN.search(s, i)
    return -1 if m is None else m.start()


def unquote(text: str) -> str:
    """The text of a quoted string or comment with its quoted-pairs resolved."""
    return _QPAIR_RE.sub(r"\1", text) if "\\" in text else text
