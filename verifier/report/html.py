"""The HTML form of an analysis: one self-contained page, every value escaped."""

from __future__ import annotations

from html import escape

from verifier.analysis.engine import Analysis
from verifier.report.text import _delay

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;max-width:80em}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.mono{font-family:ui-monospace,monospace}
.v-via-connector{color:#0a6b1f}.v-bypassed{color:#b00020}.v-inconclusive,.v-not-delivered{color:#8a5a00}
.error{color:#b00020}.warning{color:#8a5a00}.info{color:#555}tr.border td{background:#eef6ff}
textarea{width:100%;height:18em;font-family:ui-monospace,monospace;font-size:12px}
"""


def _e(v) -> str:
    return escape("" if v is None else str(v))


def render_body(a: Analysis, *, input_name: str | None = None) -> str:
    h = a.headers
    parts = []
    if input_name:
        parts.append(f"<p class=mono>{_e(input_name)}</p>")
    vf = next((f for f in a.findings if f.code.startswith("verdict.")), None)
    parts.append(f"<h1 class='v-{_e(a.verdict)}'>Verdict: {_e(a.verdict)}</h1>")
    if vf:
        parts.append(f"<p>{_e(vf.message)}</p>")
    meta = [(k, v) for k, v in (("From", h.from_.address if h.from_ else None), ("Return-Path", h.return_path.address if h.return_path else None), ("Subject", h.subject)) if v]
    if meta:
        parts.append("<p>" + " &middot; ".join(f"<b>{_e(k)}</b>: {_e(v)}" for k, v in meta) + "</p>")
    parts.append("<h2>Route (oldest first)</h2><table><tr><th>#</th><th>zone</th><th>from</th><th>rDNS</th><th>IP</th><th>by</th><th>with</th><th>TLS</th><th>time (UTC)</th><th>delay</th></tr>")
    for hop in reversed(a.hops):
        r = hop.received
        cls = " class=border" if a.border and a.border.index == hop.index else ""
        ip = _e(r.from_ip) + (" <span class=error>(invalid)</span>" if r.from_ip and r.ip_valid is False else "")
        ts = r.date.utc.strftime("%Y-%m-%d %H:%M:%S") if r.date and r.date.utc else "?"
        tls = {True: "yes", False: "no", None: "?"}[r.tls]
        parts.append(
            f"<tr{cls}><td>{hop.index}</td><td>{_e(hop.zone)}</td><td class=mono>{_e(r.from_host)}</td><td class=mono>{_e(r.from_rdns)}</td>"
            f"<td class=mono>{ip}</td><td class=mono>{_e(r.by_host)}</td><td>{_e(r.with_)}</td><td>{tls}</td><td>{ts}</td><td>{_delay(hop.delay_seconds)}</td></tr>"
        )
    parts.append("</table>")
    b = a.border
    parts.append("<h2>Border</h2>")
    if b:
        parts.append(f"<p>{_e(b.receiver)} (Received #{b.index}) received it from <b>{_e(b.sender_rdns or b.sender_host)}</b> [{_e(b.sender_ip)}]: {_e(b.sender_zone)}<br><small>evidence: {_e('; '.join(b.evidence))}</small></p>")
    else:
        parts.append("<p>not found</p>")
    parts.append("<h2>Findings</h2><table><tr><th>severity</th><th>code</th><th>what it means</th></tr>")
    for f in a.findings:
        parts.append(f"<tr><td class='{_e(f.severity)}'>{_e(f.severity)}</td><td class=mono>{_e(f.code)}</td><td>{_e(f.message)}</td></tr>")
    parts.append("</table>")
    return "\n".join(parts)


def page(title: str, body: str) -> str:
    return f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"


def render(a: Analysis, *, input_name: str | None = None) -> str:
    return page("verifier analysis", render_body(a, input_name=input_name))
