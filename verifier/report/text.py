"""The terminal form of an analysis: verdict first, then the route, the border,
authentication, and the findings with what to fix.

Colour only when asked (the CLI asks when stdout is a terminal and NO_COLOR is
unset). Host names are never truncated: a support engineer needs them whole.
"""

from __future__ import annotations

from verifier.analysis.engine import (
    VERDICT_BYPASSED,
    VERDICT_INCONCLUSIVE,
    VERDICT_VIA_CONNECTOR,
    Analysis,
)

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2", "cyan": "36"}


class _Pen:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_COLOURS[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def _delay(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 1:
        return f"{seconds:.1f}s" if seconds else "0s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def _table(rows: list[list[str]], widths_from: list[list[str]] | None = None) -> list[str]:
    src = widths_from or rows
    n = max(len(r) for r in src)
    widths = [max(len(r[i]) for r in src if i < len(r)) for i in range(n)]
    out = []
    for r in rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
    return out


def render(a: Analysis, *, input_name: str | None = None, colour: bool = False) -> str:
    pen = _Pen(colour)
    lines: list[str] = []
    if input_name:
        lines.append(pen(f"== {input_name}", "bold"))
    v = a.verdict
    style = {VERDICT_VIA_CONNECTOR: "green", VERDICT_BYPASSED: "red", VERDICT_INCONCLUSIVE: "yellow"}.get(v, "yellow")
    vf = next((f for f in a.findings if f.code.startswith("verdict.")), None)
    lines.append(pen(f"Verdict: {v.upper()}", "bold", style) + (f"  {vf.message}" if vf else ""))
    h = a.headers
    frm = h.from_.address if h.from_ else None
    rp = h.return_path.address if h.return_path else None
    meta = []
    if frm:
        meta.append(f"From: {frm}")
    if rp:
        meta.append(f"Return-Path: {rp}")
    if h.subject:
        meta.append(f"Subject: {h.subject}")
    if meta:
        lines.append("  ".join(meta))
    lines.append("")

    # Route, oldest first
    if a.hops:
        lines.append(pen("Route (oldest first; # is the Received header's position, 0 = topmost)", "bold"))
        header = ["#", "zone", "from (HELO / rDNS [IP])", "by", "with", "TLS", "time (UTC)", "delay"]
        rows = []
        for hop in reversed(a.hops):
            r = hop.received
            ip = r.from_ip or ""
            if ip and r.ip_valid is False:
                ip += " (invalid)"
            names = [r.from_host or ""]
            if r.from_rdns and r.from_rdns != r.from_host:
                names.append(r.from_rdns)
            frm_txt = " / ".join(n for n in names if n) or "-"
            if ip:
                frm_txt += f" [{ip}]"
            ts = r.date.utc.strftime("%Y-%m-%d %H:%M:%S") if r.date and r.date.utc else "?"
            tls = {True: "yes", False: "no", None: "?"}[r.tls]
            if r.authenticated:
                tls += ",auth"
            mark = ">" if a.border and hop.index == a.border.index else " "
            rows.append([f"{mark}{hop.index}", hop.zone, frm_txt, r.by_host or "-", r.with_ or "-", tls, ts, _delay(hop.delay_seconds)])
        table = _table([header, *rows])
        lines.append(pen(table[0], "dim"))
        lines.extend(table[1:])
        if a.total_seconds is not None:
            lines.append(f"Total: {_delay(a.total_seconds)}")
        lines.append("")

    # Border
    b = a.border
    lines.append(pen("Border", "bold"))
    if b:
        who = b.sender_rdns or b.sender_host or "an unnamed host"
        ip = f" [{b.sender_ip}]" if b.sender_ip else ""
        lines.append(f"  {b.receiver or 'an unnamed host'} (Received #{b.index}) received it from {who}{ip}: {b.sender_zone}")
        lines.append(f"  evidence: {'; '.join(b.evidence)}")
    else:
        lines.append("  not found")
    lines.append("")

    # Authentication
    lines.append(pen("Authentication (results written by the recipient's side)", "bold"))
    rows = []
    for s in a.spf:
        t = a.trusted(s.header_index)
        if t is False:
            continue
        rows.append(["SPF", s.result, s.domain or "-", f"client {s.client_ip}" if s.client_ip else "", s.authserv_id or "Received-SPF"])
    for ar, r in a.method_results("dkim"):
        if a.trusted(ar.header_index) is False:
            continue
        d = r.properties.get("header.d") or r.properties.get("header.i") or "-"
        sel = r.properties.get("header.s")
        rows.append(["DKIM", r.result, f"d={d}" + (f" s={sel}" if sel else ""), "", ar.authserv_id or "-"])
    for ar, r in a.method_results("dmarc"):
        if a.trusted(ar.header_index) is False:
            continue
        rows.append(["DMARC", r.result, r.properties.get("header.from") or "-", "", ar.authserv_id or "-"])
    for ar, r in a.method_results("arc"):
        if a.trusted(ar.header_index) is False:
            continue
        rows.append(["ARC", r.result, "", "", ar.authserv_id or "-"])
    if rows:
        lines.extend("  " + x for x in _table(rows))
    else:
        lines.append("  no results recorded")
    for sig in h.dkim_signatures:
        lines.append(f"  DKIM-Signature d={sig.d or '?'} s={sig.s or '?'} a={sig.a or '?'} ({len(sig.h)} signed headers)")
    al = a.alignment
    if al:
        basis = "" if al.based_on == "results" else " (no results recorded: judged from Return-Path and d=)"
        lines.append(
            f"  Alignment with From {al.from_domain}: SPF {'aligned' if al.spf_aligned else 'not aligned'}"
            f" ({', '.join(al.spf_domains) or 'none'}), DKIM {'aligned' if al.dkim_aligned else 'not aligned'}"
            f" ({', '.join(al.dkim_domains) or 'none'}){basis}"
        )
    lines.append("")

    # Findings
    lines.append(pen("Findings", "bold"))
    sev_style = {"error": "red", "warning": "yellow", "info": "dim"}
    for f in a.findings:
        if f.code.startswith("verdict."):
            continue
        tag = pen(f"{f.severity.upper():7}", sev_style.get(f.severity, "dim"))
        refs = ""
        if f.headers:
            refs = pen("  [header " + ", ".join(_ref(a, i) for i in f.headers) + "]", "dim")
        lines.append(f"  {tag} {f.code}: {f.message}{refs}")
    return "\n".join(lines).rstrip() + "\n"


def _ref(a: Analysis, index: int) -> str:
    fields = a.headers.block.fields
    if 0 <= index < len(fields):
        f = fields[index]
        return f"{f.name}@line {f.line}"
    return str(index)
