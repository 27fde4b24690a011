"""Binary data is not a header block, even where one of its lines reads like ``Name:``."""

from __future__ import annotations

import random

from verifier.cli import main
from verifier.parsers import parse_headers
from verifier.parsers.paste import normalise

RECEIVED = (
    b"Received: from out.relay.test (out.relay.test [198.51.100.20])\n"
    b"\tby mx.guides.test with ESMTPS id 1; Mon, 2 Jun 2025 10:00:00 +0000\n"
)


def _codes(block):
    return [d.code for d in block.defects]


def test_random_megabyte_is_no_header_and_exit_3(tmp_path, capsys):
    path = tmp_path / "random.bin"
    path.write_bytes(random.Random(12).randbytes(1_000_000))  # one "field" before the fix
    assert main(["analyze", str(path)]) == 3
    err = capsys.readouterr().err
    assert "no email header found" in err
    assert err.count("\n") == 1


def test_random_bytes_of_many_sizes_give_no_field():
    for seed in range(40):
        rnd = random.Random(seed)
        data = rnd.randbytes(rnd.choice([200, 5_000, 100_000, 1_000_000]))
        block = normalise(data)
        assert block.fields == (), (seed, [f.name for f in block.fields][:3])


def test_binary_with_a_field_shaped_line_is_refused():
    junk = bytes(range(0, 32)) * 4
    block = normalise(junk + b"\nSubject: hello\n" + junk + b"\n")
    assert block.fields == ()
    assert "input.binary" in _codes(block)
    assert "input.no-header" in _codes(block)


def test_escape_sequences_in_a_header_value_are_still_text():
    data = RECEIVED + b"Subject: \x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\n"
    headers = parse_headers(data)
    assert [f.name for f in headers.block.fields] == ["Received", "Subject"]
    assert "input.binary" not in _codes(headers.block)


def test_binary_body_after_the_headers_does_not_hide_them():
    body = random.Random(3).randbytes(20_000)
    block = normalise(RECEIVED + b"Subject: x\n\n" + body)
    assert [f.name for f in block.fields] == ["Received", "Subject"]
    assert block.has_body
