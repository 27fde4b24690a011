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
