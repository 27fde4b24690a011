"""The provider guide's procedures, each as one function with a typed result.

These sit between :class:`~verifier.platform.api.ExchangeApi` (one API call per
method) and the command line (parsing and printing): creating a connector and
finding it again, changing it, changing its authentication, deleting it,
attaching or detaching an account, setting a domain's default, following the
task each one starts, and naming a connector by id or display name. They raise
:mod:`verifier.errors` classes whose sentence says what state things were left in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from verifier.errors import (
    ApiError,
    NotFoundError,
    TaskFailedError,
    TaskTimeoutError,
    UsageError,
    VerifierError,
)
from verifier.platform.api import (
    CONNECTOR_WRITABLE,
    ExchangeApi,
    ProgressCallback,
    list_organizations,
    list_services,
)
from verifier.platform.models import (
    AUTH_MECHANISMS,
    DEFAULT_TASK_WAIT,
    Account,
    Domain,
    SendConnector,
    Task,
)

DEFAULT_WAIT = DEFAULT_TASK_WAIT


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C while following a task: the task itself goes on in the API."""

    def __init__(self, task_id: int) -> None:
        super().__init__(task_id)
        self.task_id = task_id


@dataclass(frozen=True, slots=True)
class Waiting:
    """Whether and how long to follow a task; ``progress`` sees every poll."""

    wait: bool = False
    timeout: float = DEFAULT_WAIT
    progress: ProgressCallback | None = None


NO_WAIT = Waiting()


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What ``POST .../sendConnector`` takes. ``password`` goes to the API and nowhere else."""

    display_name: str
    smart_host: str
    port: int | None = None
    max_send_size: int | None = None
    require_tls: bool | None = None
    auth_mechanism: str | None = None
    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password
        return (
            f"ConnectorSpec(display_name={self.display_name!r}, smart_host={self.smart_host!r}, "
            f"user={self.user!r}, password={'***' if self.password else None})"
        )


@dataclass(frozen=True, slots=True)
class Created:
    task: Task
    connector: SendConnector | None  # None when the API does not list it yet
    waited: bool


@dataclass(frozen=True, slots=True)
class Updated:
    connector: SendConnector
    fields: tuple[str, ...]
    task: Task | None


@dataclass(frozen=True, slots=True)
class Deleted:
    connector: SendConnector
    task: Task
    waited: bool


@dataclass(frozen=True, slots=True)
class AuthChanged:
    connector: SendConnector  # as read back (after the task when waited)
    task: Task
    waited: bool


@dataclass(frozen=True, slots=True)
class RouteChanged:
    """An account's send connector before and after ``attach``/``detach``."""

    address: str
    before: Account
    after: Account
    delete_virus_changed: bool
    task: Task | None
    connector: SendConnector | None  # the connector attached, None for a detach

    @property
    def attached(self) -> bool:
        return bool(self.after.connector_id)


@dataclass(frozen=True, slots=True)
class DefaultChanged:
    domain: Domain
    connector: SendConnector | None  # None: back to the platform's own outbound


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    organization: str
    service: str


# --------------------------------------------------------------------------- checks


def check_auth_mechanism(value: str | None) -> str | None:
    """``value`` if it is one of the API's mechanisms (None passes); else a usage error."""
    if value is None or value in AUTH_MECHANISMS:
        return value
    raise UsageError(
        f"Unknown authentication mechanism {value!r}: choose one of {', '.join(AUTH_MECHANISMS)}."
    )


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    if not fields:
        raise UsageError("Nothing to update: give at least one field to change.")
    for name in fields:
        if name.lower() in ("password", "user"):
            raise UsageError("User and password change only through `verifier connector change-auth`.")
    return fields


# --------------------------------------------------------------------------- naming


def _describe_connectors(connectors: Iterable[SendConnector]) -> str:
    items = [f"{c.id} ({c.display_name!r}, {c.smart_host})" for c in connectors]
    return ", ".join(items) if items else "none"


def find_connector(api: ExchangeApi, ref: str | int) -> SendConnector:
    """The connector named by ``ref``: its id or its display name (exactly).

    A name shared by several connectors, or a number that is one connector's id and
    another's name, is refused with the candidates listed; an unknown one names those
    that exist.
    """
    text = str(ref).strip()
    if not text:
        raise UsageError("A send connector is named by its id or its display name; got an empty name.")
    by_id = None
    if text.isdigit() and int(text) > 0:
        try:
            by_id = api.connector(int(text))
        except NotFoundError:
            by_id = None
    connectors = api.connectors()
    named = [c for c in connectors if c.display_name == text]
    candidates = ([by_id] if by_id else []) + [c for c in named if not by_id or c.id != by_id.id]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        what = "are named" if not by_id else "match, by id or by name,"
        raise UsageError(
            f"{len(candidates)} send connectors {what} {text!r}: {_describe_connectors(candidates)}; "
            "name one by an id or a name that only it has."
        )
    what = f"id or name {text!r}" if text.isdigit() else f"name {text!r}"
    raise NotFoundError(
        f"No send connector on {api.service_name} has the {what}; "
        f"the send connectors are: {_describe_connectors(connectors)}."
    )


def visible_services(client) -> list[ServiceEntry]:
    """Every (organisation, service) the credentials can see."""
    out = []
    for org in sorted(list_organizations(client)):
        for svc in sorted(list_services(client, org)):
            out.append(ServiceEntry(org, svc))
    return out


def explain_not_found(api: ExchangeApi, exc: NotFoundError) -> NotFoundError:
    """A 404 may come from an unknown organisation or service: say so, naming those that exist.

    Returns ``exc`` itself when both exist (the 404 was about the object), or when they
    cannot be listed.
    """
    try:
        orgs = sorted(list_organizations(api.client))
        if api.organization not in orgs:
            return NotFoundError(
                f"These credentials see no Exchange organisation {api.organization!r}; "
                f"they see: {', '.join(orgs) or 'none'}.",
                hint="choose one with --organization or VERIFIER_OVH_ORGANIZATION; "
                "`verifier service list` shows them all",
            )
        services = sorted(list_services(api.client, api.organization))
        if api.service_name not in services:
            return NotFoundError(
                f"Organisation {api.organization} has no Exchange service {api.service_name!r}; "
                f"it has: {', '.join(services) or 'none'}.",
                hint="choose one with --service or VERIFIER_OVH_SERVICE; "
                "`verifier service list` shows them all",
            )
    except VerifierError:
        return exc
    return exc


# --------------------------------------------------------------------------- tasks


def _safe(describe: Callable[[], str]) -> str:
    try:
        return describe()
    except VerifierError:
        return "its current state could not be read back"


def follow(api: ExchangeApi, task: Task | int, waiting: Waiting, describe: Callable[[], str]) -> Task:
    """Wait for ``task``; on failure or timeout, say in one sentence what state things are in."""
    tid = task.id if isinstance(task, Task) else int(task)
    try:
        return api.wait_task(task, timeout=waiting.timeout, progress=waiting.progress)
    except TaskTimeoutError as exc:
        raise TaskTimeoutError(
            f"{exc.message.rstrip('.')} and was left running; {_safe(describe)}.",
            hint=f"follow it with the API task {tid}, or rerun the command with a longer --wait-timeout",
        ) from None
    except TaskFailedError as exc:
        raise TaskFailedError(f"{exc.message.rstrip('.')}; {_safe(describe)}.") from None
    except KeyboardInterrupt:
        raise WaitInterrupted(tid) from None


def connector_state_by_name(api: ExchangeApi, name: str, host: str) -> str:
    matches = [c for c in api.connectors() if c.display_name == name and c.smart_host == host]
    if not matches:
        return f"no send connector named {name!r} exists"
    c = matches[-1]
    return f"send connector {c.id} ({name!r}) exists in state {c.state}"


def connector_state_by_id(api: ExchangeApi, cid: int) -> str:
    try:
        c = api.connector(cid)
    except NotFoundError:
        return f"send connector {cid} no longer exists"
    pending = f", task {c.task_pending_id} pending" if c.task_pending_id else ""
    return f"send connector {cid} is in state {c.state} with authentication {c.auth_mechanism}{pending}"


# --------------------------------------------------------------------------- connectors


def create_connector(api: ExchangeApi, spec: ConnectorSpec, waiting: Waiting = NO_WAIT) -> Created:
    """``POST .../sendConnector``, then find the new connector by listing, as the guide does."""
    check_auth_mechanism(spec.auth_mechanism)
    if spec.auth_mechanism in ("basicAuth", "basicAuthRequireTLS") and not spec.user:
        raise UsageError(f"Authentication mechanism {spec.auth_mechanism} needs a user (and a password).")
    before = set(api.connector_ids())
    task = api.create_connector(
        display_name=spec.display_name,
        smart_host=spec.smart_host,
        port=spec.port,
        max_send_size=spec.max_send_size,
        require_tls=spec.require_tls,
        auth_mechanism=spec.auth_mechanism or ("basicAuth" if spec.user else None),
        user=spec.user,
        password=spec.password,
    )
    try:
        conn = api.find_new_connector(before, spec.display_name, spec.smart_host)
    except VerifierError as exc:
        raise type(exc)(
            f"Send connector {spec.display_name!r} was requested as task {task.id}, but reading it "
            f"back failed: {exc.message[:1].lower()}{exc.message[1:]}"
        ) from None
    if not waiting.wait:
        return Created(task=task, connector=conn, waited=False)
    task = follow(
        api, task, waiting, lambda: connector_state_by_name(api, spec.display_name, spec.smart_host)
    )
    conn = (
        api.connector(conn.id)
        if conn
        else api.find_new_connector(before, spec.display_name, spec.smart_host)
    )
    if conn is None:
        raise ApiError(
            f"Task {task.id} ({task.function}) is done but no send connector named "
            f"{spec.display_name!r} for {spec.smart_host} is listed."
        )
    return Created(task=task, connector=conn, waited=True)


def update_connector(
    api: ExchangeApi, ref: str | int, fields: dict[str, Any], waiting: Waiting = NO_WAIT
) -> Updated:
    """``PUT .../sendConnector/ID`` with ``fields`` (API names), then read it back."""
    check_fields(fields)
    conn = find_connector(api, ref)
    api.update_connector(conn.id, fields)
    conn = api.connector(conn.id)
    task = None
    if waiting.wait and conn.task_pending_id:
        task = follow(api, conn.task_pending_id, waiting, lambda: connector_state_by_id(api, conn.id))
        conn = api.connector(conn.id)
    return Updated(connector=conn, fields=tuple(sorted(fields)), task=task)


def delete_connector(api: ExchangeApi, ref: str | int, waiting: Waiting = NO_WAIT) -> Deleted:
    conn = find_connector(api, ref)
    task = api.delete_connector(conn.id)
    if waiting.wait:
        task = follow(api, task, waiting, lambda: connector_state_by_id(api, conn.id))
    return Deleted(connector=conn, task=task, waited=waiting.wait)


def change_authentication(
    api: ExchangeApi,
    ref: str | int,
    *,
    auth_mechanism: str | None = None,
    user: str | None = None,
    password: str | None = None,
    waiting: Waiting = NO_WAIT,
) -> AuthChanged:
    check_auth_mechanism(auth_mechanism)
    if auth_mechanism is None and user is None and password is None:
        raise UsageError("Nothing to change: give a mechanism, a user or a password.")
    conn = find_connector(api, ref)
    task = api.change_authentication(conn.id, auth_mechanism=auth_mechanism, user=user, password=password)
    if waiting.wait:
        task = follow(api, task, waiting, lambda: connector_state_by_id(api, conn.id))
        conn = api.connector(conn.id)
    return AuthChanged(connector=conn, task=task, waited=waiting.wait)


# --------------------------------------------------------------------------- accounts, domains


def set_account_connector(
    api: ExchangeApi, address: str, ref: str | int | None, waiting: Waiting = NO_WAIT
) -> RouteChanged:
    """Attach the connector named ``ref`` to ``address``; ``ref`` None detaches."""
    conn = find_connector(api, ref) if ref is not None else None
    result = api.attach(address, conn.id) if conn else api.detach(address)
    after = result.after
    task = None
    if waiting.wait and after.task_pending_id:

        def describe() -> str:
            a = api.account(address)
            return f"account {address} has sendConnectorId {a.send_connector_id} in state {a.state}"

        task = follow(api, after.task_pending_id, waiting, describe)
        after = api.account(address)
    return RouteChanged(
        address=address,
        before=result.before,
        after=after,
        delete_virus_changed=result.delete_virus_changed,
        task=task,
        connector=conn,
    )


def set_domain_default(api: ExchangeApi, name: str, ref: str | int | None) -> DefaultChanged:
    """Make the connector named ``ref`` the default of new accounts of ``name``; None resets."""
    conn = find_connector(api, ref) if ref is not None else None
    api.change_default_sbr(name, conn.id if conn else 0)
    return DefaultChanged(domain=api.domain(name), connector=conn)


__all__ = [
    "CONNECTOR_WRITABLE",
    "AuthChanged",
    "ConnectorSpec",
    "Created",
    "DefaultChanged",
    "Deleted",
    "RouteChanged",
    "ServiceEntry",
    "Updated",
    "WaitInterrupted",
    "Waiting",
    "change_authentication",
    "check_auth_mechanism",
    "create_connector",
    "delete_connector",
    "explain_not_found",
    "find_connector",
    "follow",
    "set_account_connector",
    "set_domain_default",
    "update_connector",
    "visible_services",
]
