"""The errors a user can cause, and the exit codes the CLI maps them to.

Every error here carries one sentence meant for a person. Each class also
subclasses the builtin it refines (``InputError`` is a ``ValueError``,
``NetworkError`` a ``ConnectionError``...) so library callers can catch either.
The CLI maps classes to exit codes in one place: :func:`exit_code_for`.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes. Documented in README.md; never renumbered."""

    OK = 0  # done; for analyze/probe: the expected route was proven (or nothing was expected)
    INTERNAL = 1  # a bug in verifier: one sentence, and the traceback with --debug
    USAGE = 2  # bad command line (argparse uses 2 as well)
    INPUT = 3  # input unreadable, empty, or holding no header
    BYPASSED = 4  # verdict: the message left through the platform's own outbound
    INCONCLUSIVE = 5  # a route was expected but could not be proven either way
    API = 6  # the OVH API refused the request (unknown object, invalid value, conflict)
    CREDENTIALS = 7  # missing or rejected credentials, bad signature, stale timestamp
    TASK = 8  # an API task ended in error or cancelled, or waiting for it timed out
    NETWORK = 9  # could not reach a server (DNS, TCP, TLS)
    LAB = 10  # the lab cannot run here (not root, package missing, start failed)
    NOT_DELIVERED = 11  # probe: the message never arrived, or bounced
    CONFIG = 12  # configuration or profile file invalid
    CHECK_FAILED = 13  # a preflight check (connector test) failed
    MAILBOX_BUSY = 14  # the IMAP server refused a connection: its per-user connection limit is reached


class VerifierError(Exception):
    """Base class. ``str(err)`` is the one sentence shown to the user."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(VerifierError, ValueError):
    exit_code = ExitCode.USAGE


class InputError(VerifierError, ValueError):
    exit_code = ExitCode.INPUT


class ConfigError(VerifierError, ValueError):
    exit_code = ExitCode.CONFIG


class ApiError(VerifierError, RuntimeError):
    """The API answered, and said no."""

    exit_code = ExitCode.API


class NotFoundError(ApiError, LookupError):
    pass


class CredentialsError(VerifierError, PermissionError):
    exit_code = ExitCode.CREDENTIALS


class TaskFailedError(VerifierError, RuntimeError):
    exit_code = ExitCode.TASK


class TaskTimeoutError(TaskFailedError, TimeoutError):
    pass


class NetworkError(VerifierError, ConnectionError):
    exit_code = ExitCode.NETWORK


class MailboxBusyError(NetworkError):
    """The IMAP server refused a connection because the user has too many open already."""

    exit_code = ExitCode.MAILBOX_BUSY


class LabError(VerifierError, RuntimeError):
    exit_code = ExitCode.LAB


class NotDeliveredError(VerifierError, RuntimeError):
    exit_code = ExitCode.NOT_DELIVERED


class CheckFailedError(VerifierError, RuntimeError):
    exit_code = ExitCode.CHECK_FAILED


def exit_code_for(exc: BaseException) -> ExitCode:
    """The one place that turns an exception into an exit code."""
    if isinstance(exc, VerifierError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERNAL
    return ExitCode.INTERNAL


def exit_code_for_verdict(verdict: str, expected: str | None = None) -> ExitCode:
    """The one place that turns a message's verdict into an exit code, against the route that
    was expected of it (``None``: none was, as in ``analyze`` without ``--smarthost``).

    As expected: 0. Never arrived: 11. The platform's own outbound, or the connector where the
    platform was expected: 4. No route proven where one was expected: 5."""
    if expected is not None and verdict == expected:
        return ExitCode.OK
    if verdict == "not-delivered":
        return ExitCode.NOT_DELIVERED
    if verdict == "bypassed" or (expected is not None and verdict == "via-connector"):
        return ExitCode.BYPASSED
    if verdict == "inconclusive" and expected is not None:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


# Several outcomes end in the most serious: an unreadable input, then a message that never
# arrived, then the wrong route, then an error that stopped a run (any other code), then no
# route proven, then success. analyze, probe and monitor --once all use it.
_SERIOUSNESS = {ExitCode.OK: 0, ExitCode.INCONCLUSIVE: 1, ExitCode.BYPASSED: 3,
                ExitCode.NOT_DELIVERED: 4, ExitCode.INPUT: 5}
_OTHER_ERROR = 2


def most_serious(codes) -> ExitCode:
    """The exit code for several outcomes (see the order above); 0 when there are none."""
    worst = ExitCode.OK
    for code in codes:
        code = ExitCode(code)
        if _SERIOUSNESS.get(code, _OTHER_ERROR) > _SERIOUSNESS.get(worst, _OTHER_ERROR):
            worst = code
    return worst


# What each exit code means, in the words of README.md's table (a test keeps the two, and every
# command's --help, identical). A code without an entry here is described by its name.
EXIT_CODE_MEANINGS: dict[int, str] = {
    ExitCode.OK: "done; for `analyze` and `probe`: the expected route was proven, or no route was expected",
    ExitCode.INTERNAL: "internal error (a bug): one sentence, the traceback with `--debug`",
    ExitCode.USAGE: "usage error: a bad command line",
    ExitCode.INPUT: "an input could not be read, is empty, or holds no header (a header file, a password file)",
    ExitCode.BYPASSED: "verdict `bypassed`: the message left through the platform's own outbound",
    ExitCode.INCONCLUSIVE: "a route was expected but the headers prove neither route (`inconclusive`)",
    ExitCode.API: "the OVH API refused the request (unknown object, invalid value, conflict)",
    ExitCode.CREDENTIALS: "missing or rejected credentials, bad signature, stale timestamp",
    ExitCode.TASK: "an API task ended in error or was cancelled, or waiting for it timed out",
    ExitCode.NETWORK: "a server could not be reached (DNS, TCP, TLS)",
    ExitCode.LAB: "the lab cannot run here (not root, a package missing, a daemon failed to start)",
    ExitCode.NOT_DELIVERED: "probe: the message never arrived, or bounced",
    ExitCode.CONFIG: "a configuration or profile file is invalid",
    ExitCode.CHECK_FAILED: "a preflight check (`connector test`) failed",
    # MAILBOX_BUSY, added with the probe's mailbox sharing:
    14: "probe: the IMAP server refused a connection because its per-user connection limit is reached (the server's own reason is shown)",
}


def exit_code_meaning(code: int) -> str:
    """The one-line meaning of an exit code, as README.md's table gives it."""
    try:
        member = ExitCode(code)
    except ValueError:
        return "unknown exit code"
    return EXIT_CODE_MEANINGS.get(member, member.name.lower().replace("_", " "))


def error_name(code: int) -> str:
    """The ``error`` field of a JSON error object: the exit code's name, e.g. ``credentials``."""
    try:
        return ExitCode(code).name.lower().replace("_", "-")
    except ValueError:
        return "internal"


def exit_code_epilog(codes) -> str:
    """The ``exit codes:`` section of a command's --help, from the codes it can end with."""
    lines = ["exit codes:"]
    for code in sorted({int(c) for c in codes}):
        lines.append(f"  {code:<3} {exit_code_meaning(code).replace('`', '')}")
    return "\n".join(lines)
