"""Typed views of the OVH `/email/exchange` objects that verifier uses.

Each class is built from the API's JSON with ``from_api`` and turned back into
JSON-ready data with ``to_dict`` (API field names, so ``--json`` output reads
like the API). Unknown fields are kept in ``extra`` for accounts and domains,
whose schema is large, so that nothing the API said is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AUTH_MECHANISMS = ("basicAuth", "basicAuthRequireTLS", "none")
OBJECT_STATES = (
    "creating",
    "deleting",
    "internalMigration",
    "ok",
    "reopening",
    "suspended",
    "suspending",
)
TASK_STATUSES = ("cancelled", "doing", "done", "error", "todo")
DEFAULT_TASK_WAIT = 600.0  # seconds a command follows a task by default (--wait-timeout)
TASK_FINAL_OK = frozenset({"done"})
TASK_FINAL_FAILED = frozenset({"error", "cancelled"})

SPAM_AND_VIRUS_FIELDS = (
    "checkDKIM",
    "checkSPF",
    "deleteSpam",
    "deleteVirus",
    "putInJunk",
    "tagSpam",
    "tagVirus",
)


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    return int(value)


@dataclass(frozen=True, slots=True)
class SendConnector:
    """``email.exchange.sendConnector``. The API never returns user or password."""

    id: int
    display_name: str
    smart_host: str
    port: int
    max_send_size: int
    require_tls: bool
    auth_mechanism: str
    state: str
    creation_date: str | None = None
    last_update_date: str | None = None
    task_pending_id: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> SendConnector:
        return cls(
            id=int(data["id"]),
            display_name=data.get("displayName") or "",
            smart_host=data.get("smartHost") or "",
            port=int(data.get("port") or 0),
            max_send_size=int(data.get("maxSendSize") or 0),
            require_tls=bool(data.get("requireTLS")),
            auth_mechanism=data.get("smartHostAuthMechanism") or "none",
            state=data.get("state") or "",
            creation_date=data.get("creationDate"),
            last_update_date=data.get("lastUpdateDate"),
            task_pending_id=_int_or_none(data.get("taskPendingId")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "smartHost": self.smart_host,
            "port": self.port,
            "maxSendSize": self.max_send_size,
            "requireTLS": self.require_tls,
            "smartHostAuthMechanism": self.auth_mechanism,
            "state": self.state,
            "creationDate": self.creation_date,
            "lastUpdateDate": self.last_update_date,
            "taskPendingId": self.task_pending_id,
        }


@dataclass(frozen=True, slots=True)
class SpamAndVirusConfiguration:
    """The seven non-null booleans of ``spamAndVirusConfiguration``."""

    checkDKIM: bool = False  # noqa: N815 (API field names)
    checkSPF: bool = False  # noqa: N815
    deleteSpam: bool = False  # noqa: N815
    deleteVirus: bool = True  # noqa: N815
    putInJunk: bool = False  # noqa: N815
    tagSpam: bool = False  # noqa: N815
    tagVirus: bool = False  # noqa: N815

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> SpamAndVirusConfiguration:
        data = data or {}
        defaults = cls()
        return cls(**{name: bool(data.get(name, getattr(defaults, name))) for name in SPAM_AND_VIRUS_FIELDS})

    def to_dict(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in SPAM_AND_VIRUS_FIELDS}


@dataclass(frozen=True, slots=True)
class Account:
    """``email.exchange.Account``: the fields verifier reads; the rest is in ``extra``."""

    primary_email_address: str
    domain: str
    display_name: str | None
    state: str
    send_connector_id: int | None
    sbr_destination: str | None
    task_pending_id: int | None
    spam_and_virus: SpamAndVirusConfiguration
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Account:
        known = {
            "primaryEmailAddress",
            "domain",
            "displayName",
            "state",
            "sendConnectorId",
            "sbrDestination",
            "taskPendingId",
            "spamAndVirusConfiguration",
        }
        return cls(
            primary_email_address=data["primaryEmailAddress"],
            domain=data.get("domain") or "",
            display_name=data.get("displayName"),
            state=data.get("state") or "",
            send_connector_id=_int_or_none(data.get("sendConnectorId")),
            sbr_destination=data.get("sbrDestination"),
            task_pending_id=_int_or_none(data.get("taskPendingId")),
            spam_and_virus=SpamAndVirusConfiguration.from_api(data.get("spamAndVirusConfiguration")),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @property
    def connector_id(self) -> int | None:
        """The attached connector, or None when the account uses the platform's own outbound."""
        return self.send_connector_id or None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update(
            {
                "primaryEmailAddress": self.primary_email_address,
                "domain": self.domain,
                "displayName": self.display_name,
                "state": self.state,
                "sendConnectorId": self.send_connector_id,
                "sbrDestination": self.sbr_destination,
                "taskPendingId": self.task_pending_id,
                "spamAndVirusConfiguration": self.spam_and_virus.to_dict(),
            }
        )
        return out


@dataclass(frozen=True, slots=True)
class Domain:
    """``email.exchange.Domain``: name, state and the default connector."""

    name: str
    state: str
    send_connector_id_default: int | None
    sbr_default: str | None
    task_pending_id: int | None
    main: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Domain:
        known = {"name", "state", "sendConnectorIdDefault", "sbrDefault", "taskPendingId", "main"}
        return cls(
            name=data["name"],
            state=data.get("state") or "",
            send_connector_id_default=_int_or_none(data.get("sendConnectorIdDefault")),
            sbr_default=data.get("sbrDefault"),
            task_pending_id=_int_or_none(data.get("taskPendingId")),
            main=data.get("main"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @property
    def default_connector_id(self) -> int | None:
        return self.send_connector_id_default or None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update(
            {
                "name": self.name,
                "state": self.state,
                "sendConnectorIdDefault": self.send_connector_id_default,
                "sbrDefault": self.sbr_default,
                "taskPendingId": self.task_pending_id,
                "main": self.main,
            }
        )
        return out


@dataclass(frozen=True, slots=True)
class Task:
    """``email.exchange.Task``. ``vanished`` is set when the API stopped answering for it."""

    id: int
    function: str
    status: str
    todo_date: str | None = None
    finish_date: str | None = None
    vanished: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Task:
        return cls(
            id=int(data["id"]),
            function=data.get("function") or "",
            status=data.get("status") or "",
            todo_date=data.get("todoDate"),
            finish_date=data.get("finishDate"),
        )

    @property
    def finished(self) -> bool:
        return self.status in TASK_FINAL_OK or self.status in TASK_FINAL_FAILED

    @property
    def failed(self) -> bool:
        return self.status in TASK_FINAL_FAILED

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "function": self.function,
            "status": self.status,
            "todoDate": self.todo_date,
            "finishDate": self.finish_date,
        }
        if self.vanished:
            out["vanished"] = True
        return out


@dataclass(frozen=True, slots=True)
class ExchangeService:
    """``email.exchange.ExchangeService``: what the probe needs (hostname, offer, state)."""

    organization: str
    name: str
    hostname: str | None
    domain: str | None
    offer: str | None
    state: str | None
    display_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, organization: str, name: str, data: dict[str, Any]) -> ExchangeService:
        known = {"hostname", "domain", "offer", "state", "displayName"}
        return cls(
            organization=organization,
            name=name,
            hostname=data.get("hostname"),
            domain=data.get("domain"),
            offer=data.get("offer"),
            state=data.get("state"),
            display_name=data.get("displayName"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update(
            {
                "organization": self.organization,
                "service": self.name,
                "hostname": self.hostname,
                "domain": self.domain,
                "offer": self.offer,
                "state": self.state,
                "displayName": self.display_name,
            }
        )
        return out
