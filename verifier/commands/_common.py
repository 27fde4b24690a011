"""What the OVH API commands share: options, passwords, the API handle, tables, JSON, progress.

Credentials come the python-ovh way (``OVH_*`` variables, ``ovh.conf``); the
endpoint from ``--endpoint`` (a python-ovh endpoint name or an http(s) URL);
organisation and service from flags, ``VERIFIER_OVH_ORGANIZATION`` /
``VERIFIER_OVH_SERVICE``, or the only one the credentials see. Passwords come
from a prompt, ``--password-file`` or ``--password-env``; never from a flag
value, and they are never printed.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from verifier.errors import ExitCode, InputError, NotFoundError, UsageError

# Only light modules here: the parser is built for every command, analyze included;
# python-ovh is imported when an API command runs.
from verifier.platform.models import AUTH_MECHANISMS
from verifier.platform.models import DEFAULT_TASK_WAIT as DEFAULT_WAIT

PASSWORD_FILE_LIMIT = 4096  # bytes of the first line; a password is far shorter

# Exit codes every API command can end with; each command adds its own.
API_EXIT_CODES = (
    ExitCode.OK,
    ExitCode.INTERNAL,
    ExitCode.USAGE,
    ExitCode.API,
    ExitCode.CREDENTIALS,
    ExitCode.NETWORK,
    ExitCode.CONFIG,
)
WAIT_EXIT_CODES = (*API_EXIT_CODES, ExitCode.TASK)
PASSWORD_EXIT_CODES = (ExitCode.INPUT,)

CONNECTOR_REF_HELP = "send connector id or display name (`verifier connector list` shows both)"


class _RefusePassword(argparse.Action):
    """``--password`` exists only to refuse it, without repeating its value."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ARG002
        parser.error(
            "passwords are never taken from the command line (other users can read it); "
            "use --password-file FILE, --password-env VAR or the prompt"
        )


# --------------------------------------------------------------------------- options


def add_parser(sub, name: str, *, codes: Iterable[int], func: Callable[[argparse.Namespace], int], **kw):
    """A subcommand whose --help ends with the exit codes it can end with."""
    p = sub.add_parser(name, **kw)
    p.set_defaults(func=func, exit_codes=tuple(sorted({int(c) for c in codes})))
    return p


def add_api_options(p: argparse.ArgumentParser, *, service: bool = True) -> None:
    g = p.add_argument_group("API access")
    g.add_argument(
        "--endpoint",
        metavar="NAME|URL",
        help="python-ovh endpoint name (ovh-eu, ovh-ca, ovh-us...) or an http(s) URL such as the "
        "lab emulator's; default: OVH_ENDPOINT, then ovh.conf, then ovh-eu",
    )
    g.add_argument(
        "--config-file",
        metavar="FILE",
        help="an extra ovh.conf read after /etc/ovh.conf, ~/.ovh.conf and ./ovh.conf",
    )
    if service:
        g.add_argument(
            "--organization",
            metavar="ORG",
            default=None,
            help="Exchange organisation (default: VERIFIER_OVH_ORGANIZATION, or the only one; "
            "`verifier service list` shows them)",
        )
        g.add_argument(
            "--service",
            metavar="SERVICE",
            default=None,
            help="Exchange service (default: VERIFIER_OVH_SERVICE, or the only one)",
        )
    g.add_argument(
        "--api-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="timeout of each API request (default 60)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print JSON on stdout (messages stay on stderr; a failure prints a JSON error object)",
    )


def add_wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow the API task until it ends, with a progress line on stderr",
    )
    p.add_argument(
        "--wait-timeout",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"give up waiting after this long (default {int(DEFAULT_WAIT)}); the task goes on",
    )


def add_password_options(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_argument_group(
        "password",
        f"The {what} is read from a file, an environment variable, or a prompt when stdin is a "
        "terminal; never from the command line.",
    )
    g.add_argument(
        "--password-file",
        metavar="FILE",
        help=f"read the password from FILE (first line, UTF-8, at most {PASSWORD_FILE_LIMIT} bytes)",
    )
    g.add_argument("--password-env", metavar="VAR", help="read the password from environment variable VAR")
    g.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)


def add_smarthost_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--smarthost`` as in ``analyze``; ``--smart-host`` still works, unlisted."""
    p.add_argument("--smarthost", dest="smart_host", default=None, metavar="HOST", help=help_text)
    p.add_argument("--smart-host", dest="smart_host", default=None, metavar="HOST", help=argparse.SUPPRESS)


def add_auth_mechanism_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument(
        "--auth-mechanism",
        default=None,
        choices=AUTH_MECHANISMS,
        metavar="{" + ",".join(AUTH_MECHANISMS) + "}",
        help=help_text,
    )


def bool_flag(p: argparse.ArgumentParser, name: str, dest: str, help_on: str) -> None:
    p.add_argument(f"--{name}", dest=dest, action="store_true", default=None, help=help_on)
    p.add_argument(f"--no-{name}", dest=dest, action="store_false", help=f"the opposite of --{name}")


def group_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE

    return show


# --------------------------------------------------------------------------- passwords


def read_password(args: argparse.Namespace, prompt: str, *, required: bool) -> str | None:
    if getattr(args, "password_file", None):
        path = args.password_file
        try:
            with open(path, "rb") as fh:
                raw = fh.readline(PASSWORD_FILE_LIMIT + 1)
        except OSError as exc:
            raise InputError(
                f"Cannot read the password file {path} ({exc.strerror or type(exc).__name__})."
            ) from None
        if len(raw) > PASSWORD_FILE_LIMIT:
            raise InputError(
                f"The first line of the password file {path} is longer than {PASSWORD_FILE_LIMIT} bytes."
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # The decoder's message quotes the offending byte and its offset: never show it.
            raise InputError(f"The password file {path} is not UTF-8 text.") from None
        raw = b""
        text = text.rstrip("\r\n")
        if not text:
            raise InputError(f"The password file {path} is empty.")
        return text
    if getattr(args, "password_env", None):
        value = os.environ.get(args.password_env)
        if not value:
            raise UsageError(f"The environment variable {args.password_env} is not set or empty.")
        return value
    if not required:
        return None
    if sys.stdin.isatty():
        value = getpass.getpass(prompt)
        if not value:
            raise InputError("No password was typed.")
        return value
    raise UsageError(
        "A password is needed and there is no terminal to prompt on; give --password-file FILE or "
        "--password-env VAR."
    )


# --------------------------------------------------------------------------- the API


def make_client(args: argparse.Namespace):
    from verifier.platform import ClientSettings
    from verifier.platform import make_client as _make

    client, _endpoint = _make(
        ClientSettings(endpoint=args.endpoint, config_file=args.config_file, timeout=args.api_timeout)
    )
    return client


def make_api(args: argparse.Namespace):
    from verifier.platform import ExchangeApi, pick_service

    client = make_client(args)
    org = args.organization or os.environ.get("VERIFIER_OVH_ORGANIZATION") or None
    svc = args.service or os.environ.get("VERIFIER_OVH_SERVICE") or None
    org, svc = pick_service(client, org, svc)
    return ExchangeApi(client, org, svc)


def explained(api, call: Callable[[], Any]) -> Any:
    """``call()``; a 404 from an unknown organisation or service names those that exist."""
    from verifier.platform.procedures import explain_not_found

    try:
        return call()
    except NotFoundError as exc:
        better = explain_not_found(api, exc)
        if better is exc:
            raise
        raise better from None


def with_api(fn: Callable[[argparse.Namespace, Any], int]) -> Callable[[argparse.Namespace], int]:
    """A command ``fn(args, api)`` run on the service the options name, its 404s explained."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        api = make_api(args)
        return explained(api, lambda: fn(args, api))

    return run


@contextmanager
def waiting(args: argparse.Namespace) -> Iterator[Any]:
    """The ``--wait`` options as a ``procedures.Waiting``, with a progress line on stderr."""
    from verifier.platform.procedures import Waiting

    progress = TaskProgress()
    try:
        yield Waiting(wait=bool(getattr(args, "wait", False)), timeout=args.wait_timeout, progress=progress)
    finally:
        progress.close()


# --------------------------------------------------------------------------- output


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def say(args: argparse.Namespace, line: str) -> None:
    """A human message: stdout in text mode, stderr in JSON mode (stdout is JSON only)."""
    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    stream.write(line + "\n")
    stream.flush()


def _cell(value: Any) -> str:
    text = "-" if value is None or value == "" else str(value)
    # Values come from the API: keep terminal control characters out of the table.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned table with a header for every column (``-`` for an empty value)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def connector_label(conn, *, capital: bool = False) -> str:
    """``send connector 3 ('lab relay')``: how every message names a connector."""
    return f"{'Send' if capital else 'send'} connector {conn.id} ({conn.display_name!r})"


def route_label(connector_id: int | None, conn=None) -> str:
    """Where an account's mail goes, in the words every message uses."""
    if not connector_id:
        return "the platform's own outbound"
    if conn is not None and conn.id == connector_id:
        return connector_label(conn)
    return f"send connector {connector_id}"


class TaskProgress:
    """A status line on a terminal; one line per status change otherwise."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.last: str | None = None
        self.open_line = False

    def __call__(self, task, elapsed: float) -> None:
        label = f"task {task.id} ({task.function}): {task.status}"
        if self.tty:
            self.stream.write(f"\r\033[K{label}, {elapsed:.0f} s")
            self.open_line = True
            if task.finished:
                self.stream.write("\n")
                self.open_line = False
        elif task.status != self.last:
            self.stream.write(label + "\n")
        self.stream.flush()
        self.last = task.status

    def close(self) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False
