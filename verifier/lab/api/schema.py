"""The part of the `/email/exchange` schema the emulator serves, and body validation.

Types, enums, required and read-only flags follow the published schema
(``email-exchange`` 1.0, as summarised in the project's API reference). A body
is checked the way the API does: unknown parameters, missing mandatory ones,
wrong types, values outside an enum, and writes to read-only properties are
all answered with HTTP 400 and a message naming the property. Values of
``password`` properties are never repeated in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.parsers.ip import is_ip

ENUMS: dict[str, tuple[str, ...]] = {
    "smartHostAuthMechanismEnum": ("basicAuth", "basicAuthRequireTLS", "none"),
    "ObjectStateEnum": (
        "creating",
        "deleting",
        "internalMigration",
        "ok",
        "reopening",
        "suspended",
        "suspending",
    ),
    "TaskStatusEnum": ("cancelled", "doing", "done", "error", "todo"),
    "DomainTypeEnum": ("authoritative", "nonAuthoritative"),
    "ServiceOfferEnum": ("dedicated", "dedicatedCluster", "hosted", "provider"),
    "ServiceStateEnum": ("inMaintenance", "ok", "suspended"),
    "OvhLicenceEnum": ("basic", "enterprise", "standard"),
    "MailingFilterEnum": ("vaderetro",),
    "renewPeriodEnum": ("monthly", "yearly"),
}


class SchemaError(ValueError):
    """A body that the API would refuse with HTTP 400."""


@dataclass(frozen=True, slots=True)
class Prop:
    type: str  # string | long | boolean | password | datetime | phoneNumber | <Enum> | <T>[] | object:<name>
    readonly: bool = False
    nullable: bool = False
    required: bool = False


SPAM_AND_VIRUS = {
    name: Prop("boolean")
    for name in ("checkDKIM", "checkSPF", "deleteSpam", "deleteVirus", "putInJunk", "tagSpam", "tagVirus")
}

OBJECTS: dict[str, dict[str, Prop]] = {"spamAndVirusConfiguration": SPAM_AND_VIRUS}

SEND_CONNECTOR = {
    "id": Prop("long", readonly=True, nullable=True),
    "displayName": Prop("string"),
    "smartHost": Prop("string"),
    "port": Prop("long"),
    "maxSendSize": Prop("long"),
    "requireTLS": Prop("boolean"),
    "smartHostAuthMechanism": Prop("smartHostAuthMechanismEnum", readonly=True),
    "state": Prop("ObjectStateEnum", readonly=True),
    "creationDate": Prop("datetime", readonly=True),
    "lastUpdateDate": Prop("datetime", readonly=True, nullable=True),
    "taskPendingId": Prop("long", readonly=True, nullable=True),
}

SEND_CONNECTOR_CREATE = {
    "displayName": Prop("string", required=True),
    "smartHost": Prop("string", required=True),
    "port": Prop("long", nullable=True),
    "maxSendSize": Prop("long", nullable=True),
    "requireTLS": Prop("boolean", nullable=True),
    "smartHostAuthMechanism": Prop("smartHostAuthMechanismEnum", nullable=True),
    "user": Prop("string", nullable=True),
    "password": Prop("password", nullable=True),
}

CHANGE_AUTHENTICATION = {
    "smartHostAuthMechanism": Prop("smartHostAuthMechanismEnum", nullable=True),
    "user": Prop("string", nullable=True),
    "password": Prop("password", nullable=True),
}

_S = "string"
ACCOUNT: dict[str, Prop] = {
    "accountLicense": Prop("OvhLicenceEnum"),
    **{
        name: Prop(_S, nullable=True)
        for name in (
            "city",
            "company",
            "description",
            "displayName",
            "firstName",
            "lastName",
            "initial",
            "jobDepartment",
            "jobTitle",
            "office",
            "postalCode",
            "region",
            "streetAddress",
            "forwardingEmail",
            "mailSenderDisplay",
            "sbrDestination",
        )
    },
    "countryCode": Prop("string", nullable=True),
    "fax": Prop("phoneNumber", nullable=True),
    "mobile": Prop("phoneNumber", nullable=True),
    "phone": Prop("phoneNumber", nullable=True),
    "deleteAtExpiration": Prop("boolean", nullable=True),
    "deleteOutlookAtExpiration": Prop("boolean", nullable=True),
    "domain": Prop(_S),
    "login": Prop(_S),
    "hiddenFromGAL": Prop("boolean"),
    "litigation": Prop("boolean"),
    "outlookLicense": Prop("boolean"),
    "storeCopyOfEmail": Prop("boolean"),
    "litigationPeriod": Prop("long", nullable=True),
    "mailingFilter": Prop("MailingFilterEnum[]", nullable=True),
    "quota": Prop("long"),
    "renewPeriod": Prop("renewPeriodEnum", nullable=True),
    "renewOutlookPeriod": Prop("renewPeriodEnum", nullable=True),
    "sendConnectorId": Prop("long", nullable=True),
    "spamAndVirusConfiguration": Prop("object:spamAndVirusConfiguration"),
    "primaryEmailAddress": Prop(_S, readonly=True),
    "id": Prop("long", readonly=True),
    "numberOfAliases": Prop("long", readonly=True),
    "configured": Prop("boolean", readonly=True),
    "owaLimited": Prop("boolean", readonly=True),
    "spamDetected": Prop("boolean", readonly=True),
    "SAMAccountName": Prop(_S, readonly=True, nullable=True),
    "exchangeGuid": Prop(_S, readonly=True, nullable=True),
    "guid": Prop(_S, readonly=True, nullable=True),
    **{
        name: Prop("datetime", readonly=True, nullable=True)
        for name in (
            "creationDate",
            "expirationDate",
            "expirationOutlookDate",
            "lastLogoffDate",
            "lastLogonDate",
            "lastUpdateDate",
            "passwordLastUpdate",
        )
    },
    "currentUsage": Prop("long", readonly=True, nullable=True),
    "customIsolationId": Prop("long", readonly=True, nullable=True),
    "spamTicketNumber": Prop("long", readonly=True, nullable=True),
    "taskPendingId": Prop("long", readonly=True, nullable=True),
    "state": Prop("ObjectStateEnum", readonly=True),
}

ACCOUNT_CREATE = {
    "domain": Prop(_S, required=True),
    "login": Prop(_S, required=True),
    "license": Prop("OvhLicenceEnum", required=True),
    "password": Prop("password", required=True),
    "displayName": Prop(_S, nullable=True),
    "firstName": Prop(_S, nullable=True),
    "lastName": Prop(_S, nullable=True),
    "initials": Prop(_S, nullable=True),
    "company": Prop(_S, nullable=True),
    "hiddenFromGAL": Prop("boolean", nullable=True),
    "outlookLicense": Prop("boolean", nullable=True),
    "litigation": Prop("boolean", nullable=True),
    "litigationPeriod": Prop("long", nullable=True),
    "spamAndVirusConfiguration": Prop("object:spamAndVirusConfiguration", nullable=True),
    "SAMAccountName": Prop(_S, nullable=True),
    "sbrDestination": Prop(_S, nullable=True),
    "sendConnectorId": Prop("long", nullable=True),
}

DOMAIN: dict[str, Prop] = {
    "mxRelay": Prop(_S, nullable=True),
    "type": Prop("DomainTypeEnum"),
    "name": Prop(_S, readonly=True),
    "state": Prop("ObjectStateEnum", readonly=True),
    "taskPendingId": Prop("long", readonly=True),
    **{
        name: Prop("boolean", readonly=True)
        for name in ("domainValidated", "isAliasDomain", "mxIsValid", "srvIsValid", "spfIsValid")
    },
    "main": Prop("boolean", readonly=True, nullable=True),
    "domainAliases": Prop("string[]", readonly=True),
    "expectedMX": Prop("string[]", readonly=True),
    "mxRecord": Prop("string[]", readonly=True, nullable=True),
    "srvRecord": Prop("string[]", readonly=True, nullable=True),
    "spfRecord": Prop("string[]", readonly=True, nullable=True),
    "expectedSPF": Prop(_S, readonly=True),
    "expectedAutodiscoverSRV": Prop(_S, readonly=True),
    "cnameToCheck": Prop(_S, readonly=True, nullable=True),
    "organization2010": Prop(_S, readonly=True, nullable=True),
    "dkimDiagnostics": Prop("object:dkimDiagnostics", readonly=True),
    "sbrDefault": Prop(_S, readonly=True, nullable=True),
    "sendConnectorIdDefault": Prop("long", readonly=True, nullable=True),
}

EXCHANGE_SERVICE: dict[str, Prop] = {
    "adfsChangePassword": Prop("boolean"),
    "complexityEnabled": Prop("boolean"),
    "displayName": Prop(_S, nullable=True),
    "lockoutDuration": Prop("long"),
    "lockoutObservationWindow": Prop("long"),
    "maxReceiveSize": Prop("long"),
    "maxSendSize": Prop("long"),
    "lockoutThreshold": Prop("long", nullable=True),
    "maxPasswordAge": Prop("long", nullable=True),
    "minPasswordAge": Prop("long", nullable=True),
    "minPasswordLength": Prop("long", nullable=True),
    "passwordHistoryCount": Prop("long", nullable=True),
    "spamAndVirusConfiguration": Prop("object:spamAndVirusConfiguration"),
    "domain": Prop(_S, readonly=True),
    "hostname": Prop(_S, readonly=True, nullable=True),
    "offer": Prop("ServiceOfferEnum", readonly=True),
    "state": Prop("ServiceStateEnum", readonly=True),
    "taskPendingId": Prop("long", readonly=True),
    "lastUpdateDate": Prop("datetime", readonly=True, nullable=True),
    "sslExpirationDate": Prop("datetime", readonly=True, nullable=True),
    "webUrl": Prop(_S, readonly=True, nullable=True),
    "iam": Prop("object:iam", readonly=True, nullable=True),
}

CHANGE_DEFAULT_SBR = {
    "sbrDefault": Prop(_S, nullable=True),
    "sendConnectorIdDefault": Prop("long", nullable=True),
}


def _type_ok(prop_type: str, value: Any) -> bool:
    if prop_type.endswith("[]"):
        return isinstance(value, list) and all(_type_ok(prop_type[:-2], v) for v in value)
    if prop_type in ("string", "password", "phoneNumber"):
        return isinstance(value, str)
    if prop_type == "long":
        return isinstance(value, int) and not isinstance(value, bool)
    if prop_type == "boolean":
        return isinstance(value, bool)
    if prop_type == "datetime":
        return isinstance(value, str)
    if prop_type.startswith("object:"):
        return isinstance(value, dict)
    if prop_type in ENUMS:
        return isinstance(value, str)
    raise AssertionError(f"unknown schema type {prop_type}")


def _shown(name: str, prop: Prop, value: Any) -> str:
    if prop.type == "password":
        return ""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f" ({text})"


def validate(
    body: Any,
    props: dict[str, Prop],
    *,
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check ``body`` against ``props``; return it. Raise SchemaError with the API's kind of message.

    With ``current`` (a PUT on an existing object), a read-only property may be sent
    only with the value it already has, as a client echoing back a GET does.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise SchemaError("Invalid body: a JSON object is expected")
    for name, value in body.items():
        prop = props.get(name)
        if prop is None:
            raise SchemaError(f"Invalid parameter: {name} is not a property of this object")
        if prop.readonly:
            if current is not None and current.get(name) == value:
                continue
            raise SchemaError(f"[{name}] Property is read-only and cannot be modified")
        if value is None:
            if prop.nullable or (current is None and not prop.required):
                continue
            raise SchemaError(f"[{name}] Property cannot be null")
        if not _type_ok(prop.type, value):
            raise SchemaError(
                f"[{name}] Given data{_shown(name, prop, value)} is not valid for type {prop.type}"
            )
        base = prop.type[:-2] if prop.type.endswith("[]") else prop.type
        if base in ENUMS:
            for item in value if isinstance(value, list) else [value]:
                if item not in ENUMS[base]:
                    raise SchemaError(
                        f"[{name}] Given data ({item}) does not belong to the {base} enumeration"
                    )
        if prop.type.startswith("object:"):
            sub = OBJECTS.get(prop.type.split(":", 1)[1])
            if sub is not None:
                missing = [k for k in sub if k not in value or value[k] is None]
                if missing:
                    raise SchemaError(f"[{name}.{missing[0]}] Property is mandatory and cannot be null")
                for key, item in value.items():
                    if key not in sub:
                        raise SchemaError(f"Invalid parameter: {name}.{key} is not a property")
                    if not _type_ok(sub[key].type, item):
                        raise SchemaError(
                            f"[{name}.{key}] Given data ({item!r}) is not valid for type {sub[key].type}"
                        )
    for name, prop in props.items():
        if prop.required and body.get(name) in (None, ""):
            raise SchemaError(f"[{name}] Property is mandatory")
    return body


# --- values the API checks beyond their type ------------------------------------

MAX_HOSTNAME = 253  # a DNS name, without its final dot (RFC 1035 section 2.3.4 less the length octets)
MAX_LABEL = 63
MAX_USER = 256  # the emulator's own limit: the published schema gives none
MAX_PASSWORD = 256  # the same
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def has_control(text: str) -> bool:
    """True if ``text`` holds a C0 or C1 control character or DEL (newline and tab included)."""
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


def is_hostname(value: str) -> bool:
    """A DNS name (letters, digits, hyphens; labels of 1 to 63; 253 in all; one final dot allowed)."""
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > MAX_HOSTNAME:
        return False
    for label in name.split("."):
        if not 1 <= len(label) <= MAX_LABEL or not _LABEL_CHARS.issuperset(label):
            return False
        if label.startswith("-") or label.endswith("-"):
            return False
    return True


def is_ip_address(value: str) -> bool:
    """An IP address without a zone id (a zone is no address the platform can reach)."""
    return is_ip(value, zone=False)


def check_smart_host(value: str) -> None:
    """Raise SchemaError unless ``value`` is a host name or an IP address (the value is not echoed)."""
    if len(value) > MAX_HOSTNAME + 1 or not (is_ip_address(value) or is_hostname(value)):
        raise SchemaError(
            "[smartHost] Given data is not a valid host name or IP address (letters, digits, "
            f"hyphens and dots, labels of at most {MAX_LABEL} characters and {MAX_HOSTNAME} in all, "
            "no whitespace or control characters)"
        )


def check_credential(name: str, value: str, limit: int) -> None:
    """Raise SchemaError for a user or password with control characters or over ``limit`` (not echoed)."""
    if has_control(value):
        raise SchemaError(f"[{name}] Given data contains control characters")
    if len(value) > limit:
        raise SchemaError(f"[{name}] Given data is longer than {limit} characters")
    if name == "user" and value != value.strip():
        raise SchemaError(f"[{name}] Given data starts or ends with whitespace")
