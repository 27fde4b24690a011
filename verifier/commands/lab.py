"""`verifier lab ...`: the local lab (OVH API emulator and real mail servers)."""

from __future__ import annotations


def register(sub) -> None:
    from verifier.commands import lab_api as api_cli
    from verifier.commands import lab_mail as mail_cli

    lab = sub.add_parser(
        "lab",
        help="run the local lab: an OVH API emulator and real mail servers",
        description="The local lab stands in for the OVH API and for real mail servers, "
        "so that every command can be tried without any account anywhere.",
    )
    lsub = lab.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    api_cli.register(lsub)
    mail_cli.register(lsub)
    lab.set_defaults(func=lambda args: (lab.print_help(), 2)[1])
