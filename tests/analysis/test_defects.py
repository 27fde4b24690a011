"""Every defect the parsers note reaches ``Analysis.defects`` (and the JSON ``defects``
list), with the header field it belongs to; the catalogue, the README table and the
codes the parsers can write agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import verifier.parsers as parsers
import verifier.parsers.headers  # noqa: F401 - parsers.headers.PARSERS is swapped in a test
from verifier.analysis.defects import DEFECT_CODES, DEFECT_SPECS, markdown_table
from verifier.analysis.engine import analyze_bytes
from verifier.cli import main
from verifier.parsers.paste import MAX_FIELDS

ROOT = Path(__file__).resolve().parents[2]
RECEIVED = b"Received: from a.example (a.example [203.0.113.1]) by mx.b.example with ESMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\n"
FROM = b"From: x@a.example\n"
SIG = b"DKIM-Signature: v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=x; b=x\n"

# One input per documented code, each written to show that one defect:
# (code, input, the header field it belongs to, or None for the paste as a whole).
SAMPLES: list[tuple[str, bytes, str | None]] = [
    ("input.nul", b"From: x@a.ex\x00ample\n" + RECEIVED, None),
    ("input.bom", "\ufeff".encode() + FROM + RECEIVED, None),
    ("input.html-escaped", b"<pre>From: Alice &lt;x@a.example&gt;\n" + RECEIVED + b"</pre>\n", None),
    ("input.line-endings", FROM.replace(b"\n", b"\r") + RECEIVED.replace(b"\n", b"\r"), None),
    ("input.leading-junk", b"Here are the headers you asked for\n" + FROM + RECEIVED, None),
    ("input.no-header", b"nothing here that looks like a header\n", None),
    ("input.binary", b"From: x@a.example\n" + bytes(range(1, 32)) * 40, None),
    ("input.too-many-fields", b"X-A: v\n" * (MAX_FIELDS + 1), None),
    ("input.double-spaced", FROM + b"\n" + RECEIVED + b"\nSubject: hello\n\nTo: y@b.example\n", None),
    ("input.indented", b"    " + FROM + b"    " + RECEIVED, None),
    ("input.misfolded", b"Received: from a.example (a.example [203.0.113.1])\nby mx.b.example with ESMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, None),
    ("date.unparsed", FROM + b"Date: the day after tomorrow\n" + RECEIVED, "Date"),
    ("date.no-offset", FROM + b"Date: Fri, 27 Nov 2026 20:00:00\n" + RECEIVED, "Date"),
    ("received.invalid-ip", b"Received: from a.example (a.example [11.22.333.44]) by mx.b.example with ESMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, "Received"),
    ("received.html-escaped", b"Received: from a.example (a.example [203.0.113.1]) by mx.b.example with ESMTP id 1 for y&amp;z@b.example; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, "Received"),
    ("received.deep-nesting", b"Received: from a.example " + b"(" * 70 + b"x" + b")" * 70 + b" by mx.b.example; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, "Received"),
    ("received.truncated", b"Received: from a.example by mx.b.example " + b"with x " * 3000 + b"; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, "Received"),
    ("received.no-date", b"Received: from a.example (a.example [203.0.113.1]) by mx.b.example with ESMTP id 1\n" + FROM, "Received"),
    ("received.comment-only", b"Received: (qmail 1234 invoked by uid 89); Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, "Received"),
    ("received.no-from-by", b"Received: with ESMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\n" + FROM, "Received"),
    ("auth.unbalanced", b"Authentication-Results: mx.b.example; spf=pass (unclosed comment smtp.mailfrom=a.example\n" + RECEIVED + FROM, "Authentication-Results"),
    ("auth.malformed", b"Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=a.example; this is not a result\n" + RECEIVED + FROM, "Authentication-Results"),
    ("auth.no-authserv-id", b"Authentication-Results: spf=pass smtp.mailfrom=a.example\n" + RECEIVED + FROM, "Authentication-Results"),
    ("auth.truncated", b"Authentication-Results: mx.b.example; " + b"; ".join(b"dkim=pass header.d=d%d.example" % i for i in range(100)) + b"\n" + RECEIVED + FROM, "Authentication-Results"),
    ("auth.no-instance", b"ARC-Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=a.example\n" + RECEIVED + FROM, "ARC-Authentication-Results"),
    ("auth.non-conformant", b"Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=a.example; this is not a result\n" + RECEIVED + FROM, "Authentication-Results"),
    ("tags.malformed", b"DKIM-Signature: v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=x; b=x; junk\n" + RECEIVED + FROM, "DKIM-Signature"),
    ("tags.duplicate", SIG.replace(b"s=s;", b"s=s; s=t;") + RECEIVED + FROM, "DKIM-Signature"),
    ("tags.truncated", SIG.rstrip(b"\n") + b"".join(b"; x%d=1" % i for i in range(300)) + b"\n" + RECEIVED + FROM, "DKIM-Signature"),
    ("tags.missing", b"DKIM-Signature: v=1; a=rsa-sha256; s=s; b=x\n" + RECEIVED + FROM, "DKIM-Signature"),
]


def _codes(data: bytes) -> dict[str, list]:
    a = analyze_bytes(data)
    out: dict[str, list] = {}
    for d in a.defects:
        out.setdefault(d.code, []).append(d)
    return out


@pytest.mark.parametrize(("code", "data", "header_name"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_each_defect_reaches_the_analysis(code: str, data: bytes, header_name: str | None) -> None:
    found = _codes(data)
    assert code in found, f"{code} not among {sorted(found)}"
    d = found[code][0]
    assert d.message
    assert d.header_name == header_name
    if header_name is None:
        assert d.header_index is None
    else:
        a = analyze_bytes(data)
        field = next(f for f in a.headers.block.fields if f.index == d.header_index)
        assert field.name == header_name


def test_a_parser_failure_is_a_defect_on_its_header(monkeypatch) -> None:
    """The parsers are written not to fail; the guard that isolates a failure is shown by
    making one fail."""

    def broken(value: str, header_index: int):
        raise RuntimeError("boom")

    monkeypatch.setitem(parsers.headers.PARSERS, "received", broken)
    found = _codes(FROM + RECEIVED)
    d = found["parser.internal"][0]
    assert d.header_name == "Received" and d.header_index == 1


def test_every_documented_code_has_a_sample() -> None:
    sampled = {s[0] for s in SAMPLES} | {"parser.internal"}
    assert sampled == DEFECT_CODES


def test_every_code_the_parsers_write_is_documented() -> None:
    written: set[str] = set()
    pattern = re.compile(r'"((?:input|received|auth|tags|date|parser)\.[a-z][a-z-]*)"')
    for path in sorted((ROOT / "verifier" / "parsers").rglob("*.py")):
        written.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert written, "no defect code found in the parsers' source"
    assert written <= DEFECT_CODES, f"undocumented defect codes: {sorted(written - DEFECT_CODES)}"


def test_readme_defects_table_matches_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    assert len(DEFECT_SPECS) == len(DEFECT_CODES)


def test_defects_are_in_the_json_with_their_header(capsys, tmp_path) -> None:
    path = tmp_path / "h.txt"
    path.write_bytes(b"Authentication-Results: spf=pass smtp.mailfrom=a.example\n" + RECEIVED + FROM)
    main(["analyze", "--json", str(path)])
    out = json.loads(capsys.readouterr().out)
    codes = {(d["code"], d["header_index"]) for d in out["defects"]}
    assert ("auth.no-authserv-id", 0) in codes
