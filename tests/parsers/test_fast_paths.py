"""Fast paths give exactly what the plain code paths give.

* ``auth._segments`` (runs of ordinary characters in one regex step) against the
  character-by-character reference below, its previous implementation;
* ``received.parse_ip`` with and without the canonical-IPv4 shortcut.

Inputs: every header value of the shared corpus and the fixtures, and generated ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.parsers import auth, received
from verifier.parsers.paste import normalise

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / ".." / "shared" / "corpus" / "headers"
SOURCES = sorted(CORPUS.glob("*.hdr")) if CORPUS.is_dir() else []
SOURCES += sorted((ROOT / "fixtures" / "headers").glob("*.txt"))


def _values() -> list[str]:
    out = []
    for path in SOURCES:
        out.extend(f.value for f in normalise(path.read_bytes()).fields)
    return out


def _segments_ref(value: str) -> tuple[list[list[tuple[str, str]]], bool]:
    """Split into ``;``-separated segments of (kind, text) tokens.

    kind is "w" (word, quoted strings kept in one word with their quotes removed) or
    "c" (comment text). Returns the segments and whether parentheses were unbalanced.
    """
    stack: list[int] = []
    match: dict[int, int] = {}
    for i, ch in enumerate(value):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            match[stack.pop()] = i
    unbalanced = bool(stack)
    segs: list[list[tuple[str, str]]] = [[]]
    n = len(value)
    i = 0
    buf: list[str] = []

    def flush() -> None:
        if buf:
            segs[-1].append(("w", "".join(buf)))
            buf.clear()

    while i < n:
        ch = value[i]
        if ch == "(":
            j = match.get(i)
            if j is not None:
                flush()
                segs[-1].append(("c", value[i + 1 : j].strip()))
                i = j + 1
                continue
            i += 1
            continue
        if ch == ")":
            i += 1
            continue
        if ch == '"':
            j = value.find('"', i + 1)
            if j != -1:
                buf.append(value[i + 1 : j])
                i = j + 1
                continue
            i += 1
            continue
        if ch == ";":
            flush()
            segs.append([])
            i += 1
            continue
        if ch in " \t\r\n":
            flush()
            i += 1
            continue
        buf.append(ch)
        i += 1
    flush()
    return [s for s in segs if s], unbalanced


def test_segments_on_real_values():
    values = _values()
    if not values:
        pytest.skip("no header value to check")
    for v in values:
        assert auth._segments(v) == _segments_ref(v), v


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab=.;()"\\ \t\r\n\u00a0\x0bé@')), max_size=60))
def test_segments_generated(value):
    assert auth._segments(value) == _segments_ref(value)


def _parse_ip_slow(text: str, monkeypatch) -> tuple[str | None, bool]:
    with monkeypatch.context() as m:
        m.setattr(received, "_V4_CANON", re.compile(r"(?!)"))
        return received.parse_ip(text)


_IPISH = st.one_of(
    st.ip_addresses().map(str),
    st.lists(st.integers(0, 999), min_size=3, max_size=5).map(lambda p: ".".join(map(str, p))),
    st.lists(
        st.sampled_from(["0", "00", "01", "1", "25", "255", "256", "300", "099", "٣"]),
        min_size=4,
        max_size=4,
    ).map(".".join),
    st.tuples(
        st.sampled_from(["", " ", "[", "IPv6:", "x@"]),
        st.ip_addresses(v=4).map(str),
        st.sampled_from(["", "]", " ", ":25", ".25"]),
    ).map("".join),
)


@settings(max_examples=1500, deadline=None)
@given(_IPISH)
def test_parse_ip_generated(text):
    mp = pytest.MonkeyPatch()
    try:
        assert received.parse_ip(text) == _parse_ip_slow(text, mp)
    finally:
        mp.undo()


def test_parse_ip_on_real_words(monkeypatch):
    words = {w.strip("()[];,") for v in _values() for w in v.split()}
    if not words:
        pytest.skip("no header value to check")
    for w in words:
        assert received.parse_ip(w) == _parse_ip_slow(w, monkeypatch), w
