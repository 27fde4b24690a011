"""Probe results as text, JSON and Nagios/Icinga plugin output."""

from __future__ import annotations

from verifier.probe.run import ProbeResult
from verifier.report.json_report import to_json
from verifier.report.text import render as render_analysis

NAGIOS_OK, NAGIOS_WARNING, NAGIOS_CRITICAL, NAGIOS_UNKNOWN = 0, 1, 2, 3


def result_to_json(r: ProbeResult) -> dict:
    legs = []
    for leg in r.legs:
        e = leg.expectation
        legs.append(
            {
                "role": leg.role,
                "address": leg.account.address,
                "token": leg.token,
                "expected": e.expect,
                "expected_from": e.source,
                "connector": None
                if e.connector_id is None
                else {"id": e.connector_id, "smart_host": e.smart_host, "port": e.smart_port, "state": e.connector_state},
                "verdict": leg.verdict,
                "as_expected": leg.as_expected,
                "error": leg.error,
                "queue_id": leg.submitted.queue_id if leg.submitted else None,
                "submit_attempts": leg.submitted.attempts if leg.submitted else None,
                "folder": leg.found.folder if leg.found else (leg.bounce.folder if leg.bounce else None),
                "internaldate": leg.found.internaldate if leg.found else None,
                "timings": leg.timings,
                "checks": leg.checks.to_json() if leg.checks is not None else None,
                "checks_error": leg.checks_error,
                "analysis": to_json(leg.analysis) if leg.analysis else None,
            }
        )
    return {
        "profile": r.profile,
        "ok": r.ok,
        "platform_hostname": r.platform_hostname,
        "started": r.started.strftime("%Y-%m-%dT%H:%M:%SZ") if r.started else None,
        "seconds": r.seconds,
        "legs": legs,
        "swept": r.swept,
        "cleanup_error": r.cleanup_error,
        "watch": r.watch,
        "preflight": r.preflight.to_dict() if r.preflight is not None else None,
    }


def render_text(r: ProbeResult, *, colour: bool = False, route_changes: list[dict] | None = None) -> str:
    lines = []
    status = "OK" if r.ok else "FAILED"
    lines.append(f"Probe {status}: {r.profile} ({r.seconds:.1f} s, mailbox watched by {'IMAP IDLE' if r.watch == 'idle' else 'polling'})")
    for ch in route_changes or []:
        lines.append(f"  ROUTE CHANGED for the {ch['role']}: {ch['before']} -> {ch['after']} (previous run {ch['since']})")
    pf = r.preflight
    if pf is not None and not pf.ok:
        f = pf.first_failure
        lines.append(f"  smartHost check {pf.host}:{pf.port} failed at '{f.name}': {f.detail}")
    for leg in r.legs:
        e = leg.expectation
        mark = "as expected" if leg.as_expected else f"EXPECTED {e.expect.upper()}"
        via = f" via connector {e.connector_id} ({e.smart_host}:{e.smart_port})" if e.connector_id else ""
        lines.append(f"  {leg.role:8} {leg.account.address}: {leg.verdict} — {mark} (the {'API' if e.source == 'api' else 'profile'} says {e.expect}{via})")
        if leg.error:
            lines.append(f"           {leg.error}")
        t = leg.timings
        if t:
            parts = [f"{k} {v}s" for k, v in t.items() if k != "folder" and v is not None]
            if leg.submitted is not None and leg.submitted.attempts > 1 and parts and parts[0].startswith("submit "):
                parts[0] += f" ({leg.submitted.attempts} attempts)"
            if t.get("folder"):
                parts.append(f"found in {t['folder']}")
            lines.append("           " + ", ".join(parts))
        c = leg.checks
        if c is not None:
            dk = ", ".join(f"d={v.d} {v.result}" for v in c.dkim) or "no signature"
            spf = f"SPF {c.spf.result} for {c.spf.domain}" if c.spf else "SPF not re-evaluated"
            dm = f"DMARC {c.dmarc.result}" if c.dmarc else "DMARC not evaluated"
            lines.append(f"           live checks: DKIM {dk}; {spf}; {dm}")
        if leg.checks_error:
            lines.append(f"           live checks failed: {leg.checks_error}")
    if r.swept:
        lines.append(f"Swept {r.swept} leftover probe message(s) from earlier runs.")
    if r.cleanup_error:
        lines.append(f"Cleanup: {r.cleanup_error}")
    for leg in r.legs:
        if leg.analysis is not None:
            lines.append("")
            lines.append(f"--- {leg.role} message ({leg.account.address}) ---")
            lines.append(render_analysis(leg.analysis, colour=colour).rstrip())
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def nagios(r: ProbeResult, route_changes: list[dict] | None = None, *,
           warning: float | None = None, critical: float | None = None) -> tuple[int, str]:
    """Status line with perfdata, and the plugin exit code.

    ``warning``/``critical``: seconds from submission to the mailbox above which a delivered
    leg is WARNING/CRITICAL. A value that could not be measured is ``U`` in the perfdata."""
    code = NAGIOS_OK
    parts = [f"route changed for {c['role']} ({c['before']} -> {c['after']})" for c in route_changes or []]
    for leg in r.legs:
        mb = leg.timings.get("mailbox")
        if leg.as_expected:
            parts.append(f"{leg.role} {leg.verdict}")
            if leg.analysis and any(f.code in ("dkim.fail", "spf.not-pass") for f in leg.analysis.findings):
                code = max(code, NAGIOS_WARNING)
            if leg.checks is not None and any(v.result not in ("pass", "header-only") for v in leg.checks.dkim):
                code = max(code, NAGIOS_WARNING)
        else:
            parts.append(f"{leg.role} {leg.verdict} (expected {leg.expectation.expect})")
            code = NAGIOS_CRITICAL
        if isinstance(mb, int | float):
            if critical is not None and mb > critical:
                parts.append(f"{leg.role} delivery {mb:.1f} s > {critical:g} s")
                code = NAGIOS_CRITICAL
            elif warning is not None and mb > warning:
                parts.append(f"{leg.role} delivery {mb:.1f} s > {warning:g} s")
                code = max(code, NAGIOS_WARNING)
    if r.cleanup_error:
        code = max(code, NAGIOS_WARNING)
    word = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[code]
    perf = []
    for leg in r.legs:
        mb = leg.timings.get("mailbox")
        value = f"{mb:.3f}s" if isinstance(mb, int | float) else "U"
        perf.append(f"{leg.role}_delivery={value};{_num(warning)};{_num(critical)};0")
        perf.append(f"{leg.role}_route_ok={1 if leg.as_expected else 0};;1:;0;1")
    perf.append(f"duration={r.seconds:.3f}s;;;0")
    return code, f"VERIFIER PROBE {word} - " + "; ".join(parts) + " | " + " ".join(perf)


def nagios_unknown(message: str) -> str:
    """The UNKNOWN status line: one line, whatever the message holds."""
    return "VERIFIER PROBE UNKNOWN - " + " ".join(message.replace("|", "/").split())
