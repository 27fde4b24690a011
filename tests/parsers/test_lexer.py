"""The shared lexer's documented rules, and the four parsers agreeing on them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.parsers.addresses import parse_address
from verifier.parsers.auth import parse_authentication_results
from verifier.parsers.dates import parse_date
from verifier.parsers.lexer import (
    ANGLE,
    COMMENT,
    LITERAL,
    MAX_SPAN,
    QUOTED,
    SEMI,
    WORD,
    lex,
    lex_plain,
    match_parens,
    strip_comments,
    unquote,
)
from verifier.parsers.received import parse_received


def kinds(s: str, **kw) -> list[tuple[int, str]]:
    toks, _depth, _cut = lex(s, **kw)
    return [(t.kind, t.text) for t in toks]


def test_token_kinds():
    assert kinds('a (b (c)) [192.0.2.1] <x@y> "q r" ;') == [
        (WORD, "a"),
        (COMMENT, "b (c)"),
        (LITERAL, "192.0.2.1"),
        (ANGLE, "x@y"),
        (QUOTED, "q r"),
        (SEMI, ";"),
    ]


def test_brackets_off_reads_them_as_word_characters():
    assert kinds("a<b>[c] (d)", brackets=False) == [(WORD, "a<b>[c]"), (COMMENT, "d")]


def test_unmatched_open_parenthesis_is_ordinary():
    assert kinds("a (b c") == [(WORD, "a"), (WORD, "("), (WORD, "b"), (WORD, "c")]
    assert kinds("((x") == [(WORD, "(("), (WORD, "x")]
    assert strip_comments("10:00 +0000 (UTC") == "10:00 +0000 (UTC"


def test_stray_close_parenthesis_is_dropped():
    assert kinds("a) b") == [(WORD, "a"), (WORD, "b")]
    assert strip_comments("a)b (c) d") == "ab  d"


def test_backslash_quotes_inside_comment_and_string_only():
    assert kinds(r"(a \) b) c") == [(COMMENT, r"a \) b"), (WORD, "c")]
    assert kinds(r'"a \" b" c') == [(QUOTED, r"a \" b"), (WORD, "c")]
    assert unquote(r"a \" b \\ c") == 'a " b \\ c'
    # outside them a backslash is an ordinary character, and does not quote ")"
    assert kinds(r"a\ (b\)") == [(WORD, "a\\"), (WORD, "("), (WORD, "b\\")]


def test_quote_inside_comment_is_comment_text():
    assert kinds('(a "b) c') == [(COMMENT, 'a "b'), (WORD, "c")]


def test_depth_reported_and_nesting_costs_no_recursion():
    s = "(" * 5000 + "x" + ")" * 5000
    toks, depth, cut = lex(s)
    assert depth == 5000 and not cut
    assert [t.kind for t in toks] == [COMMENT]
    match, d = match_parens(s)
    assert d == 5000 and len(match) == 5000


def test_spans_are_bounded():
    far = "[" + "1" * (MAX_SPAN + 10) + "]"
    assert kinds(far)[0] == (WORD, "[")
    quoted = '"' + "a" * (MAX_SPAN + 10) + '"'
    assert kinds(quoted)[0] == (WORD, '"')
    assert kinds('"' + "a" * MAX_SPAN + '"') == [(QUOTED, "a" * MAX_SPAN)]


def test_unclosable_run_is_one_word():
    assert kinds('a "') == [(WORD, "a"), (WORD, '"')]
    assert kinds('""') == [(QUOTED, "")]
    assert kinds("<<< a") == [(WORD, "<<<"), (WORD, "a")]


def test_token_limit():
    toks, _d, cut = lex("a " * 50, max_tokens=10)
    assert len(toks) == 10 and cut
    toks, _d, cut = lex("a " * 50)
    assert len(toks) == 50 and not cut


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab ()[]<>";\\\t')), max_size=80))
def test_tokens_are_in_order_and_within_the_input(s):
    toks, _d, _c = lex(s)
    pos = 0
    for t in toks:
        assert pos <= t.start < t.end <= len(s)
        pos = t.end
        if t.kind == COMMENT:
            assert s[t.start] == "(" and s[t.end - 1] == ")"


# ---------------------------------------------------------------- the parsers agree


def test_received_unmatched_parenthesis_is_a_word():
    r = parse_received("from a.example (b by mx.example; Mon, 1 Jan 2024 10:00:00 +0000", 0)
    assert r.by_host == "mx.example" and r.date is not None and r.date.utc is not None


def test_date_keeps_text_after_unmatched_parenthesis():
    d = parse_date("Mon, 1 Jan 2024 10:00:00 (zone +0100")
    assert d.utc is not None and d.offset_minutes == 60


def test_address_unmatched_quote_is_ordinary():
    # the display name's quote is never closed: the address is still read
    a = parse_address('"Alice <alice@example.com>', 0)
    assert a.address == "alice@example.com"


def test_address_backslash_inside_quoted_name():
    a = parse_address(r'"A \" <not@this.example>" <b@example.com>', 0)
    assert a.address == "b@example.com"


def test_auth_parenthesis_inside_quoted_string_is_not_a_comment():
    v = 'mx.example; spf=fail reason="a (b" smtp.mailfrom=example.com'
    ar = parse_authentication_results(v, 0)
    assert "auth.unbalanced" not in {d.code for d in ar.defects}
    assert ar.results[0].properties["smtp.mailfrom"] == "example.com"


def test_auth_unclosed_comment_is_reported():
    v = "mx.example; spf=pass (comment smtp.mailfrom=example.com"
    ar = parse_authentication_results(v, 0)
    assert "auth.unbalanced" in {d.code for d in ar.defects}


def _as_pairs(s: str) -> list[tuple[int, str]]:
    toks, _d, _c = lex(s, brackets=False)
    return [(t.kind, t.text) for t in toks]


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab=.;()"\\[]<> \t\u00a0')), max_size=60))
def test_lex_plain_equals_lex(s):
    plain = lex_plain(s)
    if plain is not None:
        assert plain == _as_pairs(s)
        assert '"' not in s and "\\" not in s


def test_lex_plain_takes_the_plain_and_refuses_the_rest():
    v = "mx.example; spf=pass (sender [192.0.2.1] ok) smtp.mailfrom=a.example; dkim=none ()"
    assert lex_plain(v) == _as_pairs(v)
    for other in ('a "b"', "a (b (c))", "a (b", "a) b", "a (b\\) c)"):
        assert lex_plain(other) is None, other
