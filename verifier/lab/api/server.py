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
import base64
import fcntl
import hashlib
import hmac
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
from verifier.lab.api import credentials as ckflow
from verifier.lab.api import schema
from verifier.lab.api.matching import MAX_JSON_DEPTH, glob_match, json_depth_exceeds
from verifier.lab.api.state import StateStore, now_iso
from verifier.lab.routes import Route, RouteHook

log = logging.getLogger("verifier.lab.api")

MAX_SKEW_SECONDS = 180
TOKEN_LIFETIME = 3600


class ApiFailure(Exception):
    """An error answer: HTTP status and JSON body."""

    def __init__(self, status: int, message: str, error_code: str | None = None, cls: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.cls = cls

    def body(self) -> dict[str, Any]:
        reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
        out: dict[str, Any] = {"message": self.message}
        if self.error_code:
            out["errorCode"] = self.error_code
            out["httpCode"] = f"{self.status} {reasons.get(self.status, '')}".strip()
        elif self.cls:
            out["class"] = self.cls
        return out


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, message, cls="Client::BadRequest")


def _not_found(message: str) -> ApiFailure:
    return ApiFailure(404, message, cls="Client::NotFound")


def _conflict(message: str) -> ApiFailure:
    return ApiFailure(409, message, cls="Client::Conflict")


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """The emulator's demo credentials (secrets of a local demo only)."""

    application_key: str
    application_secret: str = field(repr=False)
    consumer_key: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    read_only_consumer_key: str = field(repr=False)


def _rule_matches(rule: dict[str, str], method: str, path: str) -> bool:
    """An access rule: the method, and a path where ``*`` matches any run (``/`` included)."""
    if rule.get("method") != method:
        return False
    return glob_match(str(rule.get("path", "")), path, many="*")


class ApiEmulator:
    """The emulator: state, task runner, route hook and the aiohttp application."""

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

    def _oauth2_token(self, request: web.Request, text: str) -> web.Response:
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(text).items()}
        cid = form.get("client_id")
        csecret = form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
                cid, _, csecret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                cid = csecret = None
        creds = self.data["credentials"]
        headers = {"Cache-Control": "no-store"}
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400, headers=headers)
        if not (
            cid
            and csecret
            and hmac.compare_digest(cid, creds["clientId"])
            and hmac.compare_digest(csecret, creds["clientSecret"])
        ):
            return web.json_response({"error": "invalid_client"}, status=401, headers=headers)
        token = secrets.token_urlsafe(32)
        self.data["tokens"][token] = int(time.time()) + TOKEN_LIFETIME
        self._save()
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "scope": "all"},
            headers=headers,
        )

    def _authenticate(self, request: web.Request, text: str, sub: str) -> str | None:
        """Check the call's credentials and rules; returns the consumer key (None for OAuth2)."""
        creds = self.data["credentials"]
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:].strip()
            expiry = self.data["tokens"].get(token)
            if expiry is None or expiry < time.time():
                raise ApiFailure(401, "The access token is invalid or expired")
            return None
        ak = request.headers.get("X-Ovh-Application")
        if not ak:
            raise ApiFailure(401, "You must login first")
        if not hmac.compare_digest(ak, creds["applicationKey"]):
            raise ApiFailure(403, "This application key is invalid", "INVALID_KEY")
        ck = request.headers.get("X-Ovh-Consumer")
        ts = request.headers.get("X-Ovh-Timestamp")
        sig = request.headers.get("X-Ovh-Signature")
        if not ck or not ts or not sig:
            raise ApiFailure(401, "You must login first")
        consumer = creds["consumers"].get(ck)
        if consumer is None or consumer.get("applicationKey") != ak:
            raise ApiFailure(403, "This credential does not exist", "INVALID_CREDENTIAL")
        if not ckflow.is_valid(consumer):
            raise ApiFailure(403, "This credential is not valid", "INVALID_CREDENTIAL")
        try:
            stamp = int(ts)
        except ValueError:
            raise ApiFailure(400, "Invalid signature", "INVALID_SIGNATURE") from None
        if abs(int(time.time()) - stamp) > self.max_skew:
            raise ApiFailure(400, "Query out of time", "QUERY_TIME_OUT")
        # The URL exactly as the client built it: scheme, Host header, raw path and query.
        url = f"{request.scheme}://{request.host}{request.raw_path}"
        expected = "$1$" + hashlib.sha1(
            "+".join([creds["applicationSecret"], ck, request.method.upper(), url, text, ts]).encode()
        ).hexdigest()
        if not hmac.compare_digest(expected, sig):
            raise ApiFailure(400, "Invalid signature", "INVALID_SIGNATURE")
        if not any(_rule_matches(rule, request.method, sub) for rule in consumer.get("rules", [])):
            raise ApiFailure(403, "This call has not been granted", "NOT_GRANTED_CALL")
        return ck

    # --- consumer keys -------------------------------------------------------------

    def _credential_request(self, request: web.Request, text: str) -> dict[str, Any]:
        """``POST /auth/credential``: unsigned, only a valid application key."""
        creds = self.data["credentials"]
        ak = request.headers.get("X-Ovh-Application") or ""
        if not ak or not hmac.compare_digest(ak, creds["applicationKey"]):
            raise ApiFailure(403, "This application key is invalid", "INVALID_KEY")
        body = self._parse_json(text) if text else None
        try:
            rules, redirection = ckflow.check_request(body)
        except ckflow.CredentialRequestError as exc:
            raise _bad(str(exc)) from None
        ck, token = ckflow.new_request(creds, ak, rules, redirection)
        self._save()
        log.info("consumer key requested with %d rule(s); pending validation", len(rules))
        return {
            "consumerKey": ck,
            "state": ckflow.PENDING,
            "validationUrl": f"{request.scheme}://{request.host}/auth/?credentialToken={token}",
        }

    def _validation_page(self, request: web.Request, text: str) -> web.Response:
        """The validation URL: GET shows the rules, POST validates (``decision=refuse`` refuses)."""
        from urllib.parse import parse_qs

        token = request.query.get("credentialToken", "")
        found = ckflow.find_by_token(self.data["credentials"], token)
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; form-action 'self'",
                   "X-Frame-Options": "DENY"}
        if found is None:
            return web.Response(status=404, text="Unknown or already answered credential request.\n",
                                content_type="text/plain", headers=headers)
        _ck, consumer = found
        if request.method == "GET":
            return web.Response(text=ckflow.validation_page(consumer, token), content_type="text/html",
                                headers=headers)
        if request.method != "POST":
            raise ApiFailure(405, f"Method {request.method} not allowed here")
        decision = (parse_qs(text).get("decision") or ["validate"])[0]
        ckflow.decide(consumer, accept=decision != "refuse")
        self._save()
        log.info("consumer key %s", consumer["state"])
        return web.Response(text=f"Credential {consumer['state']}.\n", content_type="text/plain", headers=headers)

    def _current_credential(self, consumer_key: str | None) -> dict[str, Any]:
        if consumer_key is None:
            raise _not_found("OAuth2 access tokens have no consumer key to describe")
        creds = self.data["credentials"]
        out = ckflow.describe(creds, creds["consumers"][consumer_key])
        self._save()
        return out

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

    # --- send connectors ---------------------------------------------------------

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

    @staticmethod
    def _require_idle(obj: dict[str, Any], what: str) -> None:
        if obj.get("taskPendingId"):
            raise _conflict(f"A task ({obj['taskPendingId']}) is already pending on this {what}")
        if obj.get("state") != "ok":
            raise _conflict(f"This {what} is in state {obj.get('state')} and cannot be changed")

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

    # --- accounts ----------------------------------------------------------------

    def _account(self, svc: dict[str, Any], address: str) -> dict[str, Any]:
        acc = svc["accounts"].get(address) or svc["accounts"].get(address.lower())
        if acc is None:
            raise _not_found(f"The requested object (primaryEmailAddress = {address}) does not exist")
        return acc

    def _accounts(self, method: str, key: tuple[str, str], svc: dict[str, Any], tail: list[str], query: Any, body: Any) -> Any:
        if not tail:
            if method == "GET":
                return self._filter_accounts(svc, query)
            self._allow(method, "POST")
            return self._create_account(key, svc, body)
        acc = self._account(svc, tail[0])
        if len(tail) > 1 and tail[1] == "tasks" and len(tail) <= 3:
            self._allow(method, "GET")
            mine = {
                str(t["id"]): t
                for t in svc["tasks"].values()
                if t.get("_account") == acc["primaryEmailAddress"]
            }
            if len(tail) == 2:
                return sorted(int(i) for i in mine)
            tid = self._long("id", tail[2])
            if str(tid) not in mine:
                raise _not_found(f"The requested object (id = {tid}) does not exist")
            return self._public(mine[str(tid)])
        if len(tail) > 1:
            raise _not_found("Got an invalid (or empty) URL")
        if method == "GET":
            return self._public(acc)
        self._allow(method, "PUT")
        return self._update_account(svc, acc, body)

    @staticmethod
    def _like(pattern: str, value: str) -> bool:
        """SQL LIKE, as the API's filters: ``%`` any run, ``_`` one character, any case."""
        return glob_match(pattern, value or "", many="%", one="_", fold=True)

    def _filter_accounts(self, svc: dict[str, Any], query: Any) -> list[str]:
        out = []
        for address, acc in sorted(svc["accounts"].items()):
            if "primaryEmailAddress" in query and not self._like(query["primaryEmailAddress"], address):
                continue
            if "company" in query and not self._like(query["company"], acc.get("company") or ""):
                continue
            if "id" in query and not self._like(query["id"], str(acc.get("id"))):
                continue
            if "accountLicense" in query:
                if query["accountLicense"] not in schema.ENUMS["OvhLicenceEnum"]:
                    raise _bad(f"[accountLicense] Given data ({query['accountLicense']}) does not belong to the OvhLicenceEnum enumeration")
                if acc.get("accountLicense") != query["accountLicense"]:
                    continue
            out.append(address)
        return out

    def _check_connector_ref(self, svc: dict[str, Any], name: str, cid: int | None) -> None:
        if not cid:
            return
        conn = svc["connectors"].get(str(cid))
        if conn is None or conn["state"] in ("deleting",):
            raise _bad(f"[{name}] Send connector {cid} does not exist on this service")

    def _update_account(self, svc: dict[str, Any], acc: dict[str, Any], body: Any) -> None:
        body = self._validate(body, schema.ACCOUNT, current=self._public(acc))
        if acc.get("state") != "ok":
            raise _conflict(f"This account is in state {acc.get('state')} and cannot be changed")
        if acc.get("taskPendingId"):
            raise _conflict(f"A task ({acc['taskPendingId']}) is already pending on this account")
        if "sendConnectorId" in body:
            self._check_connector_ref(svc, "sendConnectorId", body["sendConnectorId"])
            spam = body.get("spamAndVirusConfiguration") or acc["spamAndVirusConfiguration"]
            if not spam.get("deleteVirus"):
                raise _bad(
                    "[spamAndVirusConfiguration.deleteVirus] Must be true to change the send connector of an account"
                )
        self._apply_writable(acc, body, schema.ACCOUNT)
        if "sendConnectorId" in body and not body["sendConnectorId"]:
            acc["sendConnectorId"] = 0
        acc["lastUpdateDate"] = now_iso()
        self._save()
        self._notify_routes()
        return None

    def _create_account(self, key: tuple[str, str], svc: dict[str, Any], body: Any) -> dict[str, Any]:
        from verifier.lab.api.state import new_account

        body = self._validate(body, schema.ACCOUNT_CREATE)
        domain = svc["domains"].get(body["domain"])
        if domain is None:
            raise _bad(f"[domain] Domain {body['domain']} is not on this service")
        address = f"{body['login']}@{body['domain']}".lower()
        if address in svc["accounts"]:
            raise _conflict(f"Account {address} already exists")
        cid = body.get("sendConnectorId")
        if cid is None:
            cid = domain.get("sendConnectorIdDefault") or None
        self._check_connector_ref(svc, "sendConnectorId", cid)
        spam = body.get("spamAndVirusConfiguration")
        task = self._new_task(svc, "addAccount", {"kind": "account", "address": address})
        acc = new_account(
            address,
            account_id=self._next("account"),
            display_name=body.get("displayName") or body["login"],
            license=body["license"],
            send_connector_id=cid,
            state="creating",
            task_pending_id=task["id"],
        )
        if spam:
            acc["spamAndVirusConfiguration"] = dict(spam)
        for name in ("firstName", "lastName", "company", "hiddenFromGAL", "outlookLicense", "litigation", "litigationPeriod", "sbrDestination"):
            if body.get(name) is not None:
                acc[name] = body[name]
        svc["accounts"][address] = acc
        self._save()
        self._schedule(key, task["id"])
        return self._public(task)

    # --- domains -----------------------------------------------------------------

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

    # --- tasks -------------------------------------------------------------------

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
