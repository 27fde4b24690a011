"""The Received fast path gives exactly what the full tokenising path gives.

``received._parse_fast`` reads the commonest shapes with one pattern and returns None
for anything else; whenever it returns a value, that value must equal
``received._parse_full``'s for the same input, every field of :class:`Received`
included (date, defects). Inputs: every Received value of the shared corpus and the
fixtures, the SpamAssassin golden lines, and generated variants of the common shapes
mixed with the characters and words that must send a value to the full path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.parsers import received
from verifier.parsers.paste import normalise

ROOT = Path(__file__).resolve().parent.parent.parent
from tests.parsers.corpus import SHARED  # noqa: E402

SOURCES = sorted((SHARED / "headers").glob("*.hdr")) if (SHARED / "headers").is_dir() else []
SOURCES += sorted((ROOT / "fixtures" / "headers").glob("*.txt"))
SOURCES += sorted((ROOT / "fixtures" / "headers").glob("*.eml"))
GOLDEN = SHARED / "peer-golden" / "spamassassin-rcvd.jsonl"


DATE = "Mon, 1 Jan 2024 10:00:00 +0000"


def _corpus_values() -> list[str]:
    out = []
    for path in SOURCES:
        out.extend(f.value for f in normalise(path.read_bytes()).fields if f.lname == "received")
    return out


def _golden_values() -> list[str]:
    if not GOLDEN.is_file():
        return []
    with GOLDEN.open(encoding="utf-8") as fh:
        return [json.loads(line)["received"] for line in fh if line.strip()]


def _check(value: str, index: int = 3) -> bool:
    fast = received._parse_fast(value, index)
    full = received._parse_full(value, index)
    assert received.parse_received(value, index) == full
    if fast is None:
        return False
    assert fast == full, value
    return True


def test_corpus_and_fixtures():
    values = _corpus_values()
    if not values:
        pytest.skip("no corpus")
    taken = sum(_check(v, i) for i, v in enumerate(values))
    assert taken > len(values) // 2  # the fast path is the common case


def test_spamassassin_golden():
    values = _golden_values()
    if not values:
        pytest.skip("no golden file")
    taken = sum(_check(v, i) for i, v in enumerate(values))
    assert taken > 0


@pytest.mark.parametrize(
    "value",
    [
        "from a.example (a.example [192.0.2.1]) by mx.example (Postfix) with ESMTPS id ABC"
        " for <u@example.net>; Mon, 1 Jan 2024 10:00:00 +0000 (UTC)",
        "from mail-x.google.com (mail-x.google.com. [209.85.220.41]) by mx.google.com with"
        " SMTPS id x1si for <u@example.net> (Google Transport Security); Mon, 1 Jan 2024 10:00:00 -0800 (PST)",
        "from A.prod.outlook.com (2603:10b6:303:dd:cafe::e2) by B.outlook.office365.com"
        " (2603:10b6:303:dd::25) with Microsoft SMTP Server (version=TLS1_2,"
        " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.1.2 via Frontend Transport;"
        " Mon, 1 Jan 2024 10:00:00 +0000",
        "by mx.example with LMTP id abc for u@example.net; Mon, 1 Jan 2024 10:00:00",
        "by mx.example (Postfix) id 1; 1 Jan 2024 10:00:00 +0100",
        "from x (x [10.0.0.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
        " key-exchange X25519 server-signature RSA-PSS (4096 bits)) (No client certificate"
        " requested) by y (Postfix) with ESMTPS id Q for <a@b>; Mon, 1 Jan 2024 10:00:00 +0000",
    ],
)
def test_common_shapes_take_the_fast_path(value):
    assert _check(value)


@pytest.mark.parametrize(
    "value",
    [
        "from a (a [1.2.3.4]) by b with SMTP id X; not a date",  # unreadable date
        "from a (a [1.2.3.4]) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000 id X",
        "from a (a [1.2.3.4]) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000 ID X",
        "from a (a [1.2.3.4]) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000 Via X",
        # keywords that only the case-insensitive pattern finds (lower() gives "i\u0307d")
        "from a (a [1.2.3.4]) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000 \u0130d X",
        "from a (a [1.2.3.4]) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000 \u0131d X",
        "from a (a [1.2.3.4]) by b with SMTP envelope-from <x@y>; Mon, 1 Jan 2024 10:00:00 +0000",
        "from a (a [1.2.3.4]) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000 (envelope-from <x@y>)",
        "from a (a &lt;1.2.3.4&gt;) by b with SMTP; Mon, 1 Jan 2024 10:00:00 +0000",
        "from a (a [1.2.3.4]) by b with SMTP By c; Mon, 1 Jan 2024 10:00:00 +0000",
        "FROM a (a [1.2.3.4]) BY b; Mon, 1 Jan 2024 10:00:00 +0000",
        "from a by with SMTP; Mon, 1 Jan 2024 10:00:00 +0000",
    ],
)
def test_unusual_shapes_fall_back(value):
    assert not _check(value)


def test_envelope_sender_in_a_comment_is_taken():
    # Exim: the envelope sender in a comment of the clauses
    value = (
        "from a.example ([192.0.2.1] helo=h.example) by mx.example with esmtp (Exim 4.96)"
        " (envelope-from <x@y.example>) id 1abc-00 for u@mx.example; Mon, 1 Jan 2024 10:00:00 +0000"
    )
    assert _check(value)
    assert received._parse_fast(value, 3).envelope_from == "x@y.example"
    # the first comment that names an address wins, as in the full reader
    for comments, first in (
        ("(envelope-from <a@x.example>) (envelope-from <b@x.example>)", "a@x.example"),
        ("(envelope-from <>) (envelope-from <b@x.example>)", "b@x.example"),
    ):
        value = f"from a.example (a.example [192.0.2.1]) by mx.example with esmtp {comments} id 1; {DATE}"
        assert _check(value), value
        assert received._parse_fast(value, 3).envelope_from == first


_word = st.text(alphabet="abcdefxyz0123456789.-_:,=@", min_size=1, max_size=12)
_odd = st.sampled_from(
    ["", "By", "ID", "for", "with", "via", "from", "&amp;", "envelope-from", "Envelope-Sender",
     "[", "]", "<", ">", '"', ";", "(", ")", "((", "helo=", "HELO", "unknown", "[1.2.3.4]",
     "1.2.3.4", "::1", "[IPv6:2001:db8::1]", "[]", "[192.0.2.1]", "[unix socket]", "envelope-from <x@y>",
     "envelope-sender=z", "(envelope-from <>)", "256.1.1.1", "claiming", "ident=x", "verified",
     "unverified", "exim", "microsoft", "using TLSv1.2", "version=TLS1_2", "authenticated sender:",
     "TLS", "encrypted", "\t", "  "]
)  # fmt: skip
_piece = st.one_of(_word, _odd)
_comment_text = st.lists(_piece, max_size=5).map(" ".join)
_comment = st.one_of(
    _comment_text.map(lambda t: f"({t})"),
    st.tuples(_comment_text, _comment_text, _comment_text).map(
        lambda t: f"({t[0]} ({t[1]}) {t[2]})"
    ),
)
_comments = st.lists(_comment, max_size=4).map(lambda cs: "".join(" " + c for c in cs))
_proto = st.one_of(
    st.sampled_from(["SMTP", "ESMTP", "ESMTPS", "ESMTPSA", "LMTP", "esmtps", "HTTP", "IMAP",
                     "Microsoft SMTP Server", "encrypted", "tls", "qmail-scanner-1.2"]),
    _piece,
)  # fmt: skip
_date = st.sampled_from(
    ["Mon, 1 Jan 2024 10:00:00 +0000", "1 Jan 2024 10:00:00 -0700 (MST)",
     "Tue, 02 Feb 2021 23:59:59 GMT", "Wed, 3 Mar 2021 01:02:03", "2024-01-01T10:00:00Z",
     "not a date", "", "Mon, 1 Jan 2024 10:00:00 +0000 (envelope-from x)",
     "Mon, 1 Jan 2024 10:00:00 +0000 id X", "Mon, 1 Jan 2024 (a) 10:00:00 +0000"]
)  # fmt: skip


@st.composite
def _received(draw) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(f"from {draw(_piece)}{draw(_comments)}")
    parts.append(f"by {draw(_piece)}{draw(_comments)}")
    if draw(st.booleans()):
        parts.append(f"with {draw(_proto)}{draw(_comments)}")
    if draw(st.booleans()):
        parts.append(f"id {draw(_piece)}{draw(_comments)}")
    if draw(st.booleans()):
        parts.append(f"via {draw(_piece)} {draw(_piece)}")
    if draw(st.booleans()):
        rcpt = draw(_piece)
        parts.append(f"for {'<' + rcpt + '>' if draw(st.booleans()) else rcpt}{draw(_comments)}")
    sep = draw(st.sampled_from([" ", "  ", "\t", " \t"]))
    return sep.join(parts) + draw(st.sampled_from([";", " ;", "; ", ";  "])) + " " + draw(_date)


@settings(max_examples=1500, deadline=None)
@given(_received())
def test_generated_variants(value):
    _check(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='abfimorywthdv ()[]<>;"&-=:.0123456789\t', max_size=80))
def test_arbitrary_text(value):
    _check(value)
