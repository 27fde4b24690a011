"""Received headers (RFC 5321 §4.4 and what real MTAs write) into :class:`Received`.

Written by hand: no maintained Python library reads the TCP-info comments in which
each MTA records the client's address, reverse name and HELO. The reader is a
package whose modules are its stages, in order:

1. :mod:`.tokens`: the unfolded value as tokens (words, comments ``(...)``,
   address literals ``[...]``, angle addresses ``<...>``, quoted strings, ``;``),
   read by the parsers' shared lexer (:mod:`verifier.parsers.lexer`, whose rules
   for an unmatched ``(``, a stray ``)`` and backslashes apply). A comment nested
   deeper than :data:`MAX_NESTING` levels is reported (``received.deep-nesting``);
   only the first :data:`MAX_TOKENS` tokens are interpreted (``received.truncated``);
   ``[...]``, ``<...>`` and ``"..."`` close within :data:`MAX_SPAN` characters or are
   ordinary characters.
2. :mod:`.clauses`: the date (after the last ``;``, or found by its shape) and the
   ``from``/``by``/``via``/``with``/``id``/``for`` clauses; the full reader
   (:func:`.clauses.parse_full`).
3. :mod:`.from_clause`: the client's address, reverse name and HELO, with what each
   position means for each MTA family and the authority for it. The address is
   taken from the TCP-info: a bracketed address in a comment first, then a
   bracketed literal after the name, then an unbracketed address alone in a
   comment (qmail, Exchange), and only then the name itself; never from
   ``helo=``/``HELO`` values, ids, ``with`` or dates.
4. :mod:`.tls_auth`: protocol, TLS and authentication.
5. :mod:`.fast`: one compiled pattern for the common shapes, proven equal to the
   full reader by tests/parsers/test_received_fast.py.

Each branch that exists for one MTA's habit names that MTA in a comment and has a
unit test with a line of that form in tests/parsers/test_received.py.

Defects (``Received.defects``): ``received.invalid-ip`` (an address that is not one,
kept as written, ``ip_valid`` False), ``received.no-date``, ``date.unparsed`` (date
text present but unreadable; ``date.utc`` None, ``date.raw`` kept), ``date.no-offset``
(read as UTC), ``received.comment-only`` (qmail's "(qmail N invoked by uid N)" and
the like), ``received.no-from-by``, ``received.html-escaped`` (decoded by
:mod:`verifier.parsers.entities`), ``received.deep-nesting``, ``received.truncated``.

Linear time: every loop walks the input or the token list once; regular
expressions are applied to single bounded tokens, and the fast path's pattern does
not backtrack.
"""

from __future__ import annotations

from verifier.model import Received
from verifier.parsers.ip import parse_ip
from verifier.parsers.received.clauses import parse_full as _parse_full
from verifier.parsers.received.fast import parse_fast as _parse_fast
from verifier.parsers.received.tokens import MAX_NESTING, MAX_SPAN, MAX_TOKENS
from verifier.parsers.received.tokens import tokenise as _tokenise

__all__ = ["parse_received", "parse_ip", "MAX_NESTING", "MAX_TOKENS", "MAX_SPAN"]

# The two readers, by their historical names (tests compare them).
_parse_fast = _parse_fast
_parse_full = _parse_full
_tokenise = _tokenise


def parse_received(value: str, header_index: int) -> Received:
    """Parse one unfolded Received value. Never raises; oddities become defects."""
    r = _parse_fast(value, header_index)
    if r is not None:
        return r
    return _parse_full(value, header_index)
