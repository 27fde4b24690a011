"""Robustness over the shared corpus of real header blocks (../shared/corpus/headers/).

For every file: parse_headers never raises, returns the right types, and every
Received header yields a hop with a by_host or a from_host, except headers that
genuinely name neither: comment-only lines (qmail's "(qmail N invoked by uid N)",
Haraka's "(Haraka outbound)", ...) and the explicit list below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.model import AuthResults, Headers, Received, SpfResult, TagList
from verifier.parsers import parse_headers

CORPUS = Path(__file__).resolve().parent.parent / ".." / "shared" / "corpus" / "headers"
FILES = sorted(CORPUS.glob("*.hdr")) if CORPUS.is_dir() else []

# (file, start of the Received value) -> why it names no host.
NO_HOST: dict[tuple[str, str], str] = {
    ("phpmimemail-001.hdr", "from ([127.0.0.1]) with MailEnable ESMTP"): (
        "MailEnable wrote only the client's address and no 'by' clause: there is no host name to report"
    ),
    ("rspamd-005.hdr", "apparently"): "a test fixture's deliberately bogus Received value",
    ("rspamd-005.hdr", "or is it"): "a test fixture's deliberately bogus Received value",
}


def _need_corpus() -> None:
    if not FILES:
        pytest.skip(
            f"The shared corpus is not present ({CORPUS} holds no .hdr file), so there is nothing to check."
        )


def _exempt(name: str, r: Received) -> bool:
    if any(d.code == "received.comment-only" for d in r.defects):
        return True
    return any(name == f and r.raw.startswith(v) for (f, v) in NO_HOST)


@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.name if p else "absent")
def test_file_parses(path):
    _need_corpus()
    data = path.read_bytes()
    h = parse_headers(data)  # must not raise
    assert isinstance(h, Headers)
    assert all(isinstance(r, Received) for r in h.received)
    assert all(isinstance(a, AuthResults) for a in h.auth_results)
    assert all(isinstance(s, SpfResult) for s in h.spf)
    assert all(
        isinstance(t, TagList) for t in h.dkim_signatures + h.arc_seals + h.arc_message_signatures
    )
    assert not [d for d in h.defects if d.code == "parser.internal"]
    assert h.block.fields, "no header field found"
    for r in h.received:
        if _exempt(path.name, r):
            continue
        assert r.by_host or r.from_host, (
            f"Received #{r.header_index} names no host: {r.raw[:120]!r}"
        )


def test_share_of_hops_with_a_host(capsys):
    _need_corpus()
    total = with_host = comment_only = listed = 0
    for path in FILES:
        h = parse_headers(path.read_bytes())
        for r in h.received:
            total += 1
            if r.by_host or r.from_host:
                with_host += 1
            elif any(d.code == "received.comment-only" for d in r.defects):
                comment_only += 1
            elif _exempt(path.name, r):
                listed += 1
    assert total > 0
    with capsys.disabled():
        print(
            f"\ncorpus: {len(FILES)} files, {total} Received headers; "
            f"{with_host} with a host ({with_host / total:.1%}), {comment_only} comment-only, "
            f"{listed} listed without a host"
        )
    assert with_host + comment_only + listed == total


def test_lenient_reader_agrees_with_authres_where_authres_accepts():
    # authres is the strict RFC 8601 reference; wherever it accepts a header of the
    # corpus, our own reader must give the same authserv-id, methods, results, reasons
    # and properties (it may keep more: comments, action=...).
    _need_corpus()
    from verifier.parsers import auth
    from verifier.parsers.paste import normalise

    checked = 0
    for path in FILES:
        for f in normalise(path.read_bytes()).fields:
            if f.lname not in ("authentication-results", "arc-authentication-results"):
                continue
            body = f.value
            m = auth._AAR_PREFIX.match(body) if f.lname.startswith("arc") else None
            if m:
                body = body[m.end() :]
            strict = auth._strict(body)
            if isinstance(strict, str):
                continue
            checked += 1
            s_id, _v, s_results = strict
            l_id, _lv, l_results = auth._lenient(body, f.index, [])
            assert l_id == s_id, path.name
            assert [(r.method, r.result, r.reason) for r in l_results] == [
                (r.method, r.result, r.reason) for r in s_results
            ], path.name
            for lr, sr in zip(l_results, s_results, strict=True):
                assert {k: lr.properties.get(k) for k in sr.properties} == sr.properties, path.name
    assert checked > 0
