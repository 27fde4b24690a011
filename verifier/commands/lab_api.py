"""`verifier lab api`: run the OVH API emulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from pathlib import Path

from verifier.errors import ExitCode, LabError, UsageError

EXIT_CODES = (ExitCode.OK, ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.LAB)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8787`` for IPv6) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--listen wants HOST:PORT, not {text!r}.")
    host = host.strip("[]") or "127.0.0.1"
    number = int(port)
    if not 0 <= number <= 65535:
        raise UsageError(f"--listen port {number} is out of range.")
    return host, number


def load_hook(spec: str):
    """``module:callable`` -> the callable (it receives ``list[Route]``)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--route-hook wants module:callable, not {spec!r}.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--route-hook: cannot import module {module_name} ({exc.__class__.__name__}).") from None
    target = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise UsageError(f"--route-hook: module {module_name} has no attribute {attr}.")
    if not callable(target):
        raise UsageError(f"--route-hook: {spec} is not callable.")
    return target


def register(lsub) -> None:
    p = lsub.add_parser(
        "api",
        help="run the OVH API emulator (send connectors, accounts, domains, tasks)",
        description="Serve an emulator of the OVH /1.0/email/exchange send-connector API, for the real "
        "python-ovh client and for every `verifier` API command. It prints the endpoint URL and demo "
        "credentials as OVH_* assignments, then serves until interrupted. State (including demo "
        "credentials and connector passwords) is kept in --state-dir with mode 0600.",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the state file lives (default: $VERIFIER_LAB_DIR/api, else ~/.local/state/verifier/lab/api)",
    )
    p.add_argument(
        "--listen",
        default="127.0.0.1:8787",
        metavar="HOST:PORT",
        help="address to listen on (default 127.0.0.1:8787; port 0 picks a free port)",
    )
    p.add_argument(
        "--task-delay",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how long a task takes from todo to done (default 2; half of it in todo, half in doing)",
    )
    p.add_argument(
        "--route-hook",
        metavar="MODULE:CALLABLE",
        default=None,
        help="a callable that receives the complete list of routes (verifier.lab.routes.Route) "
        "each time routing changes, e.g. the mail lab's Postfix map writer",
    )
    p.add_argument(
        "--fail-tasks",
        type=int,
        default=0,
        metavar="N",
        help="make the next N tasks end in status error (to rehearse failures)",
    )
    p.set_defaults(func=run, exit_codes=EXIT_CODES)


def run(args: argparse.Namespace) -> int:
    from verifier.lab.api.server import ApiEmulator
    from verifier.lab.api.state import default_state_dir
    from verifier.stopping import until_stopped

    host, port = parse_listen(args.listen)
    if args.task_delay < 0:
        raise UsageError("--task-delay cannot be negative.")
    hook = load_hook(args.route_hook) if args.route_hook else None
    state_dir = args.state_dir or default_state_dir()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    try:
        emulator = ApiEmulator(state_dir, host=host, port=port, task_delay=args.task_delay, route_hook=hook)
    except (OSError, ValueError) as exc:
        raise LabError(f"Cannot open the emulator state in {state_dir} ({exc.__class__.__name__}: {exc}).") from None
    if args.fail_tasks:
        emulator.fail_next_tasks(args.fail_tasks)

    async def serve() -> None:
        try:
            await emulator.start()
        except OSError as exc:
            raise LabError(f"Cannot listen on {host}:{port} ({exc.strerror or exc}).") from None
        out = sys.stdout
        out.write(
            f"# OVH API emulator on {emulator.base_url} (state in {emulator.store.dir}).\n"
            "# These are secrets of a local demo only; they open nothing but this emulator.\n"
        )
        for key, value in emulator.environment().items():
            out.write(f"export {key}={value}\n")
        out.write("# Press Ctrl-C to stop.\n")
        out.flush()
        try:
            await until_stopped()
        finally:
            await emulator.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:  # a Ctrl-C before the handlers were in place
        pass
    sys.stderr.write("verifier: emulator stopped; state saved.\n")
    return 0
