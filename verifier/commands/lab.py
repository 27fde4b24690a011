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
    _add_monitor_flag(lsub.choices["env"])
    lab.set_defaults(func=lambda args: (lab.print_help(), 2)[1])


def _add_monitor_flag(env) -> None:
    """`verifier lab env --monitor`: a monitor config for the lab instead of the probe profile."""
    env.add_argument("--monitor", action="store_true", help="print a `verifier monitor` config for the lab (two targets)")
    env.add_argument("--interval", type=float, default=60.0, metavar="SECONDS", help="with --monitor: the run interval (default 60)")
    env.add_argument("--listen", default="127.0.0.1:9477", metavar="HOST:PORT", help="with --monitor: the listen address")
    env.add_argument("--webhook", metavar="URL", help="with --monitor: an alert webhook")
    env.add_argument("--email", action="store_true",
                     help="with --monitor: alert by email, from the control address to the lab's recipient")
    probe_env = env.get_default("func")

    def env_or_monitor(args) -> int:
        if not args.monitor:
            return probe_env(args)
        import sys

        from verifier.errors import ExitCode, LabError, UsageError
        from verifier.lab.control import Lab
        from verifier.lab.monitor_profile import to_toml
        from verifier.lab.system import check_can_run

        if args.interval <= 0:
            raise UsageError("--interval must be a positive number of seconds.")
        check_can_run()
        lab = Lab()
        state = lab.load()
        if not state.get("ovh"):
            raise LabError("The lab is not up; run `verifier lab up` first.")
        sys.stdout.write(to_toml(lab.layout, state, interval=args.interval, listen=args.listen, webhook=args.webhook,
                                 email=args.email))
        return ExitCode.OK

    env.set_defaults(func=env_or_monitor)
