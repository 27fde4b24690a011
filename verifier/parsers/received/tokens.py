"""Stage 1 of the Received reader: the unfolded value as a list of tokens.

The shared lexer (:mod:`verifier.parsers.lexer`) does the work; this module fixes
the Received reader's bounds and names its token kinds. ``BRACKET`` is the
lexer's ``LITERAL`` (``[...]``: an address literal in the from clause, XMail's
``with [XMail 1.20 ESMTP Server]``).
"""

from __future__ import annotations

from verifier.parsers.lexer import (
    ANGLE,
    COMMENT,
    MAX_NESTING,
    MAX_SPAN,
    QUOTED,
    SEMI,
    WORD,
    Token,
    lex,
)
from verifier.parsers.lexer import LITERAL as BRACKET

__all__ = [
    "MAX_NESTING", "MAX_TOKENS", "MAX_SPAN", "KEYWORDS",
    "WORD", "COMMENT", "BRACKET", "ANGLE", "QUOTED", "SEMI", "Tok", "tokenise",
]  # fmt: skip

MAX_TOKENS = 2000

# Clause keywords: only whole top-level words count (so ``.co.id`` or ``with
# cipher`` inside a comment are not keywords).
KEYWORDS = frozenset({"from", "by", "via", "with", "id", "for"})

Tok = Token


def tokenise(s: str) -> tuple[list[Tok], int, bool]:
    """One pass over ``s``: tokens, the deepest comment nesting, whether cut at
    :data:`MAX_TOKENS` tokens."""
    return lex(s, max_tokens=MAX_TOKENS)
