"""A password file that is not UTF-8, or far too long, ends in one sentence that shows no byte of it."""

from __future__ import annotations

from vplatform_support import one_sentence

from verifier.errors import ExitCode

# A password with a Latin-1 byte in the middle: not UTF-8. The decoder's own message
# would name the byte (0xe9) and its position (8).
SECRET = b"Pa55word\xe9Secret-4d1f"


def _create(cli, path):
    return cli(
        "connector", "create", "--name", "x", "--smarthost", "h.relay.test", "--user", "u@relay.test",
        "--password-file", str(path),
    )


def test_password_file_not_utf8(emulator, cli, tmp_path):
    path = tmp_path / "pw"
    path.write_bytes(SECRET + b"\n")
    r = _create(cli, path)
    assert r.rc == ExitCode.INPUT
    line = one_sentence(r.err)
    assert line == f"verifier: The password file {path} is not UTF-8 text."
    everything = r.out + r.err
    for leak in ("0xe9", "\\xe9", "position", "Pa55word", "Secret-4d1f", "8", "UnicodeDecodeError"):
        assert leak not in everything.replace(str(path), "").replace("UTF-8", ""), leak
    assert cli("connector", "list", "--json").out.strip() == "[]"  # nothing was asked of the API


def test_password_file_line_too_long(emulator, cli, tmp_path):
    path = tmp_path / "pw"
    path.write_bytes(b"x" * 100_000)
    r = _create(cli, path)
    assert r.rc == ExitCode.INPUT
    assert "longer than" in one_sentence(r.err)
