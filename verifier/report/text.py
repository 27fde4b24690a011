"""The terminal form of an analysis: verdict first, then the route, the border,
authentication, and the findings with what to fix.

Colour only when asked (the CLI asks when stdout is a terminal and NO_COLOR is
unset). Host names are never truncated: a support engineer needs them whole.
Every value taken from the headers goes through ``safe_text`` whatever the
colour setting: a control character in a header (an escape sequence, a
carriage return) is shown as ``\\x1b``, never sent to the terminal.
"""

from __future__ import annotations

from verifier.analysis.engine import (
    VERDICT_BYPASSED,
    VERDICT_INCONCLUSIVE,
    VERDICT_VIA_CONNECTOR,
    Analysis,
)
from verifier.report.model import Report, build, duration, safe_text

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2", "cyan": "36"}
_delay = duration  # kept for callers of the old name


class _Pen:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_COLOURS[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def _table(rows: list[list[str]], widths_from: list[list[str]] | None = None) -> list[str]:
    src = widths_from or rows
    n = max(len(r) for r in src)
    widths = [max(len(r[i]) for r in src if i < len(r)) for i in range(n)]
    out = []
    for r in rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
    return out


def _s(v) -> str:
    return safe_text("" if v is None else str(v))


def render(a: Analysis | Report, *, input_name: str | None = None, colour: bool = False) -> str:
    rep = a if isinstance(a, Report) else build(a, input_name=input_name, header_lines=False)
    return render_report(rep, colour=colour)


def render_report(rep: Report, *, colour: bool = False) -> str:
    pen = _Pen(colour)
    lines: list[str] = []
    if rep.input_name:
        lines.append(pen(f"== {_s(rep.input_name)}", "bold"))
    lk = rep.likely_unproven
    if lk is not None:
        style = {VERDICT_VIA_CONNECTOR: "green", VERDICT_BYPASSED: "red"}.get(lk.route, "yellow")
        lines.append(pen(f"Likely route: {_s(lk.route).upper()} ({_s(lk.confidence)})", "bold", style) + f"  {_s(lk.reason)}")
    v = rep.verdict
    style = {VERDICT_VIA_CONNECTOR: "green", VERDICT_BYPASSED: "red", VERDICT_INCONCLUSIVE: "yellow"}.get(v, "yellow")
    vf = rep.verdict_finding
    label = "Strict verdict" if lk is not None else "Verdict"
    lines.append(pen(f"{label}: {_s(v).upper()}", "bold", style) + (f"  {_s(vf.message)}" if vf else ""))
    m = rep.meta
    meta = []
    if m.from_:
        meta.append(f"From: {_s(m.from_)}")
    if m.return_path:
        meta.append(f"Return-Path: {_s(m.return_path)}")
    if m.subject:
        meta.append(f"Subject: {_s(m.subject)}")
    if meta:
        lines.append("  ".join(meta))
    lines.append("")

    # Route, oldest first
    if rep.hops:
        lines.append(pen("Route (oldest first; # is the Received header's position, 0 = topmost)", "bold"))
        header = ["#", "zone", "from (HELO / rDNS [IP])", "by", "with", "TLS", "time (UTC)", "delay"]
        rows = []
        for hop in rep.hops_oldest_first:
            ip = hop.from_ip or ""
            if ip and hop.ip_valid is False:
                ip += " (invalid)"
            frm_txt = hop.sender_label
            if ip:
                frm_txt += f" [{ip}]"
            ts = hop.timestamp.strftime("%Y-%m-%d %H:%M:%S") if hop.timestamp else "?"
            tls = {True: "yes", False: "no", None: "?"}[hop.tls]
            if hop.authenticated:
                tls += ",auth"
            mark = ">" if hop.border else " "
            delay = "skew" if hop.delay_state == "skew" else duration(hop.delay_seconds)
            rows.append([f"{mark}{hop.index}", hop.zone, _s(frm_txt), _s(hop.by_host or "-"), _s(hop.with_ or "-"), tls, ts, delay])
        table = _table([header, *rows])
        lines.append(pen(table[0], "dim"))
        lines.extend(table[1:])
        if rep.total_seconds is not None:
            lines.append(f"Total: {duration(rep.total_seconds)}")
        lines.append("")

    # Border
    b = rep.border
    lines.append(pen("Border", "bold"))
    if b:
        who = b.sender_host or "an unnamed host"
        ip = f" [{b.sender_ip}]" if b.sender_ip else ""
        lines.append(_s(f"  {b.receiver or 'an unnamed host'} (Received #{b.index}) received it from {who}{ip}: {b.sender_zone}"))
        lines.append(_s(f"  evidence: {'; '.join(b.evidence)}"))
    else:
        lines.append("  not found")
    lines.append("")

    # Authentication
    lines.append(pen("Authentication (results written by the recipient's side)", "bold"))
    rows = []
    for s in rep.spf:
        if s.trusted is False:
            continue
        rows.append(["SPF", _s(s.result), _s(s.domain or "-"), _s(f"client {s.client_ip}" if s.client_ip else ""), _s(s.authserv_id or "Received-SPF")])
    for d in rep.dkim:
        if d.trusted is False:
            continue
        rows.append(["DKIM", _s(d.result), _s(f"d={d.domain or '-'}" + (f" s={d.selector}" if d.selector else "")), "", _s(d.authserv_id or "-")])
    for d in rep.dmarc:
        if d.trusted is False:
            continue
        rows.append(["DMARC", _s(d.result), _s(d.header_from or "-"), "", _s(d.authserv_id or "-")])
    for x in rep.arc:
        if x.trusted is False:
            continue
        rows.append(["ARC", _s(x.result), "", "", _s(x.authserv_id or "-")])
    if rows:
        lines.extend("  " + x for x in _table(rows))
    else:
        lines.append("  no results recorded")
    for sig in rep.dkim_signatures:
        lines.append(_s(f"  DKIM-Signature d={sig.d or '?'} s={sig.s or '?'} a={sig.a or '?'} ({len(sig.h)} signed headers)"))
    al = rep.alignment
    if al:
        basis = "" if al.based_on == "results" else " (no results recorded: judged from Return-Path and d=)"
        lines.append(
            _s(
                f"  Alignment with From {al.from_domain}: SPF {'aligned' if al.spf_aligned else 'not aligned'}"
                f" ({', '.join(al.spf_domains) or 'none'}), DKIM {'aligned' if al.dkim_aligned else 'not aligned'}"
                f" ({', '.join(al.dkim_domains) or 'none'}){basis}"
            )
        )
    lines.append("")

    # Findings
    lines.append(pen("Findings", "bold"))
    sev_style = {"error": "red", "warning": "yellow", "info": "dim"}
    for f in rep.other_findings:
        tag = pen(f"{f.severity.upper():7}", sev_style.get(f.severity, "dim"))
        refs = ""
        if f.headers:
            labels = {r.index: r.label for r in f.refs}
            refs = pen("  [header " + ", ".join(_s(labels.get(i, str(i))) for i in f.headers) + "]", "dim")
        lines.append(f"  {tag} {_s(f.code)}: {_s(f.message)}{refs}")
        if f.fix:
            lines.append(f"          fix: {f.fix}")
    if rep.defects:
        lines.append("")
        lines.append(pen("Parser notes (what was repaired or could not be read)", "bold"))
        for d in rep.defects:
            where = f" [{_s(d.header_name)}]" if d.header_name else (f" [header {d.header_index}]" if d.header_index is not None else "")
            lines.append(f"  {_s(d.code)}: {_s(d.message)}{where}")
    return "\n".join(lines).rstrip() + "\n"
