"""The one-pass reader of clean header blocks (``paste._normalise_fast``) against the full
reader (``paste._normalise_full``): wherever the fast one gives an answer, it is the full
one's, field for field (names, unfolded values, line numbers), with the same normalised
text, ``has_body`` and (no) defects. Checked on every corpus file and fixture, on shapes
that must take or must leave the fast path, and on generated input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import header_text, inputs
from verifier.parsers.paste import _normalise_fast, _normalise_full, normalise

ROOT = Path(__file__).resolve().parents[2]
_CORPUS = [ROOT.parent / "shared" / "corpus" / "headers", ROOT.parents[1] / "shared" / "corpus" / "headers"]
CORPUS = next((c for c in _CORPUS if c.is_dir()), None)
FIXTURES = sorted(p for p in (ROOT / "fixtures" / "headers").rglob("*") if p.suffix in (".txt", ".eml", ".hdr"))


def _same(data: bytes | str) -> bool:
    """True when the fast reader answered (and then it must equal the full reader)."""
    fast = _normalise_fast(data)
    if fast is None:
        return False
    full = _normalise_full(data)
    assert fast == full
    assert fast.text == full.text and fast.has_body == full.has_body and fast.defects == full.defects
    assert [d.code for d in fast.defects] in ([], ["input.leading-junk"])
    return True


def test_fixtures_fast_equals_full() -> None:
    taken = sum(_same(p.read_bytes()) for p in FIXTURES)
    assert FIXTURES and taken >= len(FIXTURES) // 2, (taken, len(FIXTURES))


@pytest.mark.skipif(CORPUS is None, reason="the shared corpus is not beside the repository")
def test_corpus_fast_equals_full() -> None:
    files = sorted(CORPUS.glob("*.hdr"))
    taken = sum(_same(p.read_bytes()) for p in files)
    # most real blocks are clean: the fast reader must take them
    assert taken >= len(files) * 3 // 4, (taken, len(files))


CLEAN = (
    "Received: from a.example (a.example [192.0.2.1])\n"
    "\tby b.example (Postfix) with ESMTPS id X1\n"
    "\tfor <u@b.example>; Mon, 2 Jun 2025 10:00:00 +0000\n"
    "Subject:   hello  \n"
    "X-Empty:\n"
    "From: a@a.example\n"
)


@pytest.mark.parametrize(
    "text",
    [
        CLEAN,
        CLEAN + "\nbody\n",
        CLEAN + "\n\n\n",
        CLEAN.replace("\n", "\r\n"),
        CLEAN.replace("\n", "\r\n") + "\r\nbody",
        CLEAN.rstrip("\n"),
        CLEAN + "X-Addr: 2001:db8::1\n",  # a field named like hex, value not hex
        "From a@sender.example  Mon Jan  1 10:00:00 2024\n" + CLEAN,  # an mbox From line
        "From MAILER-DAEMON Mon Jan  1 10:00:00 2024\r\n" + CLEAN.replace("\n", "\r\n") + "\r\nbody",
        "From : someone\n" + CLEAN,  # a field named From
    ],
)
def test_clean_shapes_take_the_fast_path(text: str) -> None:
    assert _same(text)
    assert _same(text.encode("utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "\n" + CLEAN,  # leading blank line
        "Internet headers:\n" + CLEAN,  # caption
        CLEAN.replace("Subject", "subject line without colon\nSubject"),  # misfolded
        CLEAN.replace("\tby", "2001:db8::1 by"),  # an IPv6 address that lost its fold
        CLEAN.replace("\tby", "fe80:1 by"),
        CLEAN.replace("\n", "\n\n"),  # double spaced
        CLEAN.replace("\n", "\r"),  # CR line ends
        CLEAN.replace("\n", "\r\n", 1),  # mixed line ends
        CLEAN.replace("\tfor", " \t\n\tfor"),  # a line of white space inside the region
        CLEAN.replace("hello", "a &lt;b&gt;"),  # HTML-escaped
        "<pre>" + CLEAN,
        "\ufeff" + CLEAN,
        CLEAN.replace("hello", "he\x00llo"),
        CLEAN.replace("hello", "he\x1bllo"),  # a control character
        CLEAN.replace("\tby", "\u00a0\u00a0by"),  # no-break space indentation
        "    " + CLEAN.replace("\n", "\n    "),  # indented
        "> " + CLEAN.replace("\n", "\n> "),  # quoted
        "Download original\n" + CLEAN,
        "From a@b.example Mon Jan  1 10:00:00 2024\n\n" + CLEAN,  # blank line after the From line
        "From a@b.example Mon Jan  1 10:00:00 2024\nFrom b@b.example Mon Jan  1 10:00:00 2024\n" + CLEAN,
        "From a@b.example Mon Jan  1 10:00:00 2024\nHeaders:\n" + CLEAN,  # a caption after it
        "From a@b.example Mon Jan  1 10:00:00 2024\n",
        "From a@b.example Mon Jan  1 10:00:00 2024",
    ],
)
def test_unclean_shapes_leave_the_fast_path(text: str) -> None:
    assert _normalise_fast(text) is None
    assert _normalise_fast(text.encode("utf-8")) is None
    assert normalise(text) == _normalise_full(text)


def test_not_utf8_and_utf16_leave_the_fast_path() -> None:
    assert _normalise_fast(CLEAN.replace("hello", "caf\xe9").encode("latin-1")) is None
    assert _normalise_fast(CLEAN.encode("utf-16")) is None


_name = st.from_regex(r"[A-Za-z][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
_CLEAN_PIECES = ["a", "x y", "(c)", "[192.0.2.1]", ";", "\n ", "\n\t"]
_piece = st.sampled_from(
    _CLEAN_PIECES * 4
    + ["a", "x y", "  ", "\t", ":", "fe80", "2001:db8::1", "é", "\u3000", "\u00a0", "&lt;", "<", ">",
     "(c)", "[192.0.2.1]", ";", "\x0b", "\r", "\r\n", "\n", "\n ", "\n\t", "\n\n", "\n \n", "=?utf-8?B?w6k=?="]
)
_value = st.lists(_piece, max_size=12).map("".join)


@st.composite
def near_clean(draw) -> str:
    """Mostly clean blocks, with the characters and line shapes the fast reader must refuse."""
    fields = draw(st.lists(st.tuples(_name, st.sampled_from(["", " ", "\t", "  "]), _value), min_size=1, max_size=12))
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = eol.join(f"{n}{ws}:{v}" for n, ws, v in fields)
    text += draw(st.sampled_from(["", eol, eol + eol + "body", eol + eol, eol + " " + eol + "x"]))
    return draw(st.sampled_from(["", "", "From a@b.example Mon Jan  1 10:00:00 2024" + eol, "From x" + eol + eol, "From :" + eol])) + text


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(near_clean())
def test_generated_near_clean(text: str) -> None:
    _same(text)
    _same(text.encode("utf-8"))


@_SETTINGS
@given(header_text())
def test_generated_pastes(text: str) -> None:
    _same(text)


@_SETTINGS
@given(inputs)
def test_generated_bytes(data: bytes) -> None:
    _same(data)


def test_near_clean_reaches_the_fast_path() -> None:
    # the generated blocks above must also exercise the fast reader, not only its refusals
    taken = 0

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(near_clean())
    def count(text: str) -> None:
        nonlocal taken
        taken += _same(text)

    count()
    assert taken >= 20, taken


def test_field_limit_same_as_full(monkeypatch) -> None:
    from verifier.parsers import paste

    monkeypatch.setattr(paste, "MAX_FIELDS", 50)
    folded = "".join(f"X-{i}: a\n\tb\n\tc\n" for i in range(40))  # 120 lines, 40 fields: read
    assert _same(folded) and len(normalise(folded).fields) == 40
    for text in (
        "".join(f"X-{i}: v\n" for i in range(51)),  # 51 fields: refused
        "".join(f"X-{i}: v\r\n" for i in range(51)),
        "".join(f"X-{i}: v\n" for i in range(30)) + "\n" + "".join(f"Y-{i}: v\n" for i in range(60)),  # body: read
        "".join(f"X-{i}: v\r\n" for i in range(30)) + "\r\n" + "".join(f"Y-{i}: v\r\n" for i in range(60)),  # CRLF body: refused
    ):
        full = _normalise_full(text)
        fast = _normalise_fast(text)
        assert fast is None or fast == full
        assert normalise(text) == full
    assert [d.code for d in normalise("".join(f"X-{i}: v\n" for i in range(51))).defects] == ["input.too-many-fields"]
