"""The `verifier` command line: argument parsing and the one error-to-exit-code map.

Each command lives in ``verifier/commands/<name>.py`` and exposes
``register(subparsers)``; the function it sets as ``func`` receives the parsed
arguments and returns an exit code. Logic lives below this layer.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from verifier import __version__
from verifier.errors import ExitCode, VerifierError, exit_code_for

COMMAND_MODULES = ("analyze", "platform", "lab", "probe", "monitor")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors end in one sentence and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"verifier: error: {message}.\n")
        raise SystemExit(ExitCode.USAGE)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(
        prog="verifier",
        description="Prove where an email really went: analyse headers, configure OVHcloud "
        "Exchange send connectors, and probe the route a message takes.",
    )
    parser.add_argument("--version", action="version", version=f"verifier {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"verifier.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    debug = args.debug or os.environ.get("VERIFIER_DEBUG") == "1"
    try:
        return int(args.func(args))
    except VerifierError as exc:
        sys.stderr.write(f"verifier: {exc}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        if debug:
            traceback.print_exc()
        return exit_code_for(exc)
    except KeyboardInterrupt:
        sys.stderr.write("verifier: interrupted.\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`verifier analyze ... | head`): not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return ExitCode.OK
    except Exception as exc:  # a bug: one sentence, the traceback only on request
        sys.stderr.write(
            f"verifier: internal error ({type(exc).__name__}: {exc}); "
            "rerun with --debug for the traceback.\n"
        )
        if debug:
            traceback.print_exc()
        return ExitCode.INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
