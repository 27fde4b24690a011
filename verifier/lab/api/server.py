"""An HTTP emulator of the OVH `/1.0/email/exchange` send-connector subset.

It is meant to be talked to by the real python-ovh client, and to behave like
the API where the reference documents it:

* ``GET /1.0/auth/time`` answers a bare integer; every other call is signed with
  ``$1$`` + SHA1(secret+consumer+METHOD+URL+body+timestamp) over the exact URL
  and body; a timestamp too far from the server clock is refused.
* errors are JSON objects with ``message`` (and ``errorCode`` where OVH sets one),
  with the statuses python-ovh maps (400, 403, 404, 409).
* bodies are validated against the schema (:mod:`verifier.lab.api.schema`).
* creating, deleting and re-authenticating a connector, and creating an account,
  are tasks that go todo -> doing -> done after a configurable delay; the object
  is ``creating``/``deleting`` with ``taskPendingId`` set meanwhile.
* state lives in one JSON file (:mod:`verifier.lab.api.state`); a restart resumes
  unfinished tasks.
* a RouteHook receives the complete list of routes whenever routing changes.

Use :class:`ApiEmulator` in-process (``await start()`` / ``await stop()``) or in a
background thread (``start_in_thread()`` / ``stop_thread()``).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from verifier.errors import LabError
from verifier.lab.api import schema
from verifier.lab.api.errors import ApiFailure
from verifier.lab.api.errors import bad as _bad
from verifier.lab.api.errors import not_found as _not_found
from verifier.lab.api.handlers.accounts import AccountHandlers
from verifier.lab.api.handlers.auth import CredentialHandlers
from verifier.lab.api.handlers.connectors import ConnectorHandlers
from verifier.lab.api.handlers.domains import DomainHandlers
from verifier.lab.api.handlers.tasks import TaskHandlers
from verifier.lab.api.matching import MAX_JSON_DEPTH, json_depth_exceeds
from verifier.lab.api.scheduler import TaskScheduler
from verifier.lab.api.signature import MAX_SKEW_SECONDS, SignatureChecks, _rule_matches
from verifier.lab.api.state import StateStore, now_iso
from verifier.lab.routes import Route, RouteHook

log = logging.getLogger("verifier.lab.api")

__all__ = ["MAX_SKEW_SECONDS", "ApiEmulator", "ApiFailure", "DemoCredentials", "_rule_matches"]


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """The emulator's demo credentials (secrets of a local demo only)."""

    application_key: str
    application_secret: str = field(repr=False)
    consumer_key: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    read_only_consumer_key: str = field(repr=False)


class ApiEmulator(
    TaskScheduler,
    SignatureChecks,
    CredentialHandlers,
    ConnectorHandlers,
    AccountHandlers,
    DomainHandlers,
    TaskHandlers,
):
    """The emulator: state, server life cycle, dispatch and the route hook.

    The rest comes from one mixin per concern: signature checking
    (:mod:`~verifier.lab.api.signature`), one handler module per resource
    (:mod:`~verifier.lab.api.handlers`), and the task scheduler
    (:mod:`~verifier.lab.api.scheduler`).
    """

    def __init__(
        self,
        state_dir: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        task_delay: float = 2.0,
        route_hook: RouteHook | None = None,
        max_skew: int = MAX_SKEW_SECONDS,
    ) -> None:
        self.store = StateStore(state_dir)
        self.host = host
        self.port = port
        self.task_delay = max(0.0, float(task_delay))
        self.route_hook = route_hook
        self.max_skew = max_skew
        self.data, self.seeded = self.store.load_or_seed()
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._task_runners: dict[int, asyncio.Task[None]] = {}
        self._lock = threading.Lock()
        self._fail_next = 0
        self._auth_time_offset = 0
        self._last_routes: list[Route] | None = None
        self._hook_lock: asyncio.Lock | None = None
        self._hook_pending: set[asyncio.Task[None]] = set()
        self.hook_errors = 0
        self._dir_lock: int | None = None

    def __repr__(self) -> str:
        return f"ApiEmulator(state_dir={str(self.store.dir)!r}, url={self.base_url!r})"

    # --- public API --------------------------------------------------------------

    @property
    def credentials(self) -> DemoCredentials:
        c = self.data["credentials"]
        return DemoCredentials(
            application_key=c["applicationKey"],
            application_secret=c["applicationSecret"],
            consumer_key=c["consumerKey"],
            client_id=c["clientId"],
            client_secret=c["clientSecret"],
            read_only_consumer_key=c["readOnlyConsumerKey"],
        )

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The endpoint URL to give ``--endpoint`` (ends in ``/1.0``)."""
        return f"{self.root_url}/1.0"

    def environment(self) -> dict[str, str]:
        """``OVH_*`` variables that make python-ovh and verifier talk to this emulator."""
        c = self.credentials
        return {
            "OVH_ENDPOINT": self.base_url,
            "OVH_APPLICATION_KEY": c.application_key,
            "OVH_APPLICATION_SECRET": c.application_secret,
            "OVH_CONSUMER_KEY": c.consumer_key,
        }

    def fail_next_tasks(self, count: int = 1) -> None:
        """Make the next ``count`` tasks end in ``error`` (their change is not applied)."""
        with self._lock:
            self._fail_next = max(0, int(count))

    def set_auth_time_offset(self, seconds: int) -> None:
        """Make ``/auth/time`` lie by ``seconds`` (a broken time source), so clients sign stale timestamps."""
        with self._lock:
            self._auth_time_offset = int(seconds)

    def routes(self) -> list[Route]:
        """The complete route list as the state stands."""
        out: list[Route] = []
        for org in self.data["organizations"].values():
            for svc in org["services"].values():
                connectors = svc["connectors"]
                for address, account in sorted(svc["accounts"].items()):
                    cid = account.get("sendConnectorId") or 0
                    if not cid or account.get("state") not in ("ok",):
                        continue
                    conn = connectors.get(str(cid))
                    if conn is None or conn.get("state") not in ("ok",):
                        continue
                    mech = conn.get("smartHostAuthMechanism") or "none"
                    out.append(
                        Route(
                            address=address.lower(),
                            connector_id=int(cid),
                            smart_host=conn["smartHost"],
                            port=int(conn["port"]),
                            require_tls=bool(conn["requireTLS"]) or mech == "basicAuthRequireTLS",
                            auth_mechanism=mech,
                            user=conn.get("_user") if mech != "none" else None,
                            password=conn.get("_password") if mech != "none" else None,
                        )
                    )
        return out

    def secrets_in_use(self) -> list[str]:
        """Every secret the emulator holds (for redaction in logs)."""
        c = self.data["credentials"]
        out = [c["applicationSecret"], c["clientSecret"], *c["consumers"].keys()]
        for org in self.data["organizations"].values():
            for svc in org["services"].values():
                for conn in svc["connectors"].values():
                    if conn.get("_password"):
                        out.append(conn["_password"])
                for task in svc["tasks"].values():
                    pw = (task.get("_action") or {}).get("password")
                    if pw:
                        out.append(pw)
        return [s for s in out if s]

    async def start(self) -> None:
        """Start serving on ``host:port`` (port 0 picks a free one) in the running loop."""
        self._take_dir_lock()
        try:
            # Read again under the lock: another emulator may have run since __init__.
            self.data, _seeded = self.store.load_or_seed()
        except BaseException:
            self._release_dir_lock()
            raise
        self._loop = asyncio.get_running_loop()
        self._hook_lock = asyncio.Lock()
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            self._release_dir_lock()
            raise
        addresses = self._runner.addresses
        if addresses and self.port == 0:
            self.port = int(addresses[0][1])
        # Resume what was in flight when the state was saved.
        for svc_key, task in self._all_tasks():
            if task["status"] in ("todo", "doing"):
                self._schedule(svc_key, int(task["id"]))
        self._notify_routes(force=True)

    async def stop(self) -> None:
        """Stop serving; unfinished tasks stay in the state file and resume at next start."""
        for runner in list(self._task_runners.values()):
            runner.cancel()
        for runner in list(self._task_runners.values()):
            try:
                await runner
            except (asyncio.CancelledError, Exception):
                pass
        self._task_runners.clear()
        await self.hooks_idle()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.store.save(self.data)
        self._release_dir_lock()

    def _take_dir_lock(self) -> None:
        """One running emulator per state directory: two would overwrite each other's state."""
        path = self.store.dir / ".lock"
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LabError(f"Another emulator is already using the state directory {self.store.dir}.") from None
        self._dir_lock = fd

    def _release_dir_lock(self) -> None:
        fd, self._dir_lock = self._dir_lock, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    async def hooks_idle(self) -> None:
        """Wait until every route-hook call scheduled so far has returned."""
        while self._hook_pending:
            await asyncio.gather(*list(self._hook_pending), return_exceptions=True)

    async def tasks_idle(self) -> None:
        """Wait until no task is running."""
        while self._task_runners:
            await asyncio.gather(*list(self._task_runners.values()), return_exceptions=True)

    def start_in_thread(self) -> ApiEmulator:
        """Serve from a background thread with its own event loop; returns once listening."""
        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the caller below
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="ovh-api-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            raise errors[0]
        return self

    def stop_thread(self, timeout: float = 30.0) -> None:
        """Stop a server started with ``start_in_thread``."""
        if self._thread is None or self._loop is None:
            return
        loop = self._loop
        future = asyncio.run_coroutine_threadsafe(self.stop(), loop)
        try:
            future.result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout)
            self._thread = None

    def call_in_loop(self, fn: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
        """Run a coroutine function in the server's loop from another thread (thread mode)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result(timeout)

    # --- HTTP --------------------------------------------------------------------

    def _next(self, counter: str) -> int:
        counters = self.data["counters"]
        value = int(counters[counter])
        counters[counter] = value + 1
        return value

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        query_id = f"EU.ext-lab.{secrets.token_hex(6)}"
        try:
            raw = await request.read()
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self._reply(400, ApiFailure(400, "Body is not UTF-8").body(), query_id)
        path = request.path
        try:
            if path == "/auth/oauth2/token" and request.method == "POST":
                return self._oauth2_token(request, text)
            if path in ("/auth", "/auth/"):
                return self._validation_page(request, text)
            if not path.startswith("/1.0/"):
                raise _not_found("Got an invalid (or empty) URL")
            sub = path[len("/1.0") :]
            if sub == "/auth/time":
                if request.method != "GET":
                    raise ApiFailure(405, "Method not allowed")
                with self._lock:
                    offset = self._auth_time_offset
                return self._reply(200, int(time.time()) + offset, query_id)
            if sub == "/auth/credential":
                self._allow(request.method, "POST")
                result = self._credential_request(request, text)
                return self._reply(200, result, query_id)
            consumer_key = self._authenticate(request, text, sub)
            body: Any = None
            if text:
                body = self._parse_json(text)
            if sub == "/auth/currentCredential":
                self._allow(request.method, "GET")
                result = self._current_credential(consumer_key)
            else:
                result = self._dispatch(request.method, sub, request.query, body)
            log.info("%s %s -> 200", request.method, sub)
            return self._reply(200, result, query_id)
        except ApiFailure as failure:
            log.info("%s %s -> %s %s", request.method, path, failure.status, failure.error_code or "")
            return self._reply(failure.status, failure.body(), query_id)
        except Exception:  # a bug in the emulator: an honest 500, traceback in the log
            log.exception("internal error on %s %s", request.method, path)
            return self._reply(500, {"message": "Internal server error"}, query_id)

    @staticmethod
    def _parse_json(text: str) -> Any:
        if json_depth_exceeds(text, MAX_JSON_DEPTH):
            raise _bad(f"Invalid JSON received: nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise _bad("Invalid JSON received") from None

    @staticmethod
    def _reply(status: int, payload: Any, query_id: str) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(payload),
            content_type="application/json",
            headers={"X-OVH-QUERYID": query_id},
        )

    # --- routing -----------------------------------------------------------------

    def _dispatch(self, method: str, sub: str, query: Any, body: Any) -> Any:
        parts = sub.strip("/").split("/")
        if parts[:2] != ["email", "exchange"]:
            raise _not_found("Got an invalid (or empty) URL")
        rest = parts[2:]
        if not rest:
            self._allow(method, "GET")
            return sorted(self.data["organizations"])
        org_name = rest[0]
        org = self.data["organizations"].get(org_name)
        if org is None:
            raise _not_found("This service does not exist")
        if len(rest) == 1:
            raise _not_found("Got an invalid (or empty) URL")
        if rest[1] != "service":
            raise _not_found("Got an invalid (or empty) URL")
        if len(rest) == 2:
            self._allow(method, "GET")
            return sorted(org["services"])
        svc_name = rest[2]
        svc = org["services"].get(svc_name)
        if svc is None:
            raise _not_found("This service does not exist")
        key = (org_name, svc_name)
        tail = rest[3:]
        if not tail:
            if method == "GET":
                return self._public(svc["service"])
            self._allow(method, "PUT")
            schema.validate(body, schema.EXCHANGE_SERVICE, current=svc["service"])
            self._apply_writable(svc["service"], body, schema.EXCHANGE_SERVICE)
            svc["service"]["lastUpdateDate"] = now_iso()
            self._save()
            return None
        kind = tail[0]
        if kind == "sendConnector":
            return self._connectors(method, key, svc, tail[1:], body)
        if kind == "account":
            return self._accounts(method, key, svc, tail[1:], query, body)
        if kind == "domain":
            return self._domains(method, key, svc, tail[1:], query, body)
        if kind == "task":
            return self._tasks(method, svc, tail[1:])
        raise _not_found("Got an invalid (or empty) URL")

    # --- persistence and hook ----------------------------------------------------

    def _save(self) -> None:
        self.store.save(self.data)

    def _notify_routes(self, force: bool = False) -> None:
        if self.route_hook is None:
            return
        routes = self.routes()
        if not force and routes == self._last_routes:
            return
        self._last_routes = routes
        loop = asyncio.get_running_loop()
        runner = loop.create_task(self._call_hook(routes))
        self._hook_pending.add(runner)
        runner.add_done_callback(self._hook_pending.discard)

    async def _call_hook(self, routes: list[Route]) -> None:
        assert self._hook_lock is not None and self.route_hook is not None
        async with self._hook_lock:  # one call at a time, in order
            try:
                await asyncio.to_thread(self.route_hook, list(routes))
            except Exception as exc:
                self.hook_errors += 1
                text = str(exc)
                for secret in self.secrets_in_use():
                    text = text.replace(secret, "***")
                log.error("route hook failed: %s: %s", type(exc).__name__, text)
