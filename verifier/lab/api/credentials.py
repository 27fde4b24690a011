"""The consumer-key flow of the emulator: request, validation page, current credential.

As the API does it (see the project's reference on OVH credentials):

* ``POST /1.0/auth/credential`` (unsigned; only ``X-Ovh-Application``) with
  ``accessRules`` answers ``consumerKey``, ``validationUrl`` and ``state:
  pendingValidation``;
* the person opens the validation URL and accepts (here: ``GET`` shows the rules
  and a form, ``POST`` to the same URL validates, or refuses with
  ``decision=refuse``);
* until then, a call signed with the new key is refused with 403
  ``INVALID_CREDENTIAL``; afterwards the key may make exactly the calls its rules
  allow (403 ``NOT_GRANTED_CALL`` otherwise);
* ``GET /1.0/auth/currentCredential`` describes the key that signed the call.

Keys stored before this flow existed (the lab's demo keys) carry no state and
count as validated, with the rules they always had. ``allowedIPs`` is not
emulated: a request that sets it is refused with 400 rather than ignored.
"""

from __future__ import annotations

import html
import secrets
import string
from typing import Any

from verifier.lab.api.schema import has_control
from verifier.lab.api.state import now_iso

METHODS = ("GET", "POST", "PUT", "DELETE")
MAX_RULES = 64
MAX_RULE_PATH = 512
MAX_REDIRECTION = 2048
MAX_PENDING = 32  # pending requests kept; the oldest is dropped beyond this
VALIDATED = "validated"
PENDING = "pendingValidation"
REFUSED = "refused"


class CredentialRequestError(ValueError):
    """A request body the API refuses with 400; the message names the field."""


def _token(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _next(creds: dict[str, Any], name: str, start: int) -> int:
    counters = creds.setdefault("counters", {})
    value = int(counters.get(name, start))
    counters[name] = value + 1
    return value


def check_request(body: Any) -> tuple[list[dict[str, str]], str | None]:
    """(rules, redirection) from a ``POST /auth/credential`` body; raises CredentialRequestError."""
    if not isinstance(body, dict):
        raise CredentialRequestError("Invalid body: a JSON object is expected")
    unknown = sorted(set(body) - {"accessRules", "redirection", "allowedIPs"})
    if unknown:
        raise CredentialRequestError(f"Invalid parameter: {unknown[0]} is not a property of this object")
    if body.get("allowedIPs") is not None:
        raise CredentialRequestError("[allowedIPs] Restricting a key to addresses is not emulated")
    rules = body.get("accessRules")
    if not isinstance(rules, list) or not rules:
        raise CredentialRequestError("[accessRules] Property is mandatory")
    if len(rules) > MAX_RULES:
        raise CredentialRequestError(f"[accessRules] At most {MAX_RULES} rules may be requested")
    out: list[dict[str, str]] = []
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) != {"method", "path"}:
            raise CredentialRequestError("[accessRules] Each rule has a method and a path, nothing else")
        method, path = rule["method"], rule["path"]
        if method not in METHODS:
            raise CredentialRequestError("[accessRules.method] Given data does not belong to the MethodEnum enumeration")
        if (
            not isinstance(path, str)
            or not path.startswith("/")
            or len(path) > MAX_RULE_PATH
            or has_control(path)
            or any(c.isspace() for c in path)
        ):
            raise CredentialRequestError("[accessRules.path] Given data is not a valid API path pattern")
        out.append({"method": method, "path": path})
    redirection = body.get("redirection")
    if redirection is not None and (
        not isinstance(redirection, str) or len(redirection) > MAX_REDIRECTION or has_control(redirection)
    ):
        raise CredentialRequestError("[redirection] Given data is not a valid URL")
    return out, redirection


def new_request(creds: dict[str, Any], application_key: str, rules: list[dict[str, str]],
                redirection: str | None) -> tuple[str, str]:
    """Record a pending consumer key; returns (consumer key, validation token)."""
    consumers = creds["consumers"]
    pending = sorted((c.get("credentialId", 0), ck) for ck, c in consumers.items() if c.get("state") == PENDING)
    for _cid, ck in pending[: max(0, len(pending) - MAX_PENDING + 1)]:
        del consumers[ck]
    ck = _token(32)
    token = _token(64)
    consumers[ck] = {
        "applicationKey": application_key,
        "rules": rules,
        "state": PENDING,
        "credentialId": _next(creds, "credential", 1),
        "creation": now_iso(),
        "redirection": redirection,
        "_validationToken": token,
    }
    return ck, token


def find_by_token(creds: dict[str, Any], token: str) -> tuple[str, dict[str, Any]] | None:
    if not token:
        return None
    for ck, consumer in creds["consumers"].items():
        expected = consumer.get("_validationToken")
        if expected and secrets.compare_digest(expected, token):
            return ck, consumer
    return None


def decide(consumer: dict[str, Any], accept: bool) -> None:
    consumer["state"] = VALIDATED if accept else REFUSED
    consumer.pop("_validationToken", None)
    consumer["validation"] = now_iso()


def is_valid(consumer: dict[str, Any]) -> bool:
    """Keys made before the flow existed carry no state: they are the lab's validated demo keys."""
    return consumer.get("state", VALIDATED) == VALIDATED


def describe(creds: dict[str, Any], consumer: dict[str, Any]) -> dict[str, Any]:
    """The ``auth.ApiCredential`` object for ``GET /auth/currentCredential``."""
    if "credentialId" not in consumer:
        consumer["credentialId"] = _next(creds, "credential", 1)
    if "applicationId" not in creds:
        creds["applicationId"] = 100000 + secrets.randbelow(900000)
    consumer["lastUse"] = now_iso()
    return {
        "credentialId": consumer["credentialId"],
        "applicationId": creds["applicationId"],
        "creation": consumer.get("creation") or consumer["lastUse"],
        "expiration": None,
        "lastUse": consumer["lastUse"],
        "status": consumer.get("state", VALIDATED),
        "rules": [dict(rule) for rule in consumer.get("rules", [])],
        "allowedIPs": None,
        "ovhSupport": False,
    }


def validation_page(consumer: dict[str, Any], token: str) -> str:
    """The page the validation URL shows: the rules asked for, and a form to accept or refuse."""
    rules = "".join(
        f"<li><code>{html.escape(r['method'])} {html.escape(r['path'])}</code></li>" for r in consumer.get("rules", [])
    )
    state = html.escape(str(consumer.get("state")))
    safe_token = html.escape(token, quote=True)
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Validate API credentials (lab)</title>"
        "<h1>An application asks for access to the OVH API emulator</h1>"
        f"<p>State: {state}. It asks for these calls:</p><ul>{rules}</ul>"
        f'<form method=post action="?credentialToken={safe_token}">'
        '<button name=decision value=validate>Validate</button> '
        '<button name=decision value=refuse>Refuse</button></form>'
    )
