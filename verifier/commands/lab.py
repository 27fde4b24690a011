"""`verifier lab ...`: the local lab (OVH API emulator and real mail servers)."""

from __future__ import annotations

from verifier.commands import lab_api, lab_mail
from verifier.errors import ExitCode


def register(sub) -> None:
    lab = sub.add_parser(
        "lab",
        help="run the local lab: an OVH API emulator and real mail servers",
        description="The local lab stands in for the OVH API and for real mail servers, "
        "so that every command can be tried without any account anywhere.",
    )
    lsub = lab.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    lab_api.register(lsub)
    lab_mail.register(lsub)
    lab.set_defaults(func=lambda args: (lab.print_help(), ExitCode.USAGE)[1], exit_codes=(ExitCode.USAGE,))
