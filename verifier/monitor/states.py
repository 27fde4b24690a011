"""What happened to each probe message, as one state per message.

``sent``        submitted; the run is still waiting (only seen mid-run or after a crash)
``delivered``   arrived within the timeout (the verdict says by which route)
``wrong-route`` arrived, but through the route the API says it must not take
``bounced``     a bounce quoting the token arrived instead
``lost``        did not arrive within the timeout (may still turn ``late``)
``late``        arrived after its run gave up: recorded against that run, never a later one's
``not-sent``    nothing was submitted: the API says the connector is not ready, or submission failed
"""

from __future__ import annotations

import json

from verifier.analysis.engine import VERDICT_BYPASSED, VERDICT_VIA_CONNECTOR

STATES = ("sent", "delivered", "wrong-route", "bounced", "lost", "late", "not-sent")
VERDICTS = ("via-connector", "bypassed", "inconclusive", "not-delivered")
ROUTED = (VERDICT_VIA_CONNECTOR, VERDICT_BYPASSED)
# failure reasons, as counted in verifier_probe_failures_total{reason}
REASONS = ("not-sent", "lost", "bounced", "wrong-route", "inconclusive", "error")


def leg_state(leg) -> str:
    """The state of one leg of a finished :class:`verifier.probe.run.ProbeResult`."""
    if leg.submitted is None:
        return "not-sent"
    if leg.bounce is not None:
        return "bounced"
    if leg.found is None:
        return "lost"
    if leg.verdict in ROUTED and leg.verdict != leg.expectation.expect:
        return "wrong-route"
    return "delivered"


def failure_reason(state: str, verdict: str | None, as_expected: bool) -> str | None:
    if state in ("not-sent", "lost", "bounced", "wrong-route"):
        return state
    if state == "late":
        return "lost"
    if state == "delivered" and not as_expected:
        return "inconclusive"
    return None


def _hop_text(hop) -> str | None:
    if hop is None:
        return None
    r = hop.received
    return r.raw if len(r.raw) <= 2000 else r.raw[:2000] + "..."


def leg_record(leg) -> dict:
    """A finished leg as a history row (see verifier.monitor.history)."""
    e = leg.expectation
    a = leg.analysis
    border_hop = smarthost_hop = None
    codes: list[str] = []
    if a is not None:
        codes = sorted({f.code for f in a.findings})
        if a.border is not None and 0 <= a.border.index < len(a.hops):
            border_hop = _hop_text(a.hops[a.border.index])
        sm = [h for h in a.hops if h.zone == "smarthost"]
        if sm:
            smarthost_hop = _hop_text(sm[-1])
    timings = {k: v for k, v in leg.timings.items() if isinstance(v, int | float)}
    folder = leg.found.folder if leg.found else (leg.bounce.folder if leg.bounce else None)
    if folder:
        timings_folder = {"folder": folder}
    else:
        timings_folder = {}
    state = leg_state(leg)
    return {
        "role": leg.role,
        "address": leg.account.address,
        "token": leg.token if leg.submitted is not None else None,
        "state": state,
        "verdict": leg.verdict if state != "not-sent" else None,
        "expected": e.expect,
        "expected_from": e.source,
        "connector_id": e.connector_id,
        "smart_host": e.smart_host,
        "sent_at": leg.sent_wall.timestamp() if leg.sent_wall else None,
        "arrived_at": leg.decided_at if leg.found is not None else None,
        "delivery_seconds": timings.get("mailbox"),
        "timings_json": json.dumps({**timings, **timings_folder}),
        "findings_json": json.dumps(codes),
        "border_hop": border_hop,
        "smarthost_hop": smarthost_hop,
        "error": leg.error,
        "as_expected": leg.as_expected,
    }


def not_sent_record(role: str, address: str, expect: str, error: str) -> dict:
    return {"role": role, "address": address, "token": None, "state": "not-sent", "verdict": None,
            "expected": expect, "expected_from": None, "connector_id": None, "smart_host": None,
            "sent_at": None, "arrived_at": None, "delivery_seconds": None, "timings_json": "{}",
            "findings_json": "[]", "border_hop": None, "smarthost_hop": None, "error": error, "as_expected": False}
