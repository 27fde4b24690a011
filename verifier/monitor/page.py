"""The status page: every target, its state, a timeline of its last runs (inline SVG),
the last route change with its evidence, and links to each run's stored analysis.

Self-contained HTML: no script, no external font or style. Every value that
came from a run, a config or a mailbox is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from html import escape

COLOURS = {"delivered": "#2e7d32", "late": "#f9a825", "lost": "#c62828", "bounced": "#c62828",
           "wrong-route": "#6a1b9a", "not-sent": "#616161", "sent": "#90a4ae"}
TIMELINE_RUNS = 40

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin:0 0 .4rem}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #eee;font-size:.9rem}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}
.legend span{display:inline-block;margin-right:.8rem;font-size:.8rem}
"""


def _when(t: float | None) -> str:
    if not t:
        return "-"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def timeline_svg(runs: list[dict], role: str, width: int = 640, height: int = 90) -> str:
    """One bar per run (oldest left): colour = the message's state, height = delivery time."""
    runs = list(reversed(runs[:TIMELINE_RUNS]))
    if not runs:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="20" role="img"><text x="0" y="14" font-size="12">no run yet</text></svg>'
    legs = [next((g for g in r["legs"] if g["role"] == role), None) for r in runs]
    times = [g["delivery_seconds"] for g in legs if g and isinstance(g.get("delivery_seconds"), int | float)]
    top = max(times + [1.0])
    bw = width / max(len(runs), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 16}" role="img" '
             f'aria-label="{escape(role)} timeline">']
    for i, (r, g) in enumerate(zip(runs, legs, strict=True)):
        state = g["state"] if g else "not-sent"
        d = g.get("delivery_seconds") if g else None
        h = height if not isinstance(d, int | float) else max(3.0, height * d / top)
        if state in ("lost", "bounced", "not-sent"):
            h = height
        colour = COLOURS.get(state, "#999")
        verdict = g.get("verdict") if g else None
        title = f"run {r['id']} {_when(r['started'])}: {state}, verdict {verdict or '-'}, " + (
            f"delivered in {d:.2f} s" if isinstance(d, int | float) else "no delivery time")
        x = i * bw
        parts.append(f'<a href="/runs/{int(r["id"])}"><rect x="{x + 1:.1f}" y="{height - h:.1f}" width="{max(bw - 2, 1):.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{escape(title)}</title></rect></a>')
    parts.append(f'<text x="0" y="{height + 13}" font-size="11">max {top:.1f} s</text></svg>')
    return "".join(parts)


def render_status(monitor) -> str:
    h = monitor.history
    out = ["<!doctype html><html lang=en><head><meta charset=utf-8>",
           "<meta name=viewport content='width=device-width, initial-scale=1'>",
           f"<title>verifier monitor</title><style>{_CSS}</style></head><body>",
           f"<h1>verifier monitor</h1><p>{len(monitor.cfg.targets)} targets; page made {escape(_when(time.time()))}. "
           "<a href='/metrics'>metrics</a></p>",
           "<p class=legend>" + "".join(f"<span style='color:{c}'>&#9632; {escape(s)}</span>" for s, c in COLOURS.items()) + "</p>"]
    for t in monitor.cfg.targets:
        runs = h.runs(t.name, limit=TIMELINE_RUNS)
        last = runs[0] if runs else None
        state = "no run yet" if last is None else ("OK" if last["ok"] else "FAILING")
        cls = "ok" if last and last["ok"] else "bad"
        out.append(f"<section><h2>{escape(t.name)} <span class={cls}>{escape(state)}</span></h2>")
        out.append(f"<p>every {t.interval:g} s; profile {escape(t.source)}"
                   + (f"; last run <a href='/runs/{int(last['id'])}'>#{int(last['id'])}</a> {escape(_when(last['started']))}" if last else "")
                   + (f" &mdash; {escape(last['error'])}" if last and last.get("error") else "") + "</p>")
        if last:
            out.append("<table><tr><th>leg</th><th>address</th><th>state</th><th>verdict</th><th>expected</th>"
                       "<th>connector</th><th>delivery</th></tr>")
            for g in last["legs"]:
                d = g.get("delivery_seconds")
                conn = f"{g['connector_id']} ({g.get('smart_host') or '-'})" if g.get("connector_id") is not None else "none"
                out.append("<tr>" + "".join(f"<td>{escape(str(x))}</td>" for x in (
                    g["role"], g["address"], g["state"], g.get("verdict") or "-", g.get("expected") or "-", conn,
                    f"{d:.2f} s" if isinstance(d, int | float) else "-")) + "</tr>")
            out.append("</table>")
        roles = ("sender", "control") if t.profile.control is not None else ("sender",)
        for role in roles:
            out.append(f"<p>{escape(role)}: {timeline_svg(runs, role)}</p>")
        evs = h.events(t.name, limit=1)
        if evs:
            ev = evs[0]
            e = ev["evidence"]
            out.append(f"<p><b>Last route change</b> {escape(_when(ev['at']))}: {escape(ev['role'])} {escape(ev['kind'])} "
                       f"{escape(str(ev['before']))} &rarr; {escape(str(ev['after']))}"
                       + (f" (run <a href='/runs/{int(ev['run_id'])}'>#{int(ev['run_id'])}</a>)" if ev.get("run_id") else "") + "</p>")
            if e.get("border_hop"):
                out.append(f"<p>border hop:</p><pre>{escape(e['border_hop'])}</pre>")
            if e.get("smarthost_hop"):
                out.append(f"<p>smarthost hop:</p><pre>{escape(e['smarthost_hop'])}</pre>")
            if e.get("findings"):
                out.append(f"<p>findings: <code>{escape(', '.join(map(str, e['findings'])))}</code></p>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


def render_run(run_id: int, js: str | None, text: str | None) -> str:
    pretty = json.dumps(json.loads(js), indent=2, ensure_ascii=False) if js else "null"
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>run {run_id}</title><style>{_CSS}</style></head><body>"
            f"<p><a href='/'>status</a> &middot; <a href='/runs/{run_id}.json'>JSON</a> &middot; "
            f"<a href='/runs/{run_id}.txt'>text</a></p><h1>Run {run_id}</h1>"
            f"<pre>{escape(text or '')}</pre><details><summary>analysis (JSON)</summary><pre>{escape(pretty)}</pre></details>"
            "</body></html>")
