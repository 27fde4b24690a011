"""The local paste page: paste headers into a browser, get the analysis.

Listens on loopback by default. Nothing pasted is stored or sent anywhere;
each request is analysed in memory and forgotten. POST /api/analyze takes
the raw headers as the request body and answers the same JSON as
``verifier analyze --json``.
"""

from __future__ import annotations

import sys

from verifier.errors import UsageError

MAX_PASTE_BYTES = 10 * 1024 * 1024

FORM = """<h1>verifier: paste headers</h1>
<p>Paste a message's headers (as copied from a mail client, a web page, or an .eml). Nothing is stored.</p>
<form method=post action=/analyze>
<textarea name=headers placeholder="Received: from ...">{text}</textarea>
<p><label>Smarthost (optional): <input name=smarthost size=40 value="{smarthost}"></label>
<button type=submit>Analyse</button></p>
</form>"""


def build_app(options):
    from dataclasses import replace
    from html import escape

    from aiohttp import web

    from verifier.analysis.engine import analyze_bytes
    from verifier.report.html import page, render_body
    from verifier.report.json_report import to_json

    async def index(request):
        body = FORM.format(text="", smarthost=escape(", ".join(options.smarthosts)))
        return web.Response(text=page("verifier", body), content_type="text/html")

    async def analyze(request):
        form = await request.post()
        text = str(form.get("headers", ""))
        sh = tuple(x.strip() for x in str(form.get("smarthost", "")).split(",") if x.strip())
        opts = replace(options, smarthosts=sh) if sh else options
        a = analyze_bytes(text.encode("utf-8", "surrogateescape"), opts)
        body = render_body(a) + "<hr>" + FORM.format(text=escape(text), smarthost=escape(", ".join(opts.smarthosts)))
        return web.Response(text=page("verifier analysis", body), content_type="text/html")

    async def api(request):
        data = await request.read()
        sh = tuple(x for x in request.query.getall("smarthost", []) if x)
        opts = replace(options, smarthosts=sh) if sh else options
        return web.json_response(to_json(analyze_bytes(data, opts)))

    app = web.Application(client_max_size=MAX_PASTE_BYTES)
    app.add_routes([web.get("/", index), web.post("/analyze", analyze), web.post("/api/analyze", api)])
    return app


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not (0 <= int(port) < 65536):
        raise UsageError(f"--listen needs HOST:PORT, not '{listen}'.")
    return host.strip("[]") or "127.0.0.1", int(port)


def serve(listen: str, options) -> int:
    from aiohttp import web

    host, port = parse_listen(listen)
    sys.stderr.write(f"verifier: paste page on http://{host}:{port}/ (Ctrl-C to stop)\n")
    web.run_app(build_app(options), host=host, port=port, print=None)
    return 0
