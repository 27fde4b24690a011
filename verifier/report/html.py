"""The HTML form of an analysis: one renderer for ``verifier analyze --html`` and the paste page.

Jinja2 templates with autoescaping (``templates/page.html.j2``): every value
from the headers is escaped by the template engine, never by hand. The page
needs no external script, font or image. The standalone file (``--html``)
carries its style and script inline, allowed by a Content-Security-Policy
``<meta>`` that names their SHA-256 hashes; the paste page serves them as
files under ``/static/`` and its CSP allows only ``'self'``.

Everything is shown without JavaScript; the script adds copy/download buttons,
jump-to-line highlighting and .eml drop. Lists that grow with the input are
drawn up to a cap (the JSON always has everything), so a huge paste gives a
page a browser can still open.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from urllib.parse import urlencode

from verifier.analysis.engine import Analysis
from verifier.analysis.hosts import DEFAULT_PLATFORM_PATTERNS
from verifier.report.model import HeaderRef, Report, build, duration

MAX_HOPS_DRAWN = 60  # route diagram and delay bars: the oldest and newest 30 beyond this
MAX_FINDINGS_SHOWN = 300
MAX_DEFECTS_SHOWN = 200
MAX_LINES_SHOWN = 5000
MAX_EXPORT_FIELDS = 3000  # past this many header fields the JSON/text exports are downloads only

VERDICT_TITLES = {
    "via-connector": "Sent through the send connector",
    "bypassed": "Bypassed the send connector",
    "inconclusive": "Route not proven",
    "not-delivered": "Not delivered",
}

# The CSP of the paste page (sent as a header). The standalone file gets its own, with hashes.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@cache
def static_file(name: str) -> str:
    return resources.files("verifier.report").joinpath("templates", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("verifier.report", "templates"),
        autoescape=True,  # every template here is HTML
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def standalone_csp() -> str:
    return (
        f"default-src 'none'; script-src {_sha256(static_file('page.js'))}; style-src {_sha256(static_file('page.css'))}; "
        "img-src data:; form-action 'none'; base-uri 'none'"
    )


@dataclass
class FormValues:
    headers: str = ""
    smarthost: str = ""
    platform: str = ""
    trusted_authserv: str = ""


def form_values_for(options, headers: str = "") -> FormValues:
    platform = "" if tuple(options.platform) == tuple(DEFAULT_PLATFORM_PATTERNS) else ", ".join(options.platform)
    return FormValues(headers, ", ".join(options.smarthosts), platform, ", ".join(options.trusted_authserv_ids))


def permalink_for(options) -> str:
    """``/?smarthost=..&platform=..&trusted_authserv=..``: the options, never the headers."""
    q = []
    if options.smarthosts:
        q.append(("smarthost", ", ".join(options.smarthosts)))
    if tuple(options.platform) != tuple(DEFAULT_PLATFORM_PATTERNS):
        q.append(("platform", ", ".join(options.platform)))
    if options.trusted_authserv_ids:
        q.append(("trusted_authserv", ", ".join(options.trusted_authserv_ids)))
    return "/" + ("?" + urlencode(q) if q else "")


def _bar_width(seconds: float | None, top: float) -> str:
    if not seconds or top <= 0:
        return "0"
    return f"{max(0.8, 100.0 * seconds / top):.1f}"


def _auth_cards(rep: Report) -> list[dict]:
    def state(results: list[str]) -> tuple[str, str]:
        if not results:
            return "none", "none"
        if all(r == "pass" for r in results):
            return "pass", "pass"
        if any(r in ("fail", "permerror", "softfail") for r in results):
            return "fail", "/".join(dict.fromkeys(results))
        return "other", "/".join(dict.fromkeys(results))

    # A card's headline counts only results the recipient's side wrote (or all, when the
    # border is unknown); untrusted results are still listed, marked as such.
    cards = []
    st, res = state([s.result for s in rep.spf if s.trusted is not False])
    cards.append(
        {
            "method": "spf",
            "title": "SPF",
            "state": st,
            "result": res,
            "empty": "No SPF result was recorded.",
            "entries": [
                {
                    "result": s.result,
                    "text": f"for {s.domain or 'an unnamed domain'}" + (f" ({s.identity})" if s.identity else "") + (f", client {s.client_ip}" if s.client_ip else ""),
                    "who": s.authserv_id or ("Received-SPF" if s.source == "received-spf" else "-"),
                    "trusted": s.trusted,
                    "header": s.header_index,
                }
                for s in rep.spf
            ],
        }
    )
    st, res = state([d.result for d in rep.dkim if d.trusted is not False])
    items = [
        {"result": d.result, "text": f"d={d.domain or '?'}" + (f" s={d.selector}" if d.selector else ""), "who": d.authserv_id or "-", "trusted": d.trusted, "header": d.header_index}
        for d in rep.dkim
    ]
    items += [
        {"result": None, "text": f"signature d={s.d or '?'} s={s.s or '?'} a={s.a or '?'}, {len(s.h)} signed headers", "who": None, "trusted": None, "header": s.header_index}
        for s in rep.dkim_signatures
    ]
    cards.append({"method": "dkim", "title": "DKIM", "state": st, "result": res, "empty": "No DKIM signature and no DKIM result.", "entries": items})
    st, res = state([d.result for d in rep.dmarc if d.trusted is not False])
    items = [
        {"result": d.result, "text": f"From {d.header_from or '?'}" + (f", policy {d.policy}" if d.policy else ""), "who": d.authserv_id or "-", "trusted": d.trusted, "header": d.header_index}
        for d in rep.dmarc
    ]
    al = rep.alignment
    if al is not None:
        basis = "" if al.based_on == "results" else " (judged from Return-Path and d=: no results recorded)"
        items.append(
            {
                "result": "aligned" if (al.spf_aligned or al.dkim_aligned) else "not aligned",
                "text": f"with From {al.from_domain or '?'}: SPF {'aligned' if al.spf_aligned else 'not aligned'} ({', '.join(al.spf_domains) or 'none'}), "
                f"DKIM {'aligned' if al.dkim_aligned else 'not aligned'} ({', '.join(al.dkim_domains) or 'none'}){basis}",
                "who": None,
                "trusted": None,
                "header": None,
            }
        )
        if not rep.dmarc:
            st, res = ("pass", "aligned") if (al.spf_aligned or al.dkim_aligned) else ("fail", "not aligned")
    cards.append({"method": "dmarc", "title": "DMARC", "state": st, "result": res, "empty": "No DMARC result and no From domain to align with.", "entries": items})
    st, res = state([x.result for x in rep.arc if x.trusted is not False])
    items = [{"result": x.result, "text": "ARC chain", "who": x.authserv_id or "-", "trusted": x.trusted, "header": x.header_index} for x in rep.arc]
    if rep.arc_sets:
        items.append({"result": None, "text": "instances present: " + ", ".join(str(i) for i in rep.arc_sets[:50]), "who": None, "trusted": None, "header": None})
    cards.append({"method": "arc", "title": "ARC", "state": st, "result": res, "empty": "No ARC headers.", "entries": items})
    return cards


def context(rep: Report, *, text_report: str | None = None) -> dict:
    """Template values for one report (shared by the file and the page)."""
    from verifier.report.text import render_report

    hops = rep.hops_oldest_first
    hidden = 0
    drawn: list = list(hops)
    if len(hops) > MAX_HOPS_DRAWN:
        half = MAX_HOPS_DRAWN // 2
        drawn = [*hops[:half], None, *hops[-half:]]
        hidden = len(hops) - 2 * half
    top = rep.max_delay
    proof = rep.verdict_refs
    if not proof and rep.border is not None:
        proof = tuple(HeaderRef(h.index, h.name, h.line) for h in rep.header_lines if h.index == rep.border.header_index)
    line_of = {h.index: f"{h.name}@line {h.line}" for h in rep.header_lines}
    small = len(rep.header_lines) <= MAX_EXPORT_FIELDS
    return {
        "r": rep,
        "proof": proof,
        "line_of": line_of,
        "hops_drawn": drawn,
        "hops_hidden": hidden,
        "bar_width": lambda s: _bar_width(s, top),
        "dur": duration,
        "verdict_titles": VERDICT_TITLES,
        "auth_cards": _auth_cards(rep),
        "findings_shown": rep.other_findings[:MAX_FINDINGS_SHOWN],
        "findings_hidden": max(0, len(rep.other_findings) - MAX_FINDINGS_SHOWN),
        "defects_shown": rep.defects[:MAX_DEFECTS_SHOWN],
        "lines_shown": rep.header_lines[:MAX_LINES_SHOWN],
        "lines_hidden": max(0, len(rep.header_lines) - MAX_LINES_SHOWN),
        "export_json": json.dumps(rep.to_json(), ensure_ascii=False, indent=2) if small else None,
        "export_text": (text_report if text_report is not None else render_report(rep, colour=False)) if small else None,
        "permalink": permalink_for(rep.options),
    }


def render_page(
    rep: Report | None,
    *,
    form: FormValues | None = None,
    error: str | None = None,
    error_title: str = "No analysis:",
    standalone: bool = False,
    title: str = "verifier: header analysis",
) -> str:
    """The whole page: the form (when given), an error (when given), and the report (when given)."""
    ctx: dict = {"r": None, "permalink": None}
    if rep is not None:
        ctx.update(context(rep))
    ctx.update(
        {
            "form": form,
            "error": error,
            "error_title": error_title,
            "standalone": standalone,
            "title": title,
            "home": "/" if form is not None else "#main",
        }
    )
    if standalone:
        ctx["permalink"] = None  # a file has no server to link to
        ctx.update({"css": static_file("page.css"), "js": static_file("page.js"), "csp": standalone_csp()})
    return _env().get_template("page.html.j2").render(**ctx)


def render(a: Analysis | Report, *, input_name: str | None = None) -> str:
    """A self-contained HTML file (``verifier analyze --html``)."""
    rep = a if isinstance(a, Report) else build(a, input_name=input_name)
    return render_page(rep, standalone=True, title=f"verifier: {rep.verdict}" + (f" ({rep.input_name})" if rep.input_name else ""))
