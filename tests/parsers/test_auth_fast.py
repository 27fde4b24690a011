"""The plain-header fast path of Authentication-Results parsing agrees with authres.

``auth._plain_conformant`` accepts a conservative subset of RFC 8601; for those
headers the authres pass is replaced by ``auth._strict_from_lenient``. These tests
check that wherever the fast path is taken, authres accepts the header and the
whole ``AuthResults`` is the same as with the authres pass, over every
Authentication-Results / ARC-Authentication-Results header of the shared corpus and
the fixtures, and over generated headers mixing plain and awkward parts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier.parsers import auth
from verifier.parsers.paste import normalise

ROOT = Path(__file__).resolve().parent.parent.parent
from tests.parsers.corpus import CORPUS  # noqa: E402

SOURCES = sorted(CORPUS.glob("*.hdr")) if CORPUS.is_dir() else []
SOURCES += sorted((ROOT / "fixtures" / "headers").glob("*.txt"))


def _slow(value: str, index: int, kind: str, monkeypatch) -> auth.AuthResults:
    with monkeypatch.context() as m:
        m.setattr(auth, "_plain_conformant", lambda body: False)
        return auth.parse_authentication_results(value, index, kind)


def _check(value: str, kind: str, monkeypatch) -> bool:
    """Fast and authres readings agree; returns whether the fast path was taken."""
    body = value
    if kind == "arc-authentication-results":
        m = auth._AAR_PREFIX.match(value)
        if m:
            body = value[m.end() :]
    fast = auth._plain_conformant(body)
    if fast:
        strict = auth._strict(body)
        assert not isinstance(strict, str), (body, strict)
        assert strict == auth._strict_from_lenient(*auth._lenient(body, 0, [])), body
    try:
        slow = _slow(value, 3, kind, monkeypatch)
    except AttributeError:
        # authres returns a "none" result object after earlier results
        # ("mx; spf=pass; none"), which _strict does not expect; such headers are never
        # on the fast path (it refuses "none"), so there is nothing to compare.
        assert not fast
        return fast
    assert auth.parse_authentication_results(value, 3, kind) == slow
    return fast


def _headers():
    for path in SOURCES:
        for f in normalise(path.read_bytes()).fields:
            if f.lname in ("authentication-results", "arc-authentication-results"):
                yield path.name, f.lname, f.value


def test_fast_path_agrees_with_authres_on_every_real_header(monkeypatch):
    headers = list(_headers())
    if not headers:
        pytest.skip("no Authentication-Results header to check")
    fast = sum(_check(v, k, monkeypatch) for _name, k, v in headers)
    # Most real headers are plain; the fast path must actually be used.
    assert fast >= len(headers) // 2


@pytest.mark.parametrize(
    "body",
    [
        # a quoted reason with no space before the next property (found by the generator)
        'mx.example; spf=pass reason="signature ok"smtp.mailfrom=a@b.example',
        "mx.example; none",
        "mx.example; NONE",
        "mx.example; nonesuch=pass",
        "mx.example 2; spf=pass smtp.mailfrom=a@b.example",
        "mx.example; spf=pass smtp.mailfrom=a@b.example;",
        "mx.example; spf=pass smtp.mailfrom=<a@b.example>",
        'mx.example; dkim=pass header.b="abc" header.d=b.example',
        'mx.example; dkim=pass header.d=b.example header.b="abc"',
        "mx.example; dkim=pass header.i=@b..example",
        'mx.example; dkim=pass reason="" header.d=b.example',
        "mx.example; dkim=pass reasonable=1 header.d=b.example",
        "mx.example; dkim=pass header.d=b.example reason=late",
        "mx.example; smime=pass body.smime-serial=1",
        "mx.example; dmarc=pass action=none header.from=b.example",
        "mx.example; dmarc=pass smtp=x header.from=b.example",
        "mx.example; spf=pass (a (nested) comment) smtp.mailfrom=b.example",
        "mx.example; spf=pass (quoted\\) pair) smtp.mailfrom=b.example",
        "mx.example; spf = pass smtp.mailfrom=b.example",
        "MX.Example; SPF=Pass SMTP.MailFrom=B.example",
        "mx.example 1 (v1); spf=pass smtp.mailfrom=b.example (ok); dkim/1=pass",
        "mx.example; auth=pass smtp.auth=user@b.example",
        "mx.example; dkim=pass" + " header.d=b.example" * 31,
        "mx.example; dkim=pass" + " header.d=b.example" * 32,
        "mx.example; dkim=pass" + " header.d=b.example" * 40,
        "mx.example" + "; dkim=pass header.d=b.example" * 64,
        "mx.example" + "; dkim=pass header.d=b.example" * 65,
    ],
)
def test_awkward_headers(body, monkeypatch):
    _check(body, "authentication-results", monkeypatch)
    _check("i=1; " + body, "arc-authentication-results", monkeypatch)


_PARTS = st.sampled_from(
    [
        "spf=pass",
        "dkim=fail",
        "dmarc=none",
        "none",
        "NONE",
        "arc=pass",
        "x-ptr=pass",
        "smime=pass",
        "iprev=pass",
        "dkim/1=pass",
        "spf = pass",
        "reason=ok",
        'reason="signature ok"',
        'reason=""',
        "reason=a/b",
        "smtp.mailfrom=a@b.example",
        "smtp.mailfrom=@b.example",
        "smtp.mailfrom=<a@b.example>",
        "smtp.mailfrom=",
        "header.d=b.example",
        "HEADER.D=B.example",
        "header.i=@b.example",
        "header.i=@b..example",
        'header.b="abc/def="',
        'header.b=""',
        "policy.ptr=b.example",
        "body.smime-serial=1",
        "action=none",
        "reasonx=1",
        "smtp=1",
        "x.y=z",
        "(comment)",
        "(a (nested) one)",
        "(with \\) pair)",
        "(semi; colon)",
        "1",
        "2",
        ";",
        "; ",
        " ",
        "\t",
        "\u00e9",
        '"',
        "(",
        ")",
    ]
)


_METHODS = st.sampled_from(
    ["spf=pass", "dkim=fail", "dmarc=none", "arc=pass", "iprev=pass", "x-ptr=pass", "auth=pass"]
)
_PLAIN = st.sampled_from(
    [
        "smtp.mailfrom=a@b.example",
        "header.d=b.example",
        "header.i=@b.example",
        "policy.ptr=b.example",
        "action=none",
        "(comment)",
        "(semi; colon)",
        "reason=ok",
        'header.b="abc/def="',
    ]
)
_SEP = st.sampled_from([" ", " ", "  ", "\t", ""])


@settings(
    max_examples=int(os.environ.get("AUTH_FAST_EXAMPLES", "800")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.sampled_from(
        ["mx.example", "MX.Example", "a-b.example", "x", "mx.example 1", " (c) mx.example", "(c)x"]
    ),
    st.lists(
        st.tuples(
            st.one_of(_METHODS, _PARTS),
            st.lists(st.tuples(_SEP, st.one_of(_PLAIN, _PLAIN, _PARTS)), max_size=6),
        ),
        min_size=0,
        max_size=5,
    ),
    st.sampled_from(["", " ", "; ", " (end)", " (end) (end)"]),
)
def test_generated_headers(authserv, resinfos, tail):
    body = authserv
    for method, parts in resinfos:
        body += "; " + method + "".join(sep + part for sep, part in parts)
    body += tail
    mp = pytest.MonkeyPatch()
    try:
        _check(body, "authentication-results", mp)
    finally:
        mp.undo()
