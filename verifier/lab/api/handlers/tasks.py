"""``.../task``: the pending list and each task."""

from __future__ import annotations

from typing import Any

from verifier.lab.api.errors import not_found as _not_found
from verifier.lab.api.handlers.base import HandlerBase


class TaskHandlers(HandlerBase):
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`."""

    def _tasks(self, method: str, svc: dict[str, Any], tail: list[str]) -> Any:
        self._allow(method, "GET")
        if not tail:
            return sorted(int(t["id"]) for t in svc["tasks"].values() if t["status"] in ("todo", "doing"))
        if len(tail) > 1:
            raise _not_found("Got an invalid (or empty) URL")
        tid = self._long("id", tail[0])
        task = svc["tasks"].get(str(tid))
        if task is None:
            raise _not_found(f"The requested object (id = {tid}) does not exist")
        return self._public(task)
