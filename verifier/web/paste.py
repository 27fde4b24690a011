"""The local paste page: paste headers into a browser, get the analysis.

Listens on loopback by default (a warning is printed for any other address).
Nothing pasted is stored or sent anywhere: each request is analysed in memory,
in a worker process, and forgotten.

Routes:
  GET  /                 the form (``?smarthost=&platform=&trusted_authserv=`` fill it in)
  POST /analyze          form or multipart (paste box or uploaded file): the HTML report
  POST /analyze.json     the same input: the JSON report, as a download
  POST /analyze.txt      the same input: the text report, as a download
  POST /api/analyze      the raw headers as the body (options in the query): the JSON
  GET  /static/page.css, /static/page.js

Limits (see docs/page.md): a request body over ``max_bytes`` is a 413; an
analysis runs in a bounded pool of processes with a time limit (a 503 when the
pool is full or the limit is reached); request headers must arrive within
``header_timeout`` seconds and the body within ``body_timeout``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
from dataclasses import replace

from aiohttp import web

from verifier.errors import NetworkError, UsageError
from verifier.report.html import PAGE_CSP

POOL = web.AppKey("pool", object)  # the app's AnalysisPool

MAX_PASTE_BYTES = 32 * 1024 * 1024  # a request body: a 10 MB paste still fits once form-encoded
HEADER_TIMEOUT = 10.0  # seconds for a request's line and headers to arrive
BODY_TIMEOUT = 30.0  # seconds for the request body to arrive
ANALYSIS_TIMEOUT = 60.0  # seconds for one analysis in a worker
MAX_CONNECTIONS = 256  # open connections; one more is answered 503 and closed

SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.replace("\n", ",").split(",") if x.strip())


def options_from(base, get) -> object:
    """Options from form/query fields (``get(name) -> str``), over the server's own."""
    sh = _split_list(get("smarthost"))
    pf = _split_list(get("platform"))
    ta = _split_list(get("trusted_authserv"))
    opts = base
    if sh:
        opts = replace(opts, smarthosts=sh)
    if pf:
        opts = replace(opts, platform=pf)
    if ta:
        opts = replace(opts, trusted_authserv_ids=ta)
    return opts


def build_app(
    options,
    *,
    workers: int = 2,
    queue: int = 16,
    analysis_timeout: float = ANALYSIS_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
    max_bytes: int = MAX_PASTE_BYTES,
):
    from aiohttp import web

    from verifier.report.html import form_values_for, render_page, static_file
    from verifier.web.pool import AnalysisPool, PoolFull, Timeout, WorkerDied
    from verifier.web.work import Job

    pool = AnalysisPool(size=workers, queue=queue, timeout=analysis_timeout)

    def page_error(status: int, title: str, message: str, opts=None, text: str = ""):
        body = render_page(None, form=form_values_for(opts or options, text), error=message, error_title=title)
        return web.Response(status=status, text=body, content_type="text/html")

    def plain_error(status: int, message: str, kind: str):
        if kind == "page":
            return page_error(status, "Not analysed:", message)
        if kind == "text":
            return web.Response(status=status, text=f"verifier: {message}\n", content_type="text/plain")
        return web.json_response({"error": message}, status=status)

    @web.middleware
    async def guard(request, handler):
        try:
            resp = await handler(request)
        except web.HTTPRequestEntityTooLarge:
            resp = _too_large(request)
        except web.HTTPException as exc:
            resp = web.Response(status=exc.status, text=exc.text, content_type="text/plain")
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp

    def _too_large(request):
        msg = f"The request is larger than the {max_bytes // (1024 * 1024)} MiB limit: paste only the message's headers, not its attachments."
        kind = "api" if request.path.startswith("/api/") or request.path.endswith(".json") else "page"
        return plain_error(413, msg, kind)

    async def index(request):
        opts = options_from(options, lambda k: request.query.get(k, ""))
        return web.Response(text=render_page(None, form=form_values_for(opts)), content_type="text/html")

    async def static(request):
        name = request.match_info["name"]
        if name not in ("page.css", "page.js"):
            raise web.HTTPNotFound()
        ctype = "text/css" if name.endswith(".css") else "text/javascript"
        return web.Response(text=static_file(name), content_type=ctype, headers={"Cache-Control": "no-cache"})

    async def _read_form(request):
        """(text, file bytes or None, file name or None, field getter); raises for bad bodies."""
        if request.content_length is not None and request.content_length > max_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=request.content_length)
        form = await asyncio.wait_for(request.post(), body_timeout)
        upload = form.get("file")
        data = name = None
        if upload is not None and hasattr(upload, "file"):
            data = upload.file.read(max_bytes + 1)
            name = upload.filename or "upload"
            if not data:
                data = name = None
        text = form.get("headers", "")
        text = text if isinstance(text, str) else ""

        def get(k: str) -> str:
            v = form.get(k, "")
            return v if isinstance(v, str) else ""

        return text, data, name, get

    async def _analyse(kind: str, job: Job):
        try:
            out = await pool.run(job)
        except PoolFull:
            return plain_error(503, f"The server is busy: {pool.size + pool.queue} analyses are already running or waiting. Try again in a moment.", kind)
        except Timeout:
            return plain_error(503, f"The analysis took longer than {pool.timeout:g} s and was stopped. Paste only the message's headers.", kind)
        except WorkerDied:
            return plain_error(503, "The analysis stopped before it finished (the worker process ended); nothing was kept. Try a smaller paste.", kind)
        headers = {}
        if out.filename and out.status == 200:
            headers["Content-Disposition"] = f'attachment; filename="{out.filename}"'
        return web.Response(status=out.status, text=out.body, content_type=out.content_type, charset="utf-8", headers=headers)

    def form_handler(kind: str):
        async def handle(request):
            try:
                text, data, name, get = await _read_form(request)
            except web.HTTPRequestEntityTooLarge:
                return _too_large(request)
            except TimeoutError:
                return plain_error(408, f"The request body did not arrive within {body_timeout:g} s.", kind)
            except LookupError:
                return plain_error(400, "The request names a character set this server does not know; send the form as UTF-8.", kind)
            except (ValueError, UnicodeDecodeError, AssertionError):
                return plain_error(400, "The request body is not a well-formed form (urlencoded or multipart).", kind)
            except Exception as exc:  # aiohttp raises its own parser errors for broken multipart
                if exc.__class__.__module__.startswith("aiohttp"):
                    return plain_error(400, "The request body is not a well-formed form (urlencoded or multipart).", kind)
                raise
            opts = options_from(options, get)
            if data is not None:
                job = Job(kind, data, opts, filename=name, form_text="")
            else:
                job = Job(kind, text.encode("utf-8", "surrogateescape"), opts, form_text=text)
            return await _analyse(kind, job)

        return handle

    async def api(request):
        if request.content_length is not None and request.content_length > max_bytes:
            return _too_large(request)
        try:
            data = await asyncio.wait_for(request.read(), body_timeout)
        except web.HTTPRequestEntityTooLarge:
            return _too_large(request)
        except TimeoutError:
            return plain_error(408, f"The request body did not arrive within {body_timeout:g} s.", "api")
        opts = options_from(options, lambda k: ",".join(request.query.getall(k, [])))
        return await _analyse("api", Job("api", data, opts))

    async def on_startup(app):
        await pool.start()

    async def on_cleanup(app):
        await pool.close()

    app = web.Application(client_max_size=max_bytes, middlewares=[guard])
    app[POOL] = pool
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.add_routes(
        [
            web.get("/", index),
            web.get("/static/{name}", static),
            web.post("/analyze", form_handler("page")),
            web.post("/analyze.json", form_handler("json")),
            web.post("/analyze.txt", form_handler("text")),
            web.post("/api/analyze", api),
        ]
    )
    return app


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not (0 <= int(port) < 65536):
        raise UsageError(f"--listen needs HOST:PORT, not '{listen}'.")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Watchdog:
    """Closes connections that send no complete request line and headers in time.

    A connection is checked every ``timeout`` seconds: if no new request began
    since the last check and none is being handled, it is closed. This bounds
    how long a slow or silent client holds a socket (and a file descriptor).
    """

    def __init__(self, timeout: float, max_connections: int = MAX_CONNECTIONS) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self.state: dict[int, list] = {}  # id(protocol) -> [requests begun, requests active]
        self.protos: dict[int, asyncio.BaseProtocol] = {}  # the open connections' protocols

    def middleware(self):
        from aiohttp import web

        @web.middleware
        async def track(request, handler):
            st = self.state.get(id(request.protocol))
            if st is not None:
                st[0] += 1
                st[1] += 1
            try:
                return await handler(request)
            finally:
                if st is not None:
                    st[1] -= 1

        return track

    def factory(self, server):
        loop = asyncio.get_running_loop()

        def forget(key: int) -> None:
            self.state.pop(key, None)
            self.protos.pop(key, None)

        def make():
            if len(self.protos) >= self.max_connections:
                for key in [k for k, p in self.protos.items() if p.transport is None or p.transport.is_closing()]:
                    forget(key)  # closed since their last check
                if len(self.protos) >= self.max_connections:
                    return _Busy()
            proto = server()
            key = id(proto)
            self.state[key] = [0, 0]
            self.protos[key] = proto

            def check(seen: int) -> None:
                st = self.state.get(key)
                tr = proto.transport
                if st is None or tr is None or tr.is_closing():
                    forget(key)
                    return
                if st[0] == seen and st[1] == 0:
                    tr.close()
                    forget(key)
                    return
                loop.call_later(self.timeout, check, st[0])

            loop.call_later(self.timeout, check, 0)
            return proto

        return make


class _Busy(asyncio.Protocol):
    """A connection over the limit: one 503 with a sentence, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        body = b"The server has too many open connections; try again in a moment.\n"
        transport.write(  # type: ignore[attr-defined]
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Retry-After: 5\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        transport.close()


async def start_server(app, host: str, port: int, *, header_timeout: float = HEADER_TIMEOUT,
                       max_connections: int = MAX_CONNECTIONS):
    """Bind and start; returns (runner, bound port). Raises ``NetworkError`` if it cannot listen."""
    from aiohttp import web

    dog = _Watchdog(header_timeout, max_connections)
    app.middlewares.insert(0, dog.middleware())
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=header_timeout, handle_signals=False)
    await runner.setup()
    loop = asyncio.get_running_loop()
    try:
        srv = await loop.create_server(dog.factory(runner.server), host, port, reuse_address=True, backlog=128)
    except socket.gaierror as exc:
        await runner.cleanup()
        raise NetworkError(f"cannot listen on {host}:{port}: the host name does not resolve ({exc.strerror}).") from exc
    except OSError as exc:
        await runner.cleanup()
        why = "the port is already in use" if exc.errno == 98 else (exc.strerror or str(exc)).lower()
        raise NetworkError(f"cannot listen on {host}:{port}: {why}.") from exc
    return runner, srv, srv.sockets[0].getsockname()[1]


def _raise_fd_limit() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    except (ImportError, ValueError, OSError):
        pass


def serve(listen: str, options, *, workers: int = 2) -> int:
    from verifier.stopping import until_stopped

    host, port = parse_listen(listen)
    _raise_fd_limit()

    async def main() -> None:
        app = build_app(options, workers=workers)
        runner, srv, bound = await start_server(app, host, port)
        try:
            if not is_loopback(host):
                sys.stderr.write(
                    f"verifier: WARNING: listening on {host}, not on loopback: anyone who can reach this address can use the page "
                    "(nothing is stored, but pasted headers cross the network unencrypted).\n"
                )
            shown = f"[{host}]" if ":" in host else host
            sys.stderr.write(f"verifier: paste page on http://{shown}:{bound}/ (Ctrl-C to stop)\n")
            sys.stderr.flush()
            await until_stopped()
        finally:
            srv.close()
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


__all__ = ["build_app", "serve", "start_server", "parse_listen", "is_loopback"]
