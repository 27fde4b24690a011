"""Shared helpers of the platform tests: passwords, names, running the CLI, the transcript.

The real python-ovh client talks HTTP to the emulator; nothing in the client is patched.
Every output, log line and exception text a test produces is recorded in ``TRANSCRIPT``
so that ``test_secrets.py`` can look for passwords in all of it.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from verifier.cli import main

# Passwords the tests hand to verifier; none may ever show up in any output.
CONNECTOR_PASSWORD = "Relay-Pa55word-7c1e9f"
NEW_CONNECTOR_PASSWORD = "Second-Pa55word-b20d41"
SMTP_PASSWORD = "Smtp-Pa55word-93aa10"
WRONG_PASSWORD = "Wrong-Pa55word-5f0c2e"
MAILBOX_PASSWORD = "Mailbox-Pa55word-0e77d3"
PASSWORDS = (CONNECTOR_PASSWORD, NEW_CONNECTOR_PASSWORD, SMTP_PASSWORD, WRONG_PASSWORD, MAILBOX_PASSWORD)

TRANSCRIPT: list[str] = []

ORG = "private-zz111111-1"
SERVICE = "private-zz111111-1"
NEWSLETTER = "newsletter@mydomain.test"
CONTACT = "contact@mydomain.test"
DOMAIN = "mydomain.test"


@dataclass
class Result:
    rc: int
    out: str
    err: str


class Routes:
    """A RouteHook that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[list] = []

    def __call__(self, routes: list) -> None:
        self.calls.append(list(routes))
        TRANSCRIPT.append(repr(routes))

    @property
    def last(self) -> list:
        return self.calls[-1] if self.calls else []


def run_cli(*argv: str) -> Result:
    """Run ``verifier ARGV`` in-process; stdin is not a terminal (no prompts)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            rc = int(exc.code or 0)
    result = Result(rc, out.getvalue(), err.getvalue())
    # argv is input, not output: a test may put a password there on purpose (to see it refused).
    TRANSCRIPT.append(f"verifier {argv[0] if argv else ''} ... -> {result.rc}")
    TRANSCRIPT.append(result.out)
    TRANSCRIPT.append(result.err)
    return result


def one_sentence(text: str) -> str:
    """The error line of a failed command, checked to be one line ending in a full stop."""
    lines = [line for line in text.strip().splitlines() if line.startswith("verifier: ")]
    assert len(lines) == 1, text
    line = lines[0]
    assert line.endswith(".") and not line.endswith(".."), line
    assert "Traceback" not in text
    return line
