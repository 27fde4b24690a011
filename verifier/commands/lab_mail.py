"""`verifier lab up | down | status | env | fault`: the mail lab's commands."""

from __future__ import annotations

import argparse
import json
import sys
import time

from verifier.errors import ExitCode, LabError

# Each lab command can end with these; `status` also with LAB when a component is down.
EXIT_CODES = (ExitCode.OK, ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.LAB)


def register(lsub) -> None:
    up = lsub.add_parser(
        "up",
        help="start the mail lab (DNS, platform, smarthost, MX, IMAP, OVH API emulator); needs root",
        description="Start the mail lab in the network namespace verifier-lab, with a veth pair and "
        "routes to the lab's documentation-range addresses, and the OVH API emulator on 127.0.0.1. "
        "A second `up` does nothing. State lives in $VERIFIER_LAB_DIR, else /var/lib/verifier-lab.",
    )
    up.set_defaults(func=cmd_up, exit_codes=EXIT_CODES)

    down = lsub.add_parser(
        "down",
        help="stop the mail lab and remove its namespace, veth, routes and helpers; needs root",
        description="Stop every process the lab recorded (and anything left in its namespace), remove "
        "the veth pair, its routes, the namespace and /etc/netns/verifier-lab. The state directory "
        "(secrets, CA, emulator state, logs) is kept.",
    )
    down.set_defaults(func=cmd_down, exit_codes=EXIT_CODES)

    status = lsub.add_parser(
        "status",
        help="show each lab component up or down (exit 0 when all are up, 10 otherwise)",
        description="Show each component of the mail lab up or down.",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=cmd_status, exit_codes=EXIT_CODES)

    env = lsub.add_parser(
        "env",
        help="print the lab's probe profile (TOML) and the OVH API emulator's OVH_* settings",
        description="Print the probe profile of the running lab in TOML (secrets by file path), with "
        "the OVH API endpoint and credentials as comments; --shell prints export lines instead.",
    )
    env.add_argument("--shell", action="store_true", help="print shell export lines for OVH_* instead")
    env.set_defaults(func=cmd_env, exit_codes=EXIT_CODES)

    from verifier.lab.control import FAULTS

    fault = lsub.add_parser(
        "fault",
        help="switch a fault of the mail lab on or off (for tests)",
        description="Switch a fault on or off: "
        + "; ".join(f"{name}: {what}" for name, what in FAULTS.items())
        + ". Switching a smarthost fault off also retries the platform's deferred mail.",
    )
    fault.add_argument("name", choices=sorted(FAULTS), metavar="NAME", help=", ".join(sorted(FAULTS)))
    fault.add_argument("position", choices=("on", "off"))
    fault.set_defaults(func=cmd_fault, exit_codes=EXIT_CODES)


def _lab():
    from verifier.lab.control import Lab

    return Lab()


def cmd_up(_args: argparse.Namespace) -> int:
    lab = _lab()
    t0 = time.monotonic()
    if not lab.up():
        print(f"The lab is already up (state in {lab.layout.root}); nothing to do.")
        return ExitCode.OK
    print(f"The lab is up in {time.monotonic() - t0:.1f} s (state in {lab.layout.root}).")
    print("Next: `verifier lab env` prints the probe profile; `verifier lab down` stops it.")
    return ExitCode.OK


def cmd_down(_args: argparse.Namespace) -> int:
    lab = _lab()
    t0 = time.monotonic()
    if lab.down():
        print(f"The lab is down in {time.monotonic() - t0:.1f} s; its state directory {lab.layout.root} is kept.")
    else:
        print(f"The lab was not up; nothing to stop (state directory {lab.layout.root}).")
    return ExitCode.OK


def cmd_status(args: argparse.Namespace) -> int:
    from verifier.lab.system import check_can_run

    check_can_run()
    report = _lab().status()
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"lab: {'up' if report['up'] else 'down'} (state in {report['state_dir']})")
        for name, comp in report["components"].items():
            pid = f" pid {comp['pid']}" if comp.get("pid") else ""
            print(f"  {name:<17} {'up' if comp['up'] else 'down':<5} {comp['detail']}{pid}")
        if report["faults"]:
            print(f"faults on: {', '.join(report['faults'])}")
    return ExitCode.OK if report["up"] else ExitCode.LAB


def cmd_env(args: argparse.Namespace) -> int:
    from verifier.lab.probe_profile import to_shell, to_toml

    lab = _lab()
    from verifier.lab.system import check_can_run

    check_can_run()
    state = lab.load()
    if not state.get("ovh"):
        raise LabError("The lab is not up; run `verifier lab up` first.")
    sys.stdout.write(to_shell(lab.layout, state) if args.shell else to_toml(lab.layout, state))
    return ExitCode.OK


def cmd_fault(args: argparse.Namespace) -> int:
    lab = _lab()
    on = args.position == "on"
    changed = lab.set_fault(args.name, on)
    print(f"Fault {args.name} is {args.position}{'' if changed else ' (it already was)'}.")
    return ExitCode.OK
