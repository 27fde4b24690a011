"""`verifier connector|account|domain ...`: send connectors through the OVH API.

Credentials come the python-ovh way (``OVH_*`` variables, ``ovh.conf``); the
endpoint from ``--endpoint`` (a python-ovh endpoint name or an http(s) URL);
organisation and service from flags, ``VERIFIER_OVH_ORGANIZATION`` /
``VERIFIER_OVH_SERVICE``, or the only one the credentials see. Passwords come
from a prompt, ``--password-file`` or ``--password-env``; never from a flag
value, and they are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from verifier.errors import (
    ApiError,
    CheckFailedError,
    InputError,
    TaskFailedError,
    TaskTimeoutError,
    UsageError,
    VerifierError,
)

AUTH_HELP = "basicAuth, basicAuthRequireTLS or none (the API checks the value)"
DEFAULT_WAIT = 600.0
PASSWORD_FILE_LIMIT = 4096  # bytes of the first line; a password is far shorter

# --------------------------------------------------------------------------- helpers


class _RefusePassword(argparse.Action):
    """``--password`` exists only to refuse it, without repeating its value."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ARG002
        parser.error(
            "passwords are never taken from the command line (other users can read it); "
            "use --password-file FILE, --password-env VAR or the prompt"
        )


def _add_api_options(p: argparse.ArgumentParser) -> None:
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
    g.add_argument(
        "--organization",
        metavar="ORG",
        default=None,
        help="Exchange organisation (default: VERIFIER_OVH_ORGANIZATION, or the only one)",
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
    p.add_argument("--json", action="store_true", help="print JSON on stdout (messages stay on stderr)")


def _add_wait_options(p: argparse.ArgumentParser) -> None:
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


def _add_password_options(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_argument_group(
        "password",
        f"The {what} is read from a file, an environment variable, or a prompt when stdin is a "
        "terminal; never from the command line.",
    )
    g.add_argument("--password-file", metavar="FILE", help="read the password from FILE (first line)")
    g.add_argument("--password-env", metavar="VAR", help="read the password from environment variable VAR")
    g.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)


def _read_password(args: argparse.Namespace, prompt: str, *, required: bool) -> str | None:
    if getattr(args, "password_file", None):
        path = args.password_file
        try:
            with open(path, "rb") as fh:
                raw = fh.readline(PASSWORD_FILE_LIMIT + 1)
        except OSError as exc:
            raise InputError(f"Cannot read the password file {path} ({exc.strerror or type(exc).__name__}).") from None
        if len(raw) > PASSWORD_FILE_LIMIT:
            raise InputError(f"The first line of the password file {path} is longer than {PASSWORD_FILE_LIMIT} bytes.")
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
        "A password is needed and there is no terminal to prompt on; give --password-file FILE or --password-env VAR."
    )


def _api(args: argparse.Namespace):
    from verifier.platform import ClientSettings, ExchangeApi, make_client, pick_service

    client, _endpoint = make_client(
        ClientSettings(endpoint=args.endpoint, config_file=args.config_file, timeout=args.api_timeout)
    )
    org = args.organization or os.environ.get("VERIFIER_OVH_ORGANIZATION") or None
    svc = args.service or os.environ.get("VERIFIER_OVH_SERVICE") or None
    org, svc = pick_service(client, org, svc)
    return ExchangeApi(client, org, svc)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def _say(args: argparse.Namespace, line: str) -> None:
    """A human message: stdout in text mode, stderr in JSON mode (stdout is JSON only)."""
    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    stream.write(line + "\n")
    stream.flush()


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


def _safe(describe: Callable[[], str]) -> str:
    try:
        return describe()
    except VerifierError:
        return "its current state could not be read back"


def _follow(api, task, args: argparse.Namespace, describe: Callable[[], str]):
    """Wait for ``task``; on failure or timeout say what state things are in, in one sentence."""
    progress = TaskProgress()
    tid = getattr(task, "id", task)
    try:
        return api.wait_task(task, timeout=args.wait_timeout, progress=progress)
    except TaskTimeoutError as exc:
        progress.close()
        raise TaskTimeoutError(
            f"{exc.message.rstrip('.')} and was left running; {_safe(describe)}.",
            hint=f"follow it with the API task {tid}, or rerun the command with a longer --wait-timeout",
        ) from None
    except TaskFailedError as exc:
        progress.close()
        raise TaskFailedError(f"{exc.message.rstrip('.')}; {_safe(describe)}.") from None
    except KeyboardInterrupt:
        progress.close()
        sys.stderr.write(f"verifier: stopped waiting; task {tid} goes on in the API.\n")
        raise
    finally:
        progress.close()


def _connector_line(c) -> str:
    return (
        f"{c.id:>5}  {c.display_name:<20} {c.smart_host}:{c.port:<6} tls={'yes' if c.require_tls else 'no':<3} "
        f"auth={c.auth_mechanism:<19} {c.state}"
    )


def _connector_text(c) -> list[str]:
    return [
        f"send connector {c.id}: {c.display_name}",
        f"  smartHost               {c.smart_host}",
        f"  port                    {c.port}",
        f"  requireTLS              {str(c.require_tls).lower()}",
        f"  smartHostAuthMechanism  {c.auth_mechanism}",
        f"  maxSendSize             {c.max_send_size} MB",
        f"  state                   {c.state}",
        f"  taskPendingId           {c.task_pending_id or 0}",
        f"  creationDate            {c.creation_date or '-'}",
        f"  lastUpdateDate          {c.last_update_date or '-'}",
    ]


def _parse_set(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set wants FIELD=VALUE, not {item!r}.")
        if name.lower() in ("password", "user"):
            raise UsageError("User and password change only through `verifier connector change-auth`.")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out[name] = value
    return out


# --------------------------------------------------------------------------- connector


def _connector_list(args) -> int:
    api = _api(args)
    connectors = api.connectors()
    if args.json:
        _print_json([c.to_dict() for c in connectors])
        return 0
    if not connectors:
        print(f"No send connector on {api.service_name}.")
        return 0
    print(f"{'id':>5}  {'displayName':<20} smartHost:port")
    for c in connectors:
        print(_connector_line(c))
    return 0


def _connector_show(args) -> int:
    api = _api(args)
    c = api.connector(args.id)
    if args.json:
        _print_json(c.to_dict())
    else:
        print("\n".join(_connector_text(c)))
    return 0


def _connector_state_by_name(api, name: str, host: str) -> str:
    matches = [c for c in api.connectors() if c.display_name == name and c.smart_host == host]
    if not matches:
        return f"no send connector named {name!r} exists"
    c = matches[-1]
    return f"send connector {c.id} ({name!r}) exists in state {c.state}"


def _connector_state_by_id(api, cid: int) -> str:
    from verifier.errors import NotFoundError

    try:
        c = api.connector(cid)
    except NotFoundError:
        return f"send connector {cid} no longer exists"
    pending = f", task {c.task_pending_id} pending" if c.task_pending_id else ""
    return f"send connector {cid} is in state {c.state} with authentication {c.auth_mechanism}{pending}"


def _connector_create(args) -> int:
    if not args.smart_host:
        raise UsageError("Give the smarthost's name with --smarthost HOST.")
    if args.auth_mechanism in ("basicAuth", "basicAuthRequireTLS") and not args.user:
        raise UsageError(f"--auth-mechanism {args.auth_mechanism} needs --user (and a password).")
    password = None
    if args.user:
        password = _read_password(args, f"Password for {args.user} on {args.smart_host}: ", required=True)
    api = _api(args)
    before = set(api.connector_ids())
    task = api.create_connector(
        display_name=args.name,
        smart_host=args.smart_host,
        port=args.port,
        max_send_size=args.max_send_size,
        require_tls=args.require_tls,
        auth_mechanism=args.auth_mechanism or ("basicAuth" if args.user else None),
        user=args.user,
        password=password,
    )
    password = None
    try:
        conn = api.find_new_connector(before, args.name, args.smart_host)
    except VerifierError as exc:
        raise type(exc)(
            f"Send connector {args.name!r} was requested as task {task.id}, but reading it back failed: "
            f"{exc.message[:1].lower()}{exc.message[1:]}"
        ) from None
    if args.wait:
        task = _follow(api, task, args, lambda: _connector_state_by_name(api, args.name, args.smart_host))
        conn = (
            api.connector(conn.id) if conn else api.find_new_connector(before, args.name, args.smart_host)
        )
        if conn is None:
            raise ApiError(
                f"Task {task.id} ({task.function}) is done but no send connector named {args.name!r} "
                f"for {args.smart_host} is listed."
            )
    out = {"task": task.to_dict(), "connector": conn.to_dict() if conn else None}
    if args.json:
        _print_json(out)
    if conn is None:
        _say(args, f"Creation of send connector {args.name!r} requested as task {task.id} ({task.status}); "
             "it is not listed yet.")
    elif args.wait:
        _say(args, f"Send connector {conn.id} ({conn.display_name!r}) created; state {conn.state}.")
    else:
        _say(args, f"Send connector {conn.id} ({conn.display_name!r}) requested as task {task.id} "
             f"({task.status}); state {conn.state}. Use --wait to follow it.")
    if not args.json and conn is not None and args.wait:
        print("\n".join(_connector_text(conn)))
    return 0


def _connector_update(args) -> int:
    fields: dict[str, Any] = {}
    if args.name is not None:
        fields["displayName"] = args.name
    if args.smart_host is not None:
        fields["smartHost"] = args.smart_host
    if args.port is not None:
        fields["port"] = args.port
    if args.max_send_size is not None:
        fields["maxSendSize"] = args.max_send_size
    if args.require_tls is not None:
        fields["requireTLS"] = args.require_tls
    fields.update(_parse_set(args.set))
    if not fields:
        raise UsageError("Nothing to update: give --name, --smarthost, --port, --max-send-size, --require-tls or --set.")
    api = _api(args)
    api.update_connector(args.id, fields)
    conn = api.connector(args.id)
    task = None
    if args.wait and conn.task_pending_id:
        task = _follow(api, conn.task_pending_id, args, lambda: _connector_state_by_id(api, args.id))
        conn = api.connector(args.id)
    if args.json:
        _print_json({"connector": conn.to_dict(), "task": task.to_dict() if task else None})
    _say(args, f"Send connector {conn.id} updated ({', '.join(sorted(fields))}); state {conn.state}.")
    if not args.json:
        print("\n".join(_connector_text(conn)))
    return 0


def _connector_delete(args) -> int:
    api = _api(args)
    task = api.delete_connector(args.id)
    if args.wait:
        task = _follow(api, task, args, lambda: _connector_state_by_id(api, args.id))
        if args.json:
            _print_json({"task": task.to_dict(), "deleted": True})
        _say(args, f"Send connector {args.id} deleted (task {task.id} {task.status}).")
        return 0
    if args.json:
        _print_json({"task": task.to_dict(), "deleted": False})
    _say(args, f"Deletion of send connector {args.id} requested as task {task.id} ({task.status}). "
         "Use --wait to follow it.")
    return 0


def _connector_change_auth(args) -> int:
    mech = args.auth_mechanism
    password = None
    if args.user or args.password_file or args.password_env:
        password = _read_password(args, f"New password for {args.user or 'the connector user'}: ", required=bool(args.user))
    if mech is None and args.user is None and password is None:
        raise UsageError("Nothing to change: give --auth-mechanism, --user or a password source.")
    api = _api(args)
    task = api.change_authentication(args.id, auth_mechanism=mech, user=args.user, password=password)
    password = None
    if args.wait:
        task = _follow(api, task, args, lambda: _connector_state_by_id(api, args.id))
        conn = api.connector(args.id)
        if args.json:
            _print_json({"task": task.to_dict(), "connector": conn.to_dict()})
        _say(args, f"Authentication of send connector {args.id} changed; it now uses {conn.auth_mechanism}.")
        return 0
    if args.json:
        _print_json({"task": task.to_dict(), "connector": None})
    _say(args, f"Authentication change of send connector {args.id} requested as task {task.id} "
         f"({task.status}). Use --wait to follow it.")
    return 0


def _connector_test(args) -> int:
    from verifier.platform.preflight import smtp_preflight

    host, port, cid = args.host, args.port, None
    if args.id is not None:
        api = _api(args)
        conn = api.connector(args.id)
        cid = conn.id
        host = host or conn.smart_host
        port = port or conn.port
    if not host:
        raise UsageError("Give a connector id, or --host (and --port) to test a server directly.")
    port = port or 587
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise InputError(f"The CA file {args.ca_file} does not exist.")
    password = None
    if args.user:
        password = _read_password(args, f"Password for {args.user} on {host}: ", required=True)
    report = asyncio.run(
        smtp_preflight(
            host,
            port,
            user=args.user,
            password=password,
            ca_file=args.ca_file,
            timeout=args.timeout,
            helo=args.helo,
            tls_mode=args.tls,
            connector_id=cid,
        )
    )
    password = None
    if args.json:
        _print_json(report.to_dict())
    else:
        title = f"connector test {host}:{port}" + (f" (send connector {cid})" if cid else "")
        print(title)
        for step in report.steps:
            print(f"  {step.status.upper():<4}  {step.name:<16} {step.detail}")
    failure = report.first_failure
    if failure is not None:
        raise CheckFailedError(f"Connector test of {host}:{port} failed at step {failure.name}: {failure.detail.rstrip('.')}.")
    if not args.json:
        print("All steps passed; no mail was sent.")
    return 0


# --------------------------------------------------------------------------- account


def _account_text(acc, conn=None) -> list[str]:
    cid = acc.connector_id
    route = "the platform's own outbound (no send connector)"
    if cid:
        route = f"send connector {cid}" + (f" ({conn.display_name}, {conn.smart_host}:{conn.port})" if conn else "")
    lines = [
        f"account {acc.primary_email_address}",
        f"  displayName      {acc.display_name or '-'}",
        f"  state            {acc.state}",
        f"  sendConnectorId  {acc.send_connector_id if acc.send_connector_id is not None else '-'}",
        f"  sends through    {route}",
        f"  deleteVirus      {str(acc.spam_and_virus.deleteVirus).lower()}",
        f"  taskPendingId    {acc.task_pending_id or 0}",
    ]
    return lines


def _account_list(args) -> int:
    api = _api(args)
    accounts = [api.account(a) for a in api.account_addresses()]
    if args.json:
        _print_json([a.to_dict() for a in accounts])
        return 0
    for a in accounts:
        via = f"connector {a.connector_id}" if a.connector_id else "platform"
        print(f"{a.primary_email_address:<40} {a.state:<10} {via}")
    return 0


def _account_show(args) -> int:
    from verifier.errors import NotFoundError

    api = _api(args)
    acc = api.account(args.address)
    conn = None
    if acc.connector_id:
        try:
            conn = api.connector(acc.connector_id)
        except NotFoundError:
            conn = None
    if args.json:
        _print_json({"account": acc.to_dict(), "connector": conn.to_dict() if conn else None})
    else:
        print("\n".join(_account_text(acc, conn)))
    return 0


def _account_set(args, attach: bool) -> int:
    api = _api(args)
    result = api.attach(args.address, args.connector_id) if attach else api.detach(args.address)
    after = result.after
    task = None
    if args.wait and after.task_pending_id:

        def describe() -> str:
            a = api.account(args.address)
            return f"account {args.address} has sendConnectorId {a.send_connector_id} in state {a.state}"

        task = _follow(api, after.task_pending_id, args, describe)
        after = api.account(args.address)
    if args.json:
        _print_json(
            {
                "before": result.before.to_dict(),
                "account": after.to_dict(),
                "deleteVirusChanged": result.delete_virus_changed,
                "task": task.to_dict() if task else None,
            }
        )
    if result.delete_virus_changed:
        _say(args, f"Note: deleteVirus was off on {args.address}; it is now on, as the API requires to "
             "change the send connector.")
    if attach:
        _say(args, f"{args.address} now sends through send connector {args.connector_id} "
             f"(was {result.before.send_connector_id or 0}).")
    else:
        _say(args, f"{args.address} now sends through the platform's own outbound "
             f"(was send connector {result.before.send_connector_id or 0}).")
    return 0


# --------------------------------------------------------------------------- domain


def _domain_text(dom) -> list[str]:
    default = dom.default_connector_id
    return [
        f"domain {dom.name}",
        f"  state                   {dom.state}",
        f"  sendConnectorIdDefault  {default if default else '- (platform default)'}",
        f"  sbrDefault              {dom.sbr_default or '-'}",
        f"  taskPendingId           {dom.task_pending_id or 0}",
    ]


def _domain_list(args) -> int:
    api = _api(args)
    domains = [api.domain(n) for n in api.domain_names()]
    if args.json:
        _print_json([d.to_dict() for d in domains])
        return 0
    for d in domains:
        print(f"{d.name:<30} {d.state:<10} default connector {d.default_connector_id or '-'}")
    return 0


def _domain_show(args) -> int:
    api = _api(args)
    dom = api.domain(args.name)
    if args.json:
        _print_json(dom.to_dict())
    else:
        print("\n".join(_domain_text(dom)))
    return 0


def _domain_set_default(args) -> int:
    if args.reset and args.connector_id not in (None, 0):
        raise UsageError("Give either a connector id or --reset, not both.")
    if not args.reset and args.connector_id is None:
        raise UsageError("Give the connector id to make the default, or --reset (same as 0).")
    cid = 0 if args.reset else int(args.connector_id)
    if cid < 0:
        raise UsageError("A connector id cannot be negative.")
    api = _api(args)
    api.change_default_sbr(args.name, cid)
    dom = api.domain(args.name)
    if args.json:
        _print_json(dom.to_dict())
    if cid:
        _say(args, f"New accounts of {args.name} will send through send connector {cid} "
             "(existing accounts are unchanged).")
    else:
        _say(args, f"New accounts of {args.name} will send through the platform's own outbound "
             "(existing accounts are unchanged).")
    return 0


# --------------------------------------------------------------------------- registration


def _bool_flag(p: argparse.ArgumentParser, name: str, dest: str, help_on: str) -> None:
    p.add_argument(f"--{name}", dest=dest, action="store_true", default=None, help=help_on)
    p.add_argument(f"--no-{name}", dest=dest, action="store_false", help=f"the opposite of --{name}")


def _smarthost_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--smarthost`` as in ``analyze``; ``--smart-host`` still works, unlisted."""
    p.add_argument("--smarthost", dest="smart_host", default=None, metavar="HOST", help=help_text)
    p.add_argument("--smart-host", dest="smart_host", default=None, metavar="HOST", help=argparse.SUPPRESS)


def _group_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


def register(sub) -> None:
    # connector ---------------------------------------------------------------
    conn = sub.add_parser(
        "connector",
        help="list, create, change, delete and test send connectors (smarthosts)",
        description="Send connectors of an OVHcloud Private or Trusted Exchange service: the SMTP "
        "smarthosts that attached addresses send through.",
    )
    conn.set_defaults(func=_group_help(conn))
    csub = conn.add_subparsers(dest="connector_command", metavar="ACTION")

    p = csub.add_parser("list", help="list the send connectors", description="List the service's send connectors.")
    _add_api_options(p)
    p.set_defaults(func=_connector_list)

    p = csub.add_parser("show", help="show one send connector", description="Show one send connector.")
    p.add_argument("id", type=int, help="send connector id (from `verifier connector list`)")
    _add_api_options(p)
    p.set_defaults(func=_connector_show)

    p = csub.add_parser(
        "create",
        help="create a send connector",
        description="Create a send connector (POST .../sendConnector). The API answers with a task; "
        "the new connector's id is found by listing the connectors, as the provider's guide does.",
    )
    p.add_argument("--name", required=True, help="display name of the connector (displayName)")
    _smarthost_option(p, "the smarthost's SMTP server name (smartHost); required")
    p.add_argument("--port", type=int, default=None, help="the smarthost's port, e.g. 587")
    p.add_argument("--max-send-size", type=int, default=None, metavar="MB", help="largest message in MB (1-100; API default 100)")
    _bool_flag(p, "require-tls", "require_tls", "refuse to send to the smarthost without TLS (requireTLS)")
    p.add_argument("--auth-mechanism", default=None, metavar="MECH", help=f"smartHostAuthMechanism: {AUTH_HELP}; default basicAuth with --user, else none")
    p.add_argument("--user", default=None, help="user name on the smarthost (often an email address)")
    _add_password_options(p, "smarthost password")
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=_connector_create)

    p = csub.add_parser(
        "update",
        help="change a send connector's settings",
        description="Change writable settings of a send connector (PUT .../sendConnector/ID). "
        "Authentication changes go through `change-auth`.",
    )
    p.add_argument("id", type=int, help="send connector id")
    p.add_argument("--name", default=None, help="new display name")
    _smarthost_option(p, "new smarthost name")
    p.add_argument("--port", type=int, default=None, help="new port")
    p.add_argument("--max-send-size", type=int, default=None, metavar="MB", help="new size limit in MB")
    _bool_flag(p, "require-tls", "require_tls", "require TLS towards the smarthost")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="set any API field by its name (VALUE read as JSON when it parses, else as text); repeatable",
    )
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=_connector_update)

    p = csub.add_parser(
        "delete",
        help="delete a send connector",
        description="Delete a send connector (DELETE .../sendConnector/ID). Detach it from accounts and "
        "domain defaults first.",
    )
    p.add_argument("id", type=int, help="send connector id")
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=_connector_delete)

    p = csub.add_parser(
        "change-auth",
        help="change a send connector's authentication (mechanism, user, password)",
        description="Change how the platform authenticates to the smarthost "
        "(POST .../sendConnector/ID/changeAuthentication).",
    )
    p.add_argument("id", type=int, help="send connector id")
    p.add_argument("--auth-mechanism", default=None, metavar="MECH", help=f"new smartHostAuthMechanism: {AUTH_HELP}")
    p.add_argument("--user", default=None, help="new user name on the smarthost (asks for its password)")
    _add_password_options(p, "new smarthost password")
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=_connector_change_auth)

    p = csub.add_parser(
        "test",
        help="check a smarthost without sending mail (DNS, TCP, EHLO, STARTTLS, AUTH)",
        description="Preflight a smarthost: resolve it, connect, EHLO, STARTTLS with certificate "
        "verification, list the AUTH mechanisms and, with --user, try AUTH. No mail is sent. "
        "Exit status 13 when a step fails.",
    )
    p.add_argument("id", type=int, nargs="?", default=None, help="send connector id whose smartHost and port to test")
    p.add_argument("--host", default=None, help="test this server instead of (or without) a connector's smartHost")
    p.add_argument("--port", type=int, default=None, help="port to test (default: the connector's, else 587)")
    p.add_argument("--user", default=None, help="try AUTH as this user (asks for the password)")
    _add_password_options(p, "smarthost password")
    p.add_argument("--ca-file", default=None, metavar="FILE", help="trust this CA bundle (PEM) instead of the system's; verification stays on")
    p.add_argument("--tls", choices=("auto", "starttls", "implicit"), default="auto", help="STARTTLS, or implicit TLS; auto means implicit on port 465 (default auto)")
    p.add_argument("--helo", default=None, metavar="NAME", help="name to give in EHLO (default: this machine's name)")
    p.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS", help="timeout of each network step (default 20)")
    _add_api_options(p)
    p.set_defaults(func=_connector_test)

    # account -----------------------------------------------------------------
    acc = sub.add_parser(
        "account",
        help="show accounts and attach or detach their send connector",
        description="Exchange accounts (mailboxes) and the send connector each one sends through.",
    )
    acc.set_defaults(func=_group_help(acc))
    asub = acc.add_subparsers(dest="account_command", metavar="ACTION")

    p = asub.add_parser("list", help="list accounts and their connector", description="List the accounts and the connector each uses.")
    _add_api_options(p)
    p.set_defaults(func=_account_list)

    p = asub.add_parser("show", help="show an account and its send connector", description="Show one account and its route.")
    p.add_argument("address", help="the account's primary email address")
    _add_api_options(p)
    p.set_defaults(func=_account_show)

    p = asub.add_parser(
        "attach",
        help="make an account send through a send connector",
        description="Attach a send connector to an account (PUT .../account/ADDRESS with sendConnectorId). "
        "The account's spamAndVirusConfiguration is sent back whole with deleteVirus on, as the "
        "provider's guide requires.",
    )
    p.add_argument("address", help="the account's primary email address")
    p.add_argument("connector_id", type=int, help="send connector id")
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=lambda a: _account_set(a, True))

    p = asub.add_parser(
        "detach",
        help="make an account send through the platform's own outbound again",
        description="Detach the send connector from an account (sendConnectorId 0).",
    )
    p.add_argument("address", help="the account's primary email address")
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=lambda a: _account_set(a, False))

    # domain ------------------------------------------------------------------
    dom = sub.add_parser(
        "domain",
        help="show domains and set the default send connector for new accounts",
        description="Domains of the Exchange service and their default send connector.",
    )
    dom.set_defaults(func=_group_help(dom))
    dsub = dom.add_subparsers(dest="domain_command", metavar="ACTION")

    p = dsub.add_parser("list", help="list the domains", description="List the service's domains.")
    _add_api_options(p)
    p.set_defaults(func=_domain_list)

    p = dsub.add_parser("show", help="show a domain", description="Show a domain and its default send connector.")
    p.add_argument("name", help="domain name")
    _add_api_options(p)
    p.set_defaults(func=_domain_show)

    p = dsub.add_parser(
        "set-default",
        help="set (or reset) the send connector given to new accounts of a domain",
        description="Set the domain's default send connector (PUT .../domain/NAME/changeDefaultSBR). "
        "It applies to accounts created afterwards; existing accounts keep theirs. "
        "0 or --reset goes back to the platform's own outbound.",
    )
    p.add_argument("name", help="domain name")
    p.add_argument("connector_id", type=int, nargs="?", default=None, help="send connector id (0 resets)")
    p.add_argument("--reset", action="store_true", help="reset to the platform's own outbound")
    _add_api_options(p)
    p.set_defaults(func=_domain_set_default)
