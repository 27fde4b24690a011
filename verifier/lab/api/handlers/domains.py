"""``.../domain``: list, get, update, ``changeDefaultSBR``."""

from __future__ import annotations

from typing import Any

from verifier.lab.api import schema
from verifier.lab.api.errors import bad as _bad
from verifier.lab.api.errors import not_found as _not_found
from verifier.lab.api.handlers.base import HandlerBase


class DomainHandlers(HandlerBase):
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`."""

    def _domains(self, method: str, key: tuple[str, str], svc: dict[str, Any], tail: list[str], query: Any, body: Any) -> Any:
        if not tail:
            self._allow(method, "GET")
            out = []
            for name, dom in sorted(svc["domains"].items()):
                if "main" in query and str(bool(dom.get("main"))).lower() != query["main"]:
                    continue
                if "state" in query:
                    if query["state"] not in schema.ENUMS["ObjectStateEnum"]:
                        raise _bad(f"[state] Given data ({query['state']}) does not belong to the ObjectStateEnum enumeration")
                    if dom.get("state") != query["state"]:
                        continue
                out.append(name)
            return out
        dom = svc["domains"].get(tail[0])
        if dom is None:
            raise _not_found(f"The requested object (name = {tail[0]}) does not exist")
        if len(tail) == 1:
            if method == "GET":
                return self._public(dom)
            self._allow(method, "PUT")
            body = self._validate(body, schema.DOMAIN, current=self._public(dom))
            self._apply_writable(dom, body, schema.DOMAIN)
            self._save()
            return None
        if len(tail) == 2 and tail[1] == "changeDefaultSBR":
            self._allow(method, "PUT")
            body = self._validate(body, schema.CHANGE_DEFAULT_SBR)
            if "sendConnectorIdDefault" in body:
                cid = body["sendConnectorIdDefault"]
                self._check_connector_ref(svc, "sendConnectorIdDefault", cid)
                dom["sendConnectorIdDefault"] = cid or None
            if "sbrDefault" in body:
                dom["sbrDefault"] = body["sbrDefault"] or None
            self._save()
            return None
        raise _not_found("Got an invalid (or empty) URL")
