"""What every handler uses: method checks, public views, validation, and the emulator's hooks."""

from __future__ import annotations

from typing import Any

from verifier.lab.api import schema
from verifier.lab.api.errors import ApiFailure
from verifier.lab.api.errors import bad as _bad
from verifier.lab.api.errors import conflict as _conflict


class HandlerBase:
    """State and services the handlers share; the emulator provides them."""

    data: dict[str, Any]

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise ApiFailure(405, f"Method {method} not allowed here")

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    @staticmethod
    def _apply_writable(target: dict[str, Any], body: dict[str, Any] | None, props: dict[str, schema.Prop]) -> None:
        for name, value in (body or {}).items():
            if not props[name].readonly:
                target[name] = value

    @staticmethod
    def _long(name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise _bad(f"[{name}] Given data ({value}) is not valid for type long") from None
        return number

    def _validate(self, body: Any, props: dict[str, schema.Prop], current: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return schema.validate(body, props, current=current)
        except schema.SchemaError as exc:
            raise _bad(str(exc)) from None

    @staticmethod
    def _require_idle(obj: dict[str, Any], what: str) -> None:
        if obj.get("taskPendingId"):
            raise _conflict(f"A task ({obj['taskPendingId']}) is already pending on this {what}")
        if obj.get("state") != "ok":
            raise _conflict(f"This {what} is in state {obj.get('state')} and cannot be changed")

    def _check_connector_ref(self, svc: dict[str, Any], name: str, cid: int | None) -> None:
        if not cid:
            return
        conn = svc["connectors"].get(str(cid))
        if conn is None or conn["state"] in ("deleting",):
            raise _bad(f"[{name}] Send connector {cid} does not exist on this service")
