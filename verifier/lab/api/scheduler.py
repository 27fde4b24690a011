"""The task scheduler: tasks go todo -> doing -> done (or error) after the configured delay,
and their change is applied (or undone) at the end; unfinished tasks resume at restart."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from verifier.lab.api.state import now_iso


class TaskScheduler:
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`."""

    data: dict[str, Any]
    task_delay: float
    _task_runners: dict[int, asyncio.Task[None]]
    _lock: threading.Lock
    _fail_next: int

    def _new_task(self, svc: dict[str, Any], function: str, action: dict[str, Any]) -> dict[str, Any]:
        tid = self._next("task")
        task = {
            "id": tid,
            "function": function,
            "status": "todo",
            "todoDate": now_iso(),
            "finishDate": None,
            "_action": action,
        }
        if action.get("kind") == "account":
            task["_account"] = action["address"]
        svc["tasks"][str(tid)] = task
        return task

    def _all_tasks(self) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        out = []
        for org_name, org in self.data["organizations"].items():
            for svc_name, svc in org["services"].items():
                for task in svc["tasks"].values():
                    out.append(((org_name, svc_name), task))
        return out

    def _svc(self, key: tuple[str, str]) -> dict[str, Any]:
        return self.data["organizations"][key[0]]["services"][key[1]]

    def _schedule(self, key: tuple[str, str], task_id: int) -> None:
        runner = asyncio.get_running_loop().create_task(self._run_task(key, task_id))
        self._task_runners[task_id] = runner
        runner.add_done_callback(lambda _t: self._task_runners.pop(task_id, None))

    async def _run_task(self, key: tuple[str, str], task_id: int) -> None:
        half = self.task_delay / 2
        svc = self._svc(key)
        task = svc["tasks"][str(task_id)]
        if task["status"] == "todo":
            await asyncio.sleep(half)
            task["status"] = "doing"
            self._save()
        await asyncio.sleep(half)
        with self._lock:
            fail = self._fail_next > 0
            if fail:
                self._fail_next -= 1
        action = task.get("_action") or {}
        if fail:
            self._revert(svc, action)
            task["status"] = "error"
        else:
            self._apply(svc, action)
            task["status"] = "done"
        task["finishDate"] = now_iso()
        task.pop("_action", None)  # drops any password held for the change
        self._save()
        self._notify_routes()

    def _apply(self, svc: dict[str, Any], action: dict[str, Any]) -> None:
        kind = action.get("kind")
        if kind == "connector":
            conn = svc["connectors"].get(str(action["id"]))
            if conn is None:
                return
            if conn["state"] == "deleting":
                del svc["connectors"][str(action["id"])]
            else:
                conn["state"] = "ok"
                conn["taskPendingId"] = 0
        elif kind == "auth":
            conn = svc["connectors"].get(str(action["id"]))
            if conn is None:
                return
            conn["smartHostAuthMechanism"] = action["mechanism"]
            conn["_user"] = action.get("user")
            conn["_password"] = action.get("password")
            conn["taskPendingId"] = 0
            conn["lastUpdateDate"] = now_iso()
        elif kind == "account":
            acc = svc["accounts"].get(action["address"])
            if acc is not None:
                acc["state"] = "ok"
                acc["taskPendingId"] = 0

    def _revert(self, svc: dict[str, Any], action: dict[str, Any]) -> None:
        """A failed task leaves things as they were before it was asked for."""
        kind = action.get("kind")
        if kind == "connector":
            conn = svc["connectors"].get(str(action["id"]))
            if conn is None:
                return
            if conn["state"] == "creating":
                del svc["connectors"][str(action["id"])]
            else:
                conn["state"] = action.get("previousState") or "ok"
                conn["taskPendingId"] = 0
        elif kind == "auth":
            conn = svc["connectors"].get(str(action["id"]))
            if conn is not None:
                conn["taskPendingId"] = 0
        elif kind == "account":
            svc["accounts"].pop(action["address"], None)
