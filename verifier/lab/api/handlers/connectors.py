"""``.../sendConnector``: list, get, create, update, delete, ``changeAuthentication``."""

from __future__ import annotations

from typing import Any

from verifier.lab.api import schema
from verifier.lab.api.errors import bad as _bad
from verifier.lab.api.errors import conflict as _conflict
from verifier.lab.api.errors import not_found as _not_found
from verifier.lab.api.handlers.base import HandlerBase
from verifier.lab.api.state import now_iso


class ConnectorHandlers(HandlerBase):
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`."""

    def _connector(self, svc: dict[str, Any], raw_id: str) -> dict[str, Any]:
        cid = self._long("id", raw_id)
        conn = svc["connectors"].get(str(cid))
        if conn is None:
            raise _not_found(f"The requested object (id = {cid}) does not exist")
        return conn

    def _connectors(self, method: str, key: tuple[str, str], svc: dict[str, Any], tail: list[str], body: Any) -> Any:
        if not tail:
            if method == "GET":
                return sorted(int(i) for i in svc["connectors"])
            self._allow(method, "POST")
            return self._create_connector(key, svc, body)
        conn = self._connector(svc, tail[0])
        if len(tail) == 1:
            if method == "GET":
                return self._public(conn)
            if method == "PUT":
                return self._update_connector(svc, conn, body)
            self._allow(method, "DELETE")
            return self._delete_connector(key, svc, conn)
        if len(tail) == 2 and tail[1] == "changeAuthentication":
            self._allow(method, "POST")
            return self._change_auth(key, svc, conn, body)
        raise _not_found("Got an invalid (or empty) URL")

    @staticmethod
    def _check_sizes(body: dict[str, Any]) -> None:
        size = body.get("maxSendSize")
        if size is not None and not 1 <= size <= 100:
            raise _bad("[maxSendSize] Maximum send size must be between 1 and 100 MB")
        port = body.get("port")
        if port is not None and not 1 <= port <= 65535:
            raise _bad(f"[port] Given data ({port}) is not a valid port")
        for name in ("displayName", "smartHost"):
            if name in body and not str(body[name]).strip():
                raise _bad(f"[{name}] Property is mandatory")
        try:
            if isinstance(body.get("smartHost"), str):
                schema.check_smart_host(body["smartHost"])
            for name, limit in (("user", schema.MAX_USER), ("password", schema.MAX_PASSWORD)):
                if isinstance(body.get(name), str):
                    schema.check_credential(name, body[name], limit)
        except schema.SchemaError as exc:
            raise _bad(str(exc)) from None

    def _create_connector(self, key: tuple[str, str], svc: dict[str, Any], body: Any) -> dict[str, Any]:
        body = self._validate(body, schema.SEND_CONNECTOR_CREATE)
        self._check_sizes(body)
        mech = body.get("smartHostAuthMechanism") or "none"
        user, password = body.get("user"), body.get("password")
        if mech != "none" and not (user and password):
            raise _bad(f"[smartHostAuthMechanism] {mech} needs a user and a password")
        if any(c["displayName"] == body["displayName"] for c in svc["connectors"].values()):
            raise _conflict(f"A send connector named {body['displayName']} already exists")
        cid = self._next("connector")
        task = self._new_task(svc, "addSendConnector", {"kind": "connector", "id": cid})
        svc["connectors"][str(cid)] = {
            "id": cid,
            "displayName": body["displayName"],
            "smartHost": body["smartHost"],
            "port": body.get("port") if body.get("port") is not None else 25,
            "maxSendSize": body.get("maxSendSize") if body.get("maxSendSize") is not None else 100,
            "requireTLS": bool(body.get("requireTLS") or False),
            "smartHostAuthMechanism": mech,
            "state": "creating",
            "creationDate": now_iso(),
            "lastUpdateDate": None,
            "taskPendingId": task["id"],
            "_user": user if mech != "none" else None,
            "_password": password if mech != "none" else None,
        }
        self._save()
        self._schedule(key, task["id"])
        return self._public(task)

    def _update_connector(self, svc: dict[str, Any], conn: dict[str, Any], body: Any) -> None:
        body = self._validate(body, schema.SEND_CONNECTOR, current=self._public(conn))
        self._check_sizes(body)
        self._require_idle(conn, "send connector")
        name = body.get("displayName")
        if name and any(
            c["displayName"] == name and c["id"] != conn["id"] for c in svc["connectors"].values()
        ):
            raise _conflict(f"A send connector named {name} already exists")
        self._apply_writable(conn, body, schema.SEND_CONNECTOR)
        conn["lastUpdateDate"] = now_iso()
        self._save()
        self._notify_routes()
        return None

    def _delete_connector(self, key: tuple[str, str], svc: dict[str, Any], conn: dict[str, Any]) -> dict[str, Any]:
        self._require_idle(conn, "send connector")
        cid = conn["id"]
        users = sorted(a for a, acc in svc["accounts"].items() if acc.get("sendConnectorId") == cid)
        defaults = sorted(d for d, dom in svc["domains"].items() if dom.get("sendConnectorIdDefault") == cid)
        if users or defaults:
            used = []
            if users:
                used.append(f"attached to {', '.join(users)}")
            if defaults:
                used.append(f"default of {', '.join(defaults)}")
            raise _conflict(f"Send connector {cid} is still in use ({'; '.join(used)})")
        task = self._new_task(svc, "deleteSendConnector", {"kind": "connector", "id": cid, "previousState": conn["state"]})
        conn["state"] = "deleting"
        conn["taskPendingId"] = task["id"]
        self._save()
        self._schedule(key, task["id"])
        self._notify_routes()
        return self._public(task)

    def _change_auth(self, key: tuple[str, str], svc: dict[str, Any], conn: dict[str, Any], body: Any) -> dict[str, Any]:
        body = self._validate(body, schema.CHANGE_AUTHENTICATION)
        self._check_sizes(body)
        self._require_idle(conn, "send connector")
        mech = body.get("smartHostAuthMechanism") or conn["smartHostAuthMechanism"]
        user = body.get("user") or conn.get("_user")
        password = body.get("password") or conn.get("_password")
        if mech != "none" and not (user and password):
            raise _bad(f"[smartHostAuthMechanism] {mech} needs a user and a password")
        action = {
            "kind": "auth",
            "id": conn["id"],
            "mechanism": mech,
            "user": user if mech != "none" else None,
            "password": password if mech != "none" else None,
        }
        task = self._new_task(svc, "setSendConnector", action)
        conn["taskPendingId"] = task["id"]
        self._save()
        self._schedule(key, task["id"])
        return self._public(task)
