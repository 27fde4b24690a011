"""`verifier account ...`: accounts and the send connector each one sends through."""

from __future__ import annotations

from verifier.commands._common import (
    API_EXIT_CODES,
    CONNECTOR_REF_HELP,
    WAIT_EXIT_CODES,
    add_api_options,
    add_parser,
    add_wait_options,
    explained,
    group_help,
    make_api,
    print_json,
    route_label,
    say,
    table,
    waiting,
    with_api,
)
from verifier.errors import ExitCode, NotFoundError

ACCOUNT_HEADERS = ("ADDRESS", "STATE", "CONNECTOR", "CONNECTOR NAME", "SENDS THROUGH", "TASK")


def account_text(acc, conn=None) -> list[str]:
    cid = acc.connector_id
    route = "the platform's own outbound (no send connector)"
    if cid:
        route = f"send connector {cid}" + (f" ({conn.display_name}, {conn.smart_host}:{conn.port})" if conn else "")
    return [
        f"account {acc.primary_email_address}",
        f"  displayName      {acc.display_name or '-'}",
        f"  state            {acc.state}",
        f"  sendConnectorId  {acc.send_connector_id if acc.send_connector_id is not None else '-'}",
        f"  sends through    {route}",
        f"  deleteVirus      {str(acc.spam_and_virus.deleteVirus).lower()}",
        f"  taskPendingId    {acc.task_pending_id or 0}",
    ]


@with_api
def cmd_list(args, api) -> int:
    accounts = [api.account(a) for a in api.account_addresses()]
    if args.json:
        print_json([a.to_dict() for a in accounts])
        return ExitCode.OK
    if not accounts:
        print(f"No account on {api.service_name}.")
        return ExitCode.OK
    names = {c.id: c for c in api.connectors()} if any(a.connector_id for a in accounts) else {}
    rows = []
    for a in accounts:
        conn = names.get(a.connector_id)
        rows.append((
            a.primary_email_address,
            a.state,
            a.connector_id or None,
            conn.display_name if conn else None,
            f"{conn.smart_host}:{conn.port}" if conn else ("platform outbound" if not a.connector_id else None),
            a.task_pending_id or None,
        ))
    print(table(ACCOUNT_HEADERS, rows))
    return ExitCode.OK


@with_api
def cmd_show(args, api) -> int:
    acc = api.account(args.address)
    conn = None
    if acc.connector_id:
        try:
            conn = api.connector(acc.connector_id)
        except NotFoundError:
            conn = None
    if args.json:
        print_json({"account": acc.to_dict(), "connector": conn.to_dict() if conn else None})
    else:
        print("\n".join(account_text(acc, conn)))
    return ExitCode.OK


def _set(args, ref) -> int:
    from verifier.platform import procedures as proc

    api = make_api(args)
    with waiting(args) as wait:
        result = explained(api, lambda: proc.set_account_connector(api, args.address, ref, wait))
    before_conn = None
    if result.before.connector_id:
        try:
            before_conn = api.connector(result.before.connector_id)
        except NotFoundError:
            before_conn = None
    if args.json:
        print_json(
            {
                "before": result.before.to_dict(),
                "account": result.after.to_dict(),
                "connector": result.connector.to_dict() if result.connector else None,
                "deleteVirusChanged": result.delete_virus_changed,
                "task": result.task.to_dict() if result.task else None,
            }
        )
    if result.delete_virus_changed:
        say(args, f"Note: deleteVirus was off on {args.address}; it is now on, as the API requires to "
            "change the send connector.")
    now = route_label(result.after.connector_id, result.connector)
    was = route_label(result.before.connector_id, before_conn)
    say(args, f"{args.address} now sends through {now} (was {was}).")
    return ExitCode.OK


def cmd_attach(args) -> int:
    return _set(args, args.connector)


def cmd_detach(args) -> int:
    return _set(args, None)


def register(sub) -> None:
    acc = sub.add_parser(
        "account",
        help="show accounts and attach or detach their send connector",
        description="Exchange accounts (mailboxes) and the send connector each one sends through.",
    )
    acc.set_defaults(func=group_help(acc), exit_codes=(ExitCode.USAGE,))
    asub = acc.add_subparsers(dest="account_command", metavar="ACTION")

    p = add_parser(asub, "list", codes=API_EXIT_CODES, func=cmd_list,
                   help="list accounts and their connector",
                   description="List the accounts and the connector each uses.")
    add_api_options(p)

    p = add_parser(asub, "show", codes=API_EXIT_CODES, func=cmd_show,
                   help="show an account and its send connector", description="Show one account and its route.")
    p.add_argument("address", help="the account's primary email address")
    add_api_options(p)

    p = add_parser(
        asub, "attach", codes=WAIT_EXIT_CODES, func=cmd_attach,
        help="make an account send through a send connector",
        description="Attach a send connector to an account (PUT .../account/ADDRESS with sendConnectorId). "
        "The account's spamAndVirusConfiguration is sent back whole with deleteVirus on, as the "
        "provider's guide requires.",
    )
    p.add_argument("address", help="the account's primary email address")
    p.add_argument("connector", metavar="CONNECTOR", help=CONNECTOR_REF_HELP)
    add_wait_options(p)
    add_api_options(p)

    p = add_parser(
        asub, "detach", codes=WAIT_EXIT_CODES, func=cmd_detach,
        help="make an account send through the platform's own outbound again",
        description="Detach the send connector from an account (sendConnectorId 0).",
    )
    p.add_argument("address", help="the account's primary email address")
    add_wait_options(p)
    add_api_options(p)
