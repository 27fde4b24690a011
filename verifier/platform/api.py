"""Operations on an Exchange service's send connectors, accounts, domains and tasks.

Synchronous, like python-ovh; async callers use ``asyncio.to_thread``.
Every method maps API failures to :mod:`verifier.errors` with a sentence that
names the operation. Passwords are passed to the API and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ovh

from verifier.errors import (
    ApiError,
    NotFoundError,
    TaskFailedError,
    TaskTimeoutError,
    UsageError,
)
from verifier.platform.client import api_errors
from verifier.platform.models import (
    Account,
    Domain,
    ExchangeService,
    SendConnector,
    SpamAndVirusConfiguration,
    Task,
)

ProgressCallback = Callable[[Task, float], None]
"""Called with the task as last seen and the seconds waited so far."""

CONNECTOR_WRITABLE = ("displayName", "smartHost", "port", "maxSendSize", "requireTLS")


def _seg(value: str) -> str:
    """A path segment. python-ovh does not encode paths; refuse what would break the URL."""
    text = str(value)
    if not text or any(ch in text for ch in "/?#% \t\r\n"):
        raise UsageError(f"{text!r} is not a valid name for an API path.")
    return text


@dataclass(frozen=True, slots=True)
class AttachResult:
    """What ``attach``/``detach`` did: the account before and after, and whether deleteVirus changed."""

    before: Account
    after: Account
    delete_virus_changed: bool


def list_organizations(client: ovh.Client) -> list[str]:
    with api_errors("list the Exchange organisations"):
        return [str(x) for x in client.get("/email/exchange")]


def list_services(client: ovh.Client, organization: str) -> list[str]:
    with api_errors(f"list the services of organisation {organization}"):
        return [str(x) for x in client.get(f"/email/exchange/{_seg(organization)}/service")]


def pick_service(
    client: ovh.Client, organization: str | None, service: str | None
) -> tuple[str, str]:
    """Organisation and service: as given, or the only one the account has."""
    if not organization:
        orgs = list_organizations(client)
        if len(orgs) == 1:
            organization = orgs[0]
        elif not orgs:
            raise NotFoundError("These credentials see no Exchange organisation.")
        else:
            raise UsageError(
                f"These credentials see {len(orgs)} Exchange organisations ({', '.join(sorted(orgs))}); "
                "choose one with --organization or VERIFIER_OVH_ORGANIZATION.",
                hint="`verifier service list` shows every organisation and service",
            )
    if not service:
        try:
            services = list_services(client, organization)
        except NotFoundError:
            orgs = sorted(list_organizations(client))
            if organization in orgs:
                raise
            raise NotFoundError(
                f"These credentials see no Exchange organisation {organization!r}; "
                f"they see: {', '.join(orgs) or 'none'}.",
                hint="`verifier service list` shows every organisation and service",
            ) from None
        if len(services) == 1:
            service = services[0]
        elif not services:
            raise NotFoundError(f"Organisation {organization} has no Exchange service.")
        else:
            raise UsageError(
                f"Organisation {organization} has {len(services)} services ({', '.join(sorted(services))}); "
                "choose one with --service or VERIFIER_OVH_SERVICE.",
                hint="`verifier service list` shows every organisation and service",
            )
    return organization, service


class ExchangeApi:
    """One Exchange service (organisation + service) seen through python-ovh."""

    def __init__(self, client: ovh.Client, organization: str, service: str) -> None:
        self.client = client
        self.organization = organization
        self.service_name = service
        self.base = f"/email/exchange/{_seg(organization)}/service/{_seg(service)}"

    def __repr__(self) -> str:
        return f"ExchangeApi(organization={self.organization!r}, service={self.service_name!r})"

    # --- service -----------------------------------------------------------------

    def service(self) -> ExchangeService:
        with api_errors(f"read Exchange service {self.service_name}"):
            data = self.client.get(self.base)
        return ExchangeService.from_api(self.organization, self.service_name, data)

    # --- send connectors ---------------------------------------------------------

    def connector_ids(self) -> list[int]:
        with api_errors("list the send connectors"):
            return [int(x) for x in self.client.get(f"{self.base}/sendConnector")]

    def connector(self, connector_id: int) -> SendConnector:
        with api_errors(f"read send connector {connector_id}"):
            data = self.client.get(f"{self.base}/sendConnector/{int(connector_id)}")
        return SendConnector.from_api(data)

    def connectors(self) -> list[SendConnector]:
        """Every connector; one deleted between the list and its read is left out."""
        out = []
        for cid in sorted(self.connector_ids()):
            try:
                out.append(self.connector(cid))
            except NotFoundError:
                continue
        return out

    def create_connector(
        self,
        *,
        display_name: str,
        smart_host: str,
        port: int | None = None,
        max_send_size: int | None = None,
        require_tls: bool | None = None,
        auth_mechanism: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> Task:
        body: dict[str, Any] = {"displayName": display_name, "smartHost": smart_host}
        optional = {
            "port": port,
            "maxSendSize": max_send_size,
            "requireTLS": require_tls,
            "smartHostAuthMechanism": auth_mechanism,
            "user": user,
            "password": password,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        with api_errors(f"create send connector {display_name!r}"):
            data = self.client.post(f"{self.base}/sendConnector", **body)
        return Task.from_api(data)

    def find_new_connector(
        self, before: set[int], display_name: str, smart_host: str
    ) -> SendConnector | None:
        """The connector created since ``before`` was listed, matched by name and host."""
        found = [
            c
            for c in (self.connector(i) for i in sorted(set(self.connector_ids()) - before))
            if c.display_name == display_name and c.smart_host == smart_host
        ]
        return found[-1] if found else None

    def update_connector(self, connector_id: int, fields: dict[str, Any]) -> None:
        if not fields:
            raise UsageError("Nothing to update: give at least one field to change.")
        with api_errors(f"update send connector {connector_id}"):
            self.client.put(f"{self.base}/sendConnector/{int(connector_id)}", **fields)

    def delete_connector(self, connector_id: int) -> Task:
        with api_errors(f"delete send connector {connector_id}"):
            data = self.client.delete(f"{self.base}/sendConnector/{int(connector_id)}")
        return Task.from_api(data)

    def change_authentication(
        self,
        connector_id: int,
        *,
        auth_mechanism: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> Task:
        body = {
            k: v
            for k, v in {
                "smartHostAuthMechanism": auth_mechanism,
                "user": user,
                "password": password,
            }.items()
            if v is not None
        }
        with api_errors(f"change the authentication of send connector {connector_id}"):
            data = self.client.post(
                f"{self.base}/sendConnector/{int(connector_id)}/changeAuthentication", **body
            )
        return Task.from_api(data)

    # --- accounts ----------------------------------------------------------------

    def account_addresses(self, **filters: Any) -> list[str]:
        with api_errors("list the accounts"):
            return [str(x) for x in self.client.get(f"{self.base}/account", **filters)]

    def account(self, address: str) -> Account:
        with api_errors(f"read account {address}"):
            data = self.client.get(f"{self.base}/account/{_seg(address)}")
        return Account.from_api(data)

    def _set_connector(self, address: str, connector_id: int, what: str) -> AttachResult:
        before = self.account(address)
        changed = not before.spam_and_virus.deleteVirus
        # The guide: deleteVirus must be true or the call fails; the seven booleans are
        # non-null, so the whole object is sent as read, with only deleteVirus forced.
        spam = spam_config_with_delete_virus(before.spam_and_virus)
        with api_errors(what):
            self.client.put(
                f"{self.base}/account/{_seg(address)}",
                sendConnectorId=int(connector_id),
                spamAndVirusConfiguration=spam,
            )
        after = self.account(address)
        return AttachResult(before=before, after=after, delete_virus_changed=changed)

    def attach(self, address: str, connector_id: int) -> AttachResult:
        if int(connector_id) <= 0:
            raise UsageError("A connector id to attach must be a positive number; use detach to remove one.")
        return self._set_connector(
            address, connector_id, f"attach send connector {connector_id} to {address}"
        )

    def detach(self, address: str) -> AttachResult:
        return self._set_connector(address, 0, f"detach the send connector from {address}")

    # --- domains -----------------------------------------------------------------

    def domain_names(self) -> list[str]:
        with api_errors("list the domains"):
            return [str(x) for x in self.client.get(f"{self.base}/domain")]

    def domain(self, name: str) -> Domain:
        with api_errors(f"read domain {name}"):
            data = self.client.get(f"{self.base}/domain/{_seg(name)}")
        return Domain.from_api(data)

    def change_default_sbr(self, name: str, connector_id: int) -> None:
        """Make ``connector_id`` the domain's default for new accounts; 0 resets it."""
        what = (
            f"reset the default send connector of domain {name}"
            if not connector_id
            else f"make send connector {connector_id} the default of domain {name}"
        )
        with api_errors(what):
            self.client.put(
                f"{self.base}/domain/{_seg(name)}/changeDefaultSBR",
                sendConnectorIdDefault=int(connector_id),
            )

    # --- tasks -------------------------------------------------------------------

    def task_ids(self) -> list[int]:
        with api_errors("list the pending tasks"):
            return [int(x) for x in self.client.get(f"{self.base}/task")]

    def task(self, task_id: int) -> Task:
        with api_errors(f"read task {task_id}"):
            data = self.client.get(f"{self.base}/task/{int(task_id)}")
        return Task.from_api(data)

    def wait_task(
        self,
        task: Task | int,
        *,
        timeout: float = 600.0,
        initial_interval: float = 0.5,
        max_interval: float = 15.0,
        progress: ProgressCallback | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Task:
        """Poll a task until it is done; raise TaskFailedError on error/cancelled, TaskTimeoutError on timeout.

        The interval grows by half each poll up to ``max_interval``. A task that the API
        stops answering for after it was seen is taken as finished (``vanished``), as
        OVH's pending-task lists drop finished tasks.
        """
        current = task if isinstance(task, Task) else None
        task_id = current.id if current else int(task)
        start = clock()
        interval = initial_interval
        seen = current is not None
        while True:
            try:
                current = self.task(task_id)
                seen = True
            except NotFoundError:
                if not seen:
                    raise
                assert current is not None
                current = Task(
                    id=current.id,
                    function=current.function,
                    status="done",
                    todo_date=current.todo_date,
                    finish_date=None,
                    vanished=True,
                )
            elapsed = clock() - start
            if progress is not None:
                progress(current, elapsed)
            if current.status == "done":
                return current
            if current.failed:
                raise TaskFailedError(
                    f"Task {current.id} ({current.function}) ended in status {current.status}."
                )
            if current.status not in ("todo", "doing"):
                raise ApiError(f"Task {current.id} has an unknown status {current.status!r}.")
            if elapsed >= timeout:
                raise TaskTimeoutError(
                    f"Task {current.id} ({current.function}) was still {current.status} after "
                    f"{int(elapsed)} s."
                )
            sleep(min(interval, max(0.0, timeout - elapsed)))
            interval = min(max_interval, interval * 1.5)


def spam_config_with_delete_virus(config: SpamAndVirusConfiguration) -> dict[str, bool]:
    """The seven booleans as they are, with deleteVirus set (what the guide asks for)."""
    out = config.to_dict()
    out["deleteVirus"] = True
    return out
