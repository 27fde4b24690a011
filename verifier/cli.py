"""The `verifier` command line: argument parsing and the one error-to-exit-code map.

Each command lives in ``verifier/commands/<name>.py`` and exposes
``register(subparsers)``; the function it sets as ``func`` receives the parsed
arguments and returns an exit code, and ``exit_codes`` (set with ``func``) lists
the codes it can end with, which its ``--help`` shows. Logic lives below this layer.

Every failure ends here: one sentence on stderr and the exit code of
:func:`verifier.errors.exit_code_for`; with ``--json``, also a JSON object
``{"error", "message", "exit_code", "hint"}`` on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any

from verifier import __version__
from verifier.errors import (
    ExitCode,
    VerifierError,
    error_name,
    exit_code_epilog,
    exit_code_for,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors end in one sentence and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"verifier: error: {message}.\n")
        if _json_errors:
            _print_json_error(ExitCode.USAGE, f"error: {message}.", None, None)
        raise SystemExit(ExitCode.USAGE)


INTERRUPTED = 130  # Ctrl-C, as shells report a SIGINT
_json_errors = False  # set by main() when --json is on the command line


class _HelpFormatter(argparse.HelpFormatter):
    """Wrap one-line texts as usual; keep texts written on several lines (tables) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def walk_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command words, parser) for the top-level parser and every subcommand."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, child in action.choices.items():
                if id(child) not in seen:
                    seen.add(id(child))
                    yield from walk_parsers(child, (*path, name))


def _add_exit_codes(parser: argparse.ArgumentParser) -> None:
    """End every --help with the exit codes: those a command declares, else all of them."""
    for _path, p in walk_parsers(parser):
        if p.epilog and "exit codes" in p.epilog:
            continue  # the command wrote its own section (analyze, probe)
        codes = p._defaults.get("exit_codes") or tuple(ExitCode)
        table = exit_code_epilog(codes)
        p.epilog = f"{p.epilog.rstrip()}\n\n{table}" if p.epilog else table
        p.exit_codes_generated = True  # type: ignore[attr-defined]
        if p.formatter_class is argparse.HelpFormatter:
            p.formatter_class = _HelpFormatter


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: `verifier --version` and the completion script stay quick.
    from verifier.commands import analyze, completion, lab, login, monitor, platform, probe

    parser = _Parser(
        prog="verifier",
        description="Prove where an email really went: analyse headers, configure OVHcloud "
        "Exchange send connectors, and probe the route a message takes.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"verifier {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # In --help order; `completion`, about verifier itself, comes last.
    for module in (analyze, platform, lab, probe, monitor, login, completion):
        module.register(sub)
    _add_exit_codes(parser)
    return parser


def _print_json_error(code: int, message: str, hint: str | None, details: Any) -> None:
    name = "interrupted" if code == INTERRUPTED else error_name(code)
    obj: dict[str, Any] = {"error": name, "message": message, "exit_code": int(code)}
    if hint:
        obj["hint"] = hint
    if details is not None:
        obj["details"] = details
    try:
        sys.stdout.write(json.dumps(obj, indent=2) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def _fail(code: int, message: str, *, hint: str | None = None, json_out: bool, details: Any = None) -> int:
    sys.stderr.write(f"verifier: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    if json_out:
        _print_json_error(code, message, hint, details)
    return int(code)


def main(argv: list[str] | None = None) -> int:
    global _json_errors
    argv = list(sys.argv[1:] if argv is None else argv)
    _json_errors = "--json" in argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    debug = args.debug or os.environ.get("VERIFIER_DEBUG") == "1"
    json_out = bool(getattr(args, "json", False))
    try:
        return int(args.func(args))
    except VerifierError as exc:
        code = exit_code_for(exc)
        if debug:
            traceback.print_exc()
        return _fail(code, str(exc), hint=exc.hint, json_out=json_out, details=getattr(exc, "details", None))
    except KeyboardInterrupt as exc:
        task_id = getattr(exc, "task_id", None)
        if task_id is not None:
            sys.stderr.write(f"verifier: stopped waiting; task {task_id} goes on in the API.\n")
        return _fail(INTERRUPTED, "interrupted.", json_out=json_out)
    except BrokenPipeError:
        # The reader went away (`verifier analyze ... | head`): not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return ExitCode.OK
    except Exception as exc:  # a bug: one sentence, the traceback only on request
        if debug:
            traceback.print_exc()
        return _fail(
            ExitCode.INTERNAL,
            f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback.",
            json_out=json_out,
        )


if __name__ == "__main__":
    raise SystemExit(main())
