"""Fuzz harness: paste normalisation, every parser, the analysis and the three renderers.

Each target asserts that nothing raises, that the output is well formed (the JSON report
parses back, the HTML report holds only the renderer's own tags) and that the work is
bounded: output and peak memory grow at most linearly with the input.

The normal test run tries a few hundred inputs per target. The long run is
``scripts/fuzz.sh --examples 1000000`` (options at its head); it sets
``VERIFIER_FUZZ_EXAMPLES`` (inputs per target), ``VERIFIER_FUZZ_REPORT`` (a file the
counts are appended to) and ``VERIFIER_FUZZ_SLOW`` (seconds one input may take; unset in
the normal run, which has no timed assertion).
"""

from __future__ import annotations

import json
import os
import re
import time
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verifier.report
from tests.fuzz.counts import TRIED
from tests.fuzz.strategies import inputs, values
from verifier.analysis.engine import analyze_bytes
from verifier.model import (
    AuthResults,
    HeaderBlock,
    Headers,
    ParsedDate,
    Received,
    SpfResult,
    TagList,
)
from verifier.parsers import (
    decode_words,
    normalise,
    parse_address,
    parse_authentication_results,
    parse_date,
    parse_headers,
    parse_received,
    parse_received_spf,
    parse_tag_list,
    split_messages,
)
from verifier.report.html import render as render_html
from verifier.report.json_report import to_json
from verifier.report.text import render as render_text

EXAMPLES = int(os.environ.get("VERIFIER_FUZZ_EXAMPLES", "150"))
SLOW = float(os.environ["VERIFIER_FUZZ_SLOW"]) if os.environ.get("VERIFIER_FUZZ_SLOW") else None

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Output of every renderer is at most this many characters per input byte, plus a constant.
OUTPUT_PER_BYTE = 64
OUTPUT_BASE = 256 * 1024
# Peak memory of the whole analysis and rendering, in bytes per input byte, plus a constant.
MEMORY_PER_BYTE = 64
MEMORY_BASE = 16 * 1024 * 1024

# The tags the HTML renderer writes; anything else came from the input unescaped.
# The tags the HTML renderer itself writes: those of its template (and of the Python that
# builds parts of the page). Any other tag in the output came from the input, unescaped.
_RENDERER_SOURCES = (
    Path(verifier.report.__file__).parent / "templates" / "page.html.j2",
    Path(verifier.report.__file__).parent / "html.py",
)
HTML_TAGS = {
    tag.lower()
    for src in _RENDERER_SOURCES
    for tag in re.findall(r"<([A-Za-z][A-Za-z0-9]*)", src.read_text(encoding="utf-8"))
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)


class _Timer:
    def __init__(self, what: str, data) -> None:
        self.what, self.data = what, data

    def __enter__(self):
        TRIED[self.what] += 1
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if SLOW is not None and exc[0] is None:
            took = time.perf_counter() - self.t0
            assert took <= SLOW, f"{self.what} took {took:.1f} s on a {len(self.data)}-byte input"
        return False


def _bounded(out: str, data) -> None:
    assert len(out) <= OUTPUT_BASE + OUTPUT_PER_BYTE * len(data), (len(out), len(data))


@SETTINGS
@given(inputs)
def test_normalise(data: bytes) -> None:
    with _Timer("normalise", data):
        block = normalise(data)
    assert isinstance(block, HeaderBlock)
    for f in block.fields:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", f.name), f.name
        assert "\n" not in f.value and "\r" not in f.value
    _bounded(block.text, data)


@SETTINGS
@given(st.text(max_size=3000))
def test_normalise_text(text: str) -> None:
    with _Timer("normalise-str", text):
        block = normalise(text)
    assert isinstance(block, HeaderBlock)
    block.text.encode("utf-8")  # no lone surrogate survives


@SETTINGS
@given(inputs)
def test_split_messages(data: bytes) -> None:
    with _Timer("split_messages", data):
        parts = split_messages(data)
    assert b"".join(parts) == data


@SETTINGS
@given(inputs)
def test_parse_headers(data: bytes) -> None:
    with _Timer("parse_headers", data):
        headers = parse_headers(data)
    assert isinstance(headers, Headers)
    assert not [d for d in headers.defects if d.code == "parser.internal"]


@SETTINGS
@given(values, st.integers(min_value=0, max_value=3))
def test_parse_received(value: str, index: int) -> None:
    with _Timer("parse_received", value):
        r = parse_received(value, index)
    assert isinstance(r, Received) and r.header_index == index
    _bounded(repr(r), value)


@SETTINGS
@given(values, st.sampled_from(["authentication-results", "arc-authentication-results"]))
def test_parse_authentication_results(value: str, name: str) -> None:
    with _Timer("parse_authentication_results", value):
        ar = parse_authentication_results(value, 0, name)
    assert isinstance(ar, AuthResults)
    _bounded(repr(ar), value)


@SETTINGS
@given(values)
def test_parse_received_spf(value: str) -> None:
    with _Timer("parse_received_spf", value):
        s = parse_received_spf(value, 0)
    assert isinstance(s, SpfResult)
    _bounded(repr(s), value)


@SETTINGS
@given(values, st.sampled_from(["dkim-signature", "arc-seal", "arc-message-signature"]))
def test_parse_tag_list(value: str, kind: str) -> None:
    with _Timer("parse_tag_list", value):
        t = parse_tag_list(value, 0, kind)
    assert isinstance(t, TagList)
    _bounded(repr(t), value)


@SETTINGS
@given(values)
def test_parse_address(value: str) -> None:
    with _Timer("parse_address", value):
        parse_address(value, 0)


@SETTINGS
@given(values)
def test_parse_date(value: str) -> None:
    with _Timer("parse_date", value):
        d = parse_date(value)
    assert isinstance(d, ParsedDate)


@SETTINGS
@given(values)
def test_decode_words(value: str) -> None:
    with _Timer("decode_words", value):
        out = decode_words(value)
    assert isinstance(out, str)


def _analyse_and_render(data: bytes) -> tuple[str, str, str]:
    a = analyze_bytes(data)
    obj = to_json(a, input_name="fuzz<&>")
    js = json.dumps(obj, ensure_ascii=False)
    text = render_text(a, input_name="fuzz", colour=True)
    html = render_html(a, input_name="fuzz<script>")
    return js, text, html


@SETTINGS
@given(inputs)
def test_analysis_and_renderers(data: bytes) -> None:
    with _Timer("analyze+render", data):
        js, text, html = _analyse_and_render(data)
    assert isinstance(json.loads(js), dict)
    for out in (js, text, html):
        _bounded(out, data)
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.tags <= HTML_TAGS, parser.tags - HTML_TAGS


@settings(SETTINGS, max_examples=max(20, EXAMPLES // 10))
@given(inputs)
def test_memory_is_bounded(data: bytes) -> None:
    TRIED["memory"] += 1
    tracemalloc.start()
    try:
        _analyse_and_render(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= MEMORY_BASE + MEMORY_PER_BYTE * len(data), (peak, len(data))
