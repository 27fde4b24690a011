"""The text report: one model with the JSON, and nothing from a header reaches a terminal raw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verifier.analysis.engine import Options, analyze_bytes
from verifier.cli import main
from verifier.report.json_report import to_json
from verifier.report.model import build, safe_text
from verifier.report.text import render

VIA_SMARTHOST = (Path(__file__).resolve().parents[2] / "fixtures" / "headers" / "ovh-guide-sample.txt").read_bytes()

# A header block written to attack a terminal: an OSC sequence that sets the window
# title (ESC ] 0 ; ... BEL), CSI sequences that recolour and clear the screen, a carriage
# return that would rewrite the verdict line, and a C1 CSI (0x9b).
HOSTILE = (
    "Subject: hi \x1b]0;pwned title\x07 there\n"
    "Received: from evil.example (evil.example [203.0.113.9]) by mx\x1b[31m.example\x1b[2J with ESMTP id X\x9b1m;"
    " Fri, 27 Nov 2026 20:00:00 +0000\n"
    "From: a@b.example\n"
    "X-Note: fine\rVerdict: VIA-CONNECTOR  forged\n"
).encode()

OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _terminal_controls(text: str) -> list[str]:
    """Control characters other than newline and the report's own colour codes."""
    rest = OUR_SGR.sub("", text)
    return [c for c in rest if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) <= 0x9F]


@pytest.mark.parametrize("colour", [False, True])
def test_control_characters_never_reach_the_terminal(colour):
    a = analyze_bytes(HOSTILE, Options())
    out = render(a, colour=colour)
    assert _terminal_controls(out) == []
    # the sequences are shown, escaped, so the reader sees what the header held
    assert "\\x1b]0;pwned title\\x07" in out
    assert "mx\\x1b" in out


@pytest.mark.parametrize("colour", [False, True])
def test_encoded_words_cannot_smuggle_a_carriage_return(colour):
    # The paste's line-end repair never sees a CR that only an encoded-word decodes to; the
    # decoded Subject would carry it (and an erase-line sequence) to the terminal.
    block = b"Subject: =?UTF-8?Q?hello=0D=1B[2KVerdict:_VIA-CONNECTOR?=\nFrom: a@b.example\nReceived: from a (a [192.0.2.1]) by b; Fri, 27 Nov 2026 20:00:00 +0000\n"
    a = analyze_bytes(block, Options())
    assert "\r" in a.headers.subject  # the attack is really there
    out = render(a, colour=colour)
    assert _terminal_controls(out) == []
    assert "hello\\x0d\\x1b[2KVerdict: VIA-CONNECTOR" in out


@pytest.mark.parametrize("color", ["always", "never"])
def test_cli_text_output_is_clean_whatever_color_says(tmp_path, capsys, color):
    p = tmp_path / "hostile.txt"
    p.write_bytes(HOSTILE)
    main(["analyze", f"--color={color}", str(p)])
    out = capsys.readouterr().out
    assert _terminal_controls(out) == []
    # no line of the output but the report's own begins with the verdict
    assert sum(1 for line in OUR_SGR.sub("", out).splitlines() if line.startswith("Verdict:")) == 1


def test_safe_text():
    assert safe_text("plain text é") == "plain text é"
    assert safe_text("a\x1bb\rc\x07\x9b\u202e") == "a\\x1bb\\x0dc\\x07\\x9b\\u202e"
    assert safe_text("tab\tkept") == "tab\tkept"


def test_dkim_domain_is_the_same_in_text_and_json():
    block = VIA_SMARTHOST.replace(b"header.d=smtp.example.com header.i=@smtp.example.com", b"header.i=someone@Signer.Example")
    assert block != VIA_SMARTHOST
    a = analyze_bytes(block, Options(smarthosts=("smtp-relay.example.com",)))
    obj = to_json(a)
    assert obj["dkim"][0]["domain"] == "signer.example"
    text = render(a)
    assert "d=signer.example" in text
    assert "someone@" not in text.split("Authentication")[1].split("Findings")[0]


def test_json_is_rendered_from_the_model():
    a = analyze_bytes(VIA_SMARTHOST, Options(smarthosts=("smtp-relay.example.com",)))
    rep = build(a, input_name="x.txt")
    assert rep.to_json() == to_json(a, input_name="x.txt")
    assert rep.verdict == "via-connector"
    assert [h.index for h in rep.hops] == list(range(len(a.hops)))
    assert [h.index for h in rep.hops if h.border] == [a.border.index]
    # a fix is given for findings that call for one, none for plain facts
    assert any(f.fix for f in build(analyze_bytes(VIA_SMARTHOST)).findings)
    assert not any(f.fix for f in rep.findings if f.code == "dkim.pass")
