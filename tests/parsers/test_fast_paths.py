"""Fast paths give exactly what the plain code paths give.

* ``auth._segments`` (built on the shared lexer) against the character-by-character
  reference below, which follows the lexer's documented rules;
* ``ip.parse_ip`` with and without the canonical-IPv4 and canonical-IPv6 shortcuts;
* the Received from-clause reader with and without its plain TCP-info shortcut.

Inputs: every header value of the shared corpus and the fixtures, and generated ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.parsers import auth, dates, ip, received
from verifier.parsers.lexer import MAX_SPAN
from verifier.parsers.paste import normalise
from verifier.parsers.received import from_clause

ROOT = Path(__file__).resolve().parent.parent.parent
from tests.parsers.corpus import CORPUS  # noqa: E402

SOURCES = sorted(CORPUS.glob("*.hdr")) if CORPUS.is_dir() else []
SOURCES += sorted((ROOT / "fixtures" / "headers").glob("*.txt"))


def _values() -> list[str]:
    out = []
    for path in SOURCES:
        out.extend(f.value for f in normalise(path.read_bytes()).fields)
    return out


def _segments_ref(value: str) -> tuple[list[list[tuple[str, str]]], bool]:
    """Split into ``;``-separated segments of (kind, text) tokens, character by
    character, by the lexer's documented rules (verifier/parsers/lexer.py).

    kind is "w" (word, quoted strings kept in one word with their quotes removed and
    quoted-pairs resolved) or "c" (comment text). Returns the segments and whether a
    ``(`` was left unclosed.
    """
    stack: list[int] = []
    match: dict[int, int] = {}
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            match[stack.pop()] = i
        elif ch == "\\" and stack:
            i += 1
        i += 1
    segs: list[list[tuple[str, str]]] = [[]]
    n = len(value)
    i = 0
    buf: list[str] = []
    unbalanced = False

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
            unbalanced = True
            buf.append(ch)
            i += 1
            continue
        if ch == ")":
            i += 1
            continue
        if ch == '"':
            j = i + 1
            text: list[str] = []
            while j < n and value[j] != '"':
                if value[j] == "\\" and j + 1 < n:
                    j += 1
                text.append(value[j])
                j += 1
            if j < n and len(text) <= MAX_SPAN:
                buf.append("".join(text))
                i = j + 1
                continue
            buf.append(ch)
            i += 1
            continue
        if ch == ";":
            flush()
            segs.append([])
            i += 1
            continue
        if ch.isspace():
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
        m.setattr(ip, "_V4_CANON", re.compile(r"(?!)"))
        m.setattr(ip, "_is_canonical_v6", lambda t: False)
        return ip.parse_ip(text)


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
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.ip_addresses(v=6).map(lambda a: str(a).upper()),
    st.tuples(
        st.sampled_from(["", "IPv6:", "[", "x@", "ipv6:"]),
        st.ip_addresses(v=6).map(str),
        st.sampled_from(["", "]", "%eth0", "%1"]),
    ).map("".join),
    # groups chosen so that runs of zeros tie, embedded IPv4 forms and bad groups occur
    st.lists(
        st.sampled_from(["0", "1", "ab", "0000", "ffff", "00a", "FFFF", "", "12345", "g"]),
        min_size=3,
        max_size=9,
    ).map(":".join),
    st.sampled_from(
        ["::", "::1", "1::", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:102:304", "::102:304", "1:0:0:1:0:0:1:1",
         "1::1:0:0:1:1", "1:0:0:1::1:1", "0:0:1::", "fe80::1%lo", "2001:db8::1:0:0:1", "2001:db8:0:0:1::1"]
    ),
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(_IPISH)
def test_parse_ip_generated(text):
    mp = pytest.MonkeyPatch()
    try:
        assert ip.parse_ip(text) == _parse_ip_slow(text, mp)
    finally:
        mp.undo()


def test_parse_ip_on_real_words(monkeypatch):
    words = {w.strip("()[];,") for v in _values() for w in v.split()}
    if not words:
        pytest.skip("no header value to check")
    for w in words:
        assert ip.parse_ip(w) == _parse_ip_slow(w, monkeypatch), w


# ---------------------------------------------------------------- dates


def _parse_date_ref(text: str):
    """parse_date as it was before the aware-datetime shortcut (the fast path's arithmetic)."""
    from datetime import UTC, datetime, timedelta

    from verifier.model import ParsedDate

    raw = (text or "").strip()
    m = dates._FAST_RE.fullmatch(raw)
    if m is not None:
        month = dates._MONTHS.get(m.group(2).lower())
        hh, mm = int(m.group(8)), int(m.group(9))
        if month is not None and hh <= 23 and mm < 60:
            offset = (hh * 60 + mm) * (-1 if m.group(7) == "-" else 1)
            second = int(m.group(6))
            try:
                local = datetime(
                    int(m.group(3)), month, int(m.group(1)), int(m.group(4)), int(m.group(5)),
                    59 if second == 60 else second,
                )  # fmt: skip
            except ValueError:
                return dates._bad(raw)
            utc = (local - timedelta(minutes=offset)).replace(tzinfo=UTC)
            return ParsedDate(raw=raw, utc=utc, offset_minutes=offset)
    return dates._parse(raw)


def _outcome(fn, text):
    try:
        return ("ok", fn(text))
    except Exception as exc:  # the same exception type, e.g. OverflowError near year 1 or 9999
        return ("raised", type(exc))


_DATES = st.builds(
    lambda wd, d, mon, y, h, mi, s, sign, oh, om, tail: (
        f"{wd}{d} {mon} {y} {h:02d}:{mi:02d}:{s:02d} {sign}{oh:02d}{om:02d}{tail}"
    ),
    st.sampled_from(["", "Mon, ", "Sun,  "]),
    st.integers(0, 32),
    st.sampled_from(["Jan", "Feb", "Sep", "Dec", "Foo", "Mai"]),
    st.sampled_from([1, 2, 1970, 2024, 9999]) | st.integers(1000, 9999),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["+", "-"]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.sampled_from(["", " (UTC)", " (PST)"]),
)


@settings(max_examples=2000, deadline=None)
@given(_DATES)
def test_parse_date_generated(text):
    assert _outcome(dates.parse_date, text) == _outcome(_parse_date_ref, text)


def test_parse_date_on_real_dates():
    values = [
        v
        for v in _values()
        if any(
            m in v
            for m in (
                "Jan",
                "Feb",
                "Mar",
                "Apr",
                "May",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Oct",
                "Nov",
                "Dec",
            )
        )
    ]
    if not values:
        pytest.skip("no header value to check")
    for v in values:
        for part in [v, *v.split(";")[1:]]:
            assert _outcome(dates.parse_date, part) == _outcome(_parse_date_ref, part), part


@pytest.mark.parametrize(
    "text",
    [
        "Mon, 1 Jan 1 00:10:00 +0100",  # before year 1 in UTC
        "Fri, 31 Dec 9999 23:59:59 -0100",  # after year 9999 in UTC
        "Fri, 31 Dec 9999 23:59:60 +0000",  # leap second
        "Tue, 28 Feb 2023 07:51:00 -0000",
        "Tue, 28 Feb 2023 07:51:00 +2359 (XYZ)",
        "Tue, 30 Feb 2023 07:51:00 +0200",  # no such day
        "Tue, 28 Feb 2023 24:51:00 +0200",
        "Tue, 28 Feb 2023 07:51:00 +2400",
    ],
)
def test_parse_date_edges(text):
    assert _outcome(dates.parse_date, text) == _outcome(_parse_date_ref, text)


# ---------------------------------------------------------------- the plain TCP-info shortcut


def _received_values() -> list[str]:
    out = []
    for path in SOURCES:
        out.extend(f.value for f in normalise(path.read_bytes()).fields if f.lname == "received")
    return out


def _without_shortcut(value: str, monkeypatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(from_clause, "_PLAIN_TCPINFO_RE", re.compile(r"(?!)"))
        return received._parse_full(value, 1)


def test_tcpinfo_shortcut_on_real_values(monkeypatch):
    values = _received_values()
    if not values:
        pytest.skip("no header value to check")
    taken = 0
    for v in values:
        taken += "[" in v
        assert received._parse_full(v, 1) == _without_shortcut(v, monkeypatch), v
    assert taken


_TCPINFO = st.tuples(
    st.sampled_from(["", "helo.example ", "[192.0.2.9] ", "192.0.2.8 "]),
    st.sampled_from(
        ["rdns.example", "unknown", "HELO", "helo", "a@b", "x,", "1.2.3.4", "localhost", "a;", "ident=x",
         "mail-x.google.com.", "::1", "v", "EHLO"]
    ),
    st.sampled_from([" ", "  ", ""]),
    st.sampled_from(["[192.0.2.1]", "[10.0.0.256]", "[01.2.3.4]", "[IPv6:2001:db8::1]", "[192.0.2.1:25]"]),
    st.sampled_from(["", " verified", " helo=x", " (may be forged)"]),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_TCPINFO)
def test_tcpinfo_shortcut_generated(parts):
    lead, name, sep, lit, tail = parts
    value = f"from {lead}({name}{sep}{lit}{tail}) by mx.example with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000"
    mp = pytest.MonkeyPatch()
    try:
        assert received._parse_full(value, 1) == _without_shortcut(value, mp), value
    finally:
        mp.undo()
