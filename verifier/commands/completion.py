"""`verifier completion SHELL`: print a shell completion script generated from the parser."""

from __future__ import annotations

import argparse
import sys

from verifier.errors import ExitCode

SHELLS = ("bash", "zsh", "fish")

EXIT_CODES = (ExitCode.OK, ExitCode.INTERNAL, ExitCode.USAGE)

INSTALL = {
    "bash": "verifier completion bash > ~/.local/share/bash-completion/completions/verifier",
    "zsh": "verifier completion zsh > ~/.zfunc/_verifier  (with fpath+=(~/.zfunc) before compinit in ~/.zshrc)",
    "fish": "verifier completion fish > ~/.config/fish/completions/verifier.fish",
}


def register(sub) -> None:
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a completion script for SHELL on stdout, generated from verifier's own "
        "command-line parser, so it always matches this version. Install it with: "
        + "; ".join(INSTALL.values())
        + ".",
    )
    p.add_argument("shell", choices=SHELLS, metavar="SHELL", help=", ".join(SHELLS))
    p.set_defaults(func=run, exit_codes=EXIT_CODES)


def run(args: argparse.Namespace) -> int:
    import shtab

    from verifier.cli import build_parser

    script = shtab.complete(build_parser(), shell=args.shell)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")
    return ExitCode.OK
