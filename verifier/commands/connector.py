"""`verifier connector ...`: list, show, create, update, delete, change-auth and test send connectors."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from verifier.commands._common import (
    API_EXIT_CODES,
    CONNECTOR_REF_HELP,
    PASSWORD_EXIT_CODES,
    WAIT_EXIT_CODES,
    add_api_options,
    add_auth_mechanism_option,
    add_parser,
    add_password_options,
    add_smarthost_option,
    add_wait_options,
    bool_flag,
    connector_label,
    explained,
    group_help,
    make_api,
    print_json,
    read_password,
    say,
    table,
    waiting,
    with_api,
)
from verifier.errors import CheckFailedError, ExitCode, InputError, UsageError

CONNECTOR_HEADERS = ("ID", "NAME", "SMARTHOST", "PORT", "TLS", "AUTH", "MAX MB", "STATE")


def connector_row(c) -> tuple:
    return (
        c.id,
        c.display_name,
        c.smart_host,
        c.port,
        "required" if c.require_tls else "optional",
        c.auth_mechanism,
        c.max_send_size,
        c.state + (f" (task {c.task_pending_id})" if c.task_pending_id else ""),
    )


def connector_text(c) -> list[str]:
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


def parse_set(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set wants FIELD=VALUE, not {item!r}.")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out[name] = value
    return out


# --------------------------------------------------------------------------- commands


@with_api
def cmd_list(args, api) -> int:
    connectors = api.connectors()
    if args.json:
        print_json([c.to_dict() for c in connectors])
        return ExitCode.OK
    if not connectors:
        print(f"No send connector on {api.service_name}.")
        return ExitCode.OK
    print(table(CONNECTOR_HEADERS, [connector_row(c) for c in connectors]))
    return ExitCode.OK


@with_api
def cmd_show(args, api) -> int:
    from verifier.platform import procedures as proc

    c = proc.find_connector(api, args.connector)
    if args.json:
        print_json(c.to_dict())
    else:
        print("\n".join(connector_text(c)))
    return ExitCode.OK


def cmd_create(args) -> int:
    from verifier.platform import procedures as proc

    if not args.smart_host:
        raise UsageError("Give the smarthost's name with --smarthost HOST.")
    if args.auth_mechanism in ("basicAuth", "basicAuthRequireTLS") and not args.user:
        raise UsageError(f"--auth-mechanism {args.auth_mechanism} needs --user (and a password).")
    password = None
    if args.user:
        password = read_password(args, f"Password for {args.user} on {args.smart_host}: ", required=True)
    spec = proc.ConnectorSpec(
        display_name=args.name,
        smart_host=args.smart_host,
        port=args.port,
        max_send_size=args.max_send_size,
        require_tls=args.require_tls,
        auth_mechanism=args.auth_mechanism,
        user=args.user,
        password=password,
    )
    password = None
    api = make_api(args)
    with waiting(args) as wait:
        result = explained(api, lambda: proc.create_connector(api, spec, wait))
    spec = None
    task, conn = result.task, result.connector
    if args.json:
        print_json({"task": task.to_dict(), "connector": conn.to_dict() if conn else None})
    if conn is None:
        say(args, f"Creation of send connector {args.name!r} requested as task {task.id} ({task.status}); "
            "it is not listed yet.")
    elif result.waited:
        say(args, f"{connector_label(conn, capital=True)} created (task {task.id} {task.status}); "
            f"state {conn.state}.")
    else:
        say(args, f"{connector_label(conn, capital=True)} requested as task {task.id} ({task.status}); "
            f"state {conn.state}. Use --wait to follow it.")
    if not args.json and conn is not None and result.waited:
        print("\n".join(connector_text(conn)))
    return ExitCode.OK


def cmd_update(args) -> int:
    from verifier.platform import procedures as proc

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
    fields.update(parse_set(args.set))
    if not fields:
        raise UsageError(
            "Nothing to update: give --name, --smarthost, --port, --max-send-size, --require-tls or --set."
        )
    proc.check_fields(fields)
    api = make_api(args)
    with waiting(args) as wait:
        result = explained(api, lambda: proc.update_connector(api, args.connector, fields, wait))
    conn, task = result.connector, result.task
    if args.json:
        print_json({"connector": conn.to_dict(), "task": task.to_dict() if task else None})
    say(args, f"{connector_label(conn, capital=True)} updated ({', '.join(result.fields)}); state {conn.state}.")
    if not args.json:
        print("\n".join(connector_text(conn)))
    return ExitCode.OK


@with_api
def cmd_delete(args, api) -> int:
    from verifier.platform import procedures as proc

    with waiting(args) as wait:
        result = proc.delete_connector(api, args.connector, wait)
    conn, task = result.connector, result.task
    if args.json:
        print_json({"task": task.to_dict(), "deleted": result.waited, "connector": conn.to_dict()})
    if result.waited:
        say(args, f"{connector_label(conn, capital=True)} deleted (task {task.id} {task.status}).")
    else:
        say(args, f"Deletion of {connector_label(conn)} requested as task {task.id} ({task.status}). "
            "Use --wait to follow it.")
    return ExitCode.OK


def cmd_change_auth(args) -> int:
    from verifier.platform import procedures as proc

    password = None
    if args.user or args.password_file or args.password_env:
        password = read_password(
            args, f"New password for {args.user or 'the connector user'}: ", required=bool(args.user)
        )
    if args.auth_mechanism is None and args.user is None and password is None:
        raise UsageError("Nothing to change: give --auth-mechanism, --user or a password source.")
    api = make_api(args)
    with waiting(args) as wait:
        result = explained(api, lambda: proc.change_authentication(
            api, args.connector, auth_mechanism=args.auth_mechanism, user=args.user,
            password=password, waiting=wait,
        ))
    password = None
    conn, task = result.connector, result.task
    if result.waited:
        if args.json:
            print_json({"task": task.to_dict(), "connector": conn.to_dict()})
        say(args, f"Authentication of {connector_label(conn)} changed (task {task.id} {task.status}); "
            f"it now uses {conn.auth_mechanism}.")
        return ExitCode.OK
    if args.json:
        print_json({"task": task.to_dict(), "connector": None})
    say(args, f"Authentication change of {connector_label(conn)} requested as task {task.id} "
        f"({task.status}). Use --wait to follow it.")
    return ExitCode.OK


def cmd_test(args) -> int:
    from verifier.platform import procedures as proc
    from verifier.platform.preflight import smtp_preflight

    host, port, cid = args.host, args.port, None
    if args.connector is not None:
        api = make_api(args)
        conn = explained(api, lambda: proc.find_connector(api, args.connector))
        cid = conn.id
        host = host or conn.smart_host
        port = port or conn.port
    if not host:
        raise UsageError("Give a connector (id or name), or --host (and --port) to test a server directly.")
    port = port or 587
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise InputError(f"The CA file {args.ca_file} does not exist.")
    password = None
    if args.user:
        password = read_password(args, f"Password for {args.user} on {host}: ", required=True)
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
    failure = report.first_failure
    if not args.json:
        title = f"connector test {host}:{port}" + (f" (send connector {cid})" if cid else "")
        print(title)
        for step in report.steps:
            print(f"  {step.status.upper():<4}  {step.name:<16} {step.detail}")
    if failure is not None:
        err = CheckFailedError(
            f"Connector test of {host}:{port} failed at step {failure.name}: {failure.detail.rstrip('.')}."
        )
        err.details = report.to_dict()  # the JSON error object carries the whole report
        raise err
    if args.json:
        print_json(report.to_dict())
    else:
        print("All steps passed; no mail was sent.")
    return ExitCode.OK


# --------------------------------------------------------------------------- registration


def register(sub) -> None:
    conn = sub.add_parser(
        "connector",
        help="list, create, change, delete and test send connectors (smarthosts)",
        description="Send connectors of an OVHcloud Private or Trusted Exchange service: the SMTP "
        "smarthosts that attached addresses send through. A connector is named by its id or "
        "its display name.",
    )
    conn.set_defaults(func=group_help(conn), exit_codes=(ExitCode.USAGE,))
    csub = conn.add_subparsers(dest="connector_command", metavar="ACTION")

    p = add_parser(csub, "list", codes=API_EXIT_CODES, func=cmd_list,
                   help="list the send connectors", description="List the service's send connectors.")
    add_api_options(p)

    p = add_parser(csub, "show", codes=API_EXIT_CODES, func=cmd_show,
                   help="show one send connector", description="Show one send connector.")
    p.add_argument("connector", metavar="CONNECTOR", help=CONNECTOR_REF_HELP)
    add_api_options(p)

    p = add_parser(
        csub, "create", codes=(*WAIT_EXIT_CODES, *PASSWORD_EXIT_CODES), func=cmd_create,
        help="create a send connector",
        description="Create a send connector (POST .../sendConnector). The API answers with a task; "
        "the new connector's id is found by listing the connectors, as the provider's guide does.",
    )
    p.add_argument("--name", required=True, help="display name of the connector (displayName)")
    add_smarthost_option(p, "the smarthost's SMTP server name (smartHost); required")
    p.add_argument("--port", type=int, default=None, help="the smarthost's port, e.g. 587")
    p.add_argument("--max-send-size", type=int, default=None, metavar="MB",
                   help="largest message in MB (1-100; API default 100)")
    bool_flag(p, "require-tls", "require_tls", "refuse to send to the smarthost without TLS (requireTLS)")
    add_auth_mechanism_option(p, "smartHostAuthMechanism; default basicAuth with --user, else none")
    p.add_argument("--user", default=None, help="user name on the smarthost (often an email address)")
    add_password_options(p, "smarthost password")
    add_wait_options(p)
    add_api_options(p)

    p = add_parser(
        csub, "update", codes=WAIT_EXIT_CODES, func=cmd_update,
        help="change a send connector's settings",
        description="Change writable settings of a send connector (PUT .../sendConnector/ID). "
        "Authentication changes go through `change-auth`.",
    )
    p.add_argument("connector", metavar="CONNECTOR", help=CONNECTOR_REF_HELP)
    p.add_argument("--name", default=None, help="new display name")
    add_smarthost_option(p, "new smarthost name")
    p.add_argument("--port", type=int, default=None, help="new port")
    p.add_argument("--max-send-size", type=int, default=None, metavar="MB", help="new size limit in MB")
    bool_flag(p, "require-tls", "require_tls", "require TLS towards the smarthost")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="set any API field by its name (VALUE read as JSON when it parses, else as text); repeatable",
    )
    add_wait_options(p)
    add_api_options(p)

    p = add_parser(
        csub, "delete", codes=WAIT_EXIT_CODES, func=cmd_delete,
        help="delete a send connector",
        description="Delete a send connector (DELETE .../sendConnector/ID). Detach it from accounts and "
        "domain defaults first.",
    )
    p.add_argument("connector", metavar="CONNECTOR", help=CONNECTOR_REF_HELP)
    add_wait_options(p)
    add_api_options(p)

    p = add_parser(
        csub, "change-auth", codes=(*WAIT_EXIT_CODES, *PASSWORD_EXIT_CODES), func=cmd_change_auth,
        help="change a send connector's authentication (mechanism, user, password)",
        description="Change how the platform authenticates to the smarthost "
        "(POST .../sendConnector/ID/changeAuthentication).",
    )
    p.add_argument("connector", metavar="CONNECTOR", help=CONNECTOR_REF_HELP)
    add_auth_mechanism_option(p, "new smartHostAuthMechanism")
    p.add_argument("--user", default=None, help="new user name on the smarthost (asks for its password)")
    add_password_options(p, "new smarthost password")
    add_wait_options(p)
    add_api_options(p)

    p = add_parser(
        csub, "test", codes=(*API_EXIT_CODES, *PASSWORD_EXIT_CODES, ExitCode.CHECK_FAILED), func=cmd_test,
        help="check a smarthost without sending mail (DNS, TCP, EHLO, STARTTLS, AUTH)",
        description="Preflight a smarthost: resolve it, connect, EHLO, STARTTLS with certificate "
        "verification, list the AUTH mechanisms and, with --user, try AUTH. No mail is sent.",
    )
    p.add_argument("connector", metavar="CONNECTOR", nargs="?", default=None,
                   help="send connector (id or display name) whose smartHost and port to test")
    p.add_argument("--host", default=None, help="test this server instead of (or without) a connector's smartHost")
    p.add_argument("--port", type=int, default=None, help="port to test (default: the connector's, else 587)")
    p.add_argument("--user", default=None, help="try AUTH as this user (asks for the password)")
    add_password_options(p, "smarthost password")
    p.add_argument("--ca-file", default=None, metavar="FILE",
                   help="trust this CA bundle (PEM) instead of the system's; verification stays on")
    p.add_argument("--tls", choices=("auto", "starttls", "implicit"), default="auto",
                   help="STARTTLS, or implicit TLS; auto means implicit on port 465 (default auto)")
    p.add_argument("--helo", default=None, metavar="NAME", help="name to give in EHLO (default: this machine's name)")
    p.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS",
                   help="timeout of each network step (default 20)")
    add_api_options(p)
