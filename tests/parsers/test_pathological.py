"""Pathological inputs: the output must be right and bounded (no timing asserted here;
bench/bench_scaling.py shows the growth)."""

from __future__ import annotations

from tests.parsers import samples as S
from verifier.parsers import parse_headers
from verifier.parsers.addresses import parse_address
from verifier.parsers.auth import parse_authentication_results, parse_received_spf
from verifier.parsers.dates import parse_date
from verifier.parsers.received import MAX_NESTING, MAX_TOKENS, parse_received
from verifier.parsers.tags import parse_tag_list

DATE = "Mon, 1 Jan 2024 00:00:00 +0000"


def codes(x):
    return [d.code for d in x.defects]


def test_fifty_thousand_unmatched_open_parens():
    v = "from a.example " + "(" * 50_000 + " by b.example with SMTP; " + DATE
    r = parse_received(v, 0)
    assert r.by_host == "b.example"
    assert r.date.utc is not None
    assert r.raw == v


def test_fifty_thousand_nested_parens():
    v = "from a.example (" + "(" * 50_000 + ")" * 50_001 + " by b.example; " + DATE
    r = parse_received(v, 0)
    assert r.by_host == "b.example"
    assert "received.deep-nesting" in codes(r)
    assert MAX_NESTING == 64


def test_fifty_thousand_close_parens_and_brackets():
    for junk in (
        ")" * 50_000,
        "[" * 50_000,
        "<" * 50_000,
        '"' * 50_001,
        ";" * 50_000,
        "]" * 50_000,
    ):
        r = parse_received("from a.example " + junk + " by b.example; " + DATE, 0)
        assert r.raw.startswith("from a.example")


def test_fifty_thousand_character_token():
    host = "a" * 50_000
    r = parse_received(f"from {host} ([192.0.2.1]) by b.example with ESMTP; {DATE}", 0)
    assert r.from_host == host
    assert r.from_ip == "192.0.2.1"


def test_too_many_tokens_truncated():
    v = "from a.example by b.example " + "x " * 10_000 + "; " + DATE
    r = parse_received(v, 0)
    assert "received.truncated" in codes(r)
    assert r.by_host == "b.example"
    assert r.date.utc is not None
    assert MAX_TOKENS == 2000


def test_ten_thousand_received_lines():
    text = "".join(
        f"Received: from h{i}.example ([192.0.2.{i % 250}]) by h{i + 1}.example with ESMTP id Q{i}; {DATE}\n"
        for i in range(10_000)
    )
    h = parse_headers(text)
    assert len(h.received) == 10_000
    assert h.received[9_999].id == "Q9999"
    assert h.received[123].from_ip == "192.0.2.123"


def test_one_megabyte_block():
    line = "X-Filler: " + "y" * 990 + "\n"
    text = S.block(("Received", S.POSTFIX)) + line * 1050 + S.block(("From", "<a@b.example>"))
    assert len(text) > 1_000_000
    h = parse_headers(text.encode())
    assert len(h.block.fields) == 1052
    assert h.from_.domain == "b.example"


def test_one_megabyte_single_field():
    h = parse_headers(
        "Received: from a.example by b.example " + "(c) " * 250_000 + "; " + DATE + "\n"
    )
    assert len(h.received) == 1
    assert h.received[0].by_host == "b.example"
    assert h.received[0].date.utc is not None  # the date after the cut is still read


def test_other_parsers_with_huge_inputs():
    big = "(" * 50_000
    assert parse_date(big).utc is None
    assert parse_date("Mon, 1 Jan 2024 00:00:00 +0000 " + "x" * 50_000).utc is not None
    ar = parse_authentication_results("mx.a.example; spf=pass " + big, 0)
    assert ar.results[0].method == "spf"
    ar = parse_authentication_results("mx.a.example; " + "dkim=pass; " * 10_000, 0)
    assert len(ar.results) == 64 and "auth.truncated" in codes(ar)
    assert parse_received_spf("pass " + big, 0).result == "pass"
    t = parse_tag_list("b=" + "A" * 50_000 + "; d=a.example", 0)
    assert len(t.tags["b"]) == 50_000 and t.d == "a.example"
    assert parse_address(big + "<a@b.example>", 0).address is None  # the comment never closes
    assert parse_address("<a@b.example>" + big, 0).address == "a@b.example"


def test_long_run_of_spaces_in_a_folded_value():
    # "[ \t]*\n" searched over a long run of spaces backtracks quadratically; unfolding
    # must not use it. Checked through the size of the output.
    h = parse_headers(
        "Subject: a" + " " * 50_000 + "b\n\tc\n" + "X-Junk: " + " \t" * 25_000 + "\n\td\n"
    )
    assert len(h.subject) == 50_004 and h.subject.endswith("b c")
    assert h.block.get("x-junk").value == "d"


def test_long_lines_before_the_first_header():
    junk = "headers" + " " * 50_000 + "x\n" + "Headers:" + " " * 50_000 + "\n"
    h = parse_headers(junk + "Subject: s\n")
    assert h.subject == "s"


def test_many_lines_that_lost_their_indentation():
    h = parse_headers("Subject: s\n" + "x\n" * 80_000 + "From: <a@b.example>\n")
    assert len(h.subject) == 1 + 2 * 80_000
    assert h.from_.domain == "b.example"
    assert any(d.code == "input.misfolded" for d in h.block.defects)
