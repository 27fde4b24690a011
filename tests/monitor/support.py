"""Helpers for the monitor's tests that need no lab: configs and leg records."""

from __future__ import annotations

import json
from pathlib import Path

PROFILE = {
    "sender": {"address": "newsletter@mydomain.test", "smtp_host": "mail.platform.test", "expect": "via-connector",
               "password_env": "VERIFIER_TEST_UNSET"},
    "control": {"address": "contact@mydomain.test", "smtp_host": "mail.platform.test", "expect": "bypassed",
                "password_env": "VERIFIER_TEST_UNSET"},
    "recipient": {"address": "john.smith@guides.test", "imap_host": "imap.guides.test", "imap_address": "127.0.0.1",
                  "password_env": "VERIFIER_TEST_UNSET"},
}


def toml_value(v) -> str:
    import tomli_w

    return tomli_w.dumps({"x": v}).split("=", 1)[1].strip()


def write_config(tmp: Path, *, extra: str = "", targets: tuple[str, ...] = ("lab",), listen: str = "127.0.0.1:0") -> Path:
    import tomli_w

    data = {"monitor": {"listen": listen, "history": str(tmp / "h.sqlite"), "interval": 120, "jitter": 0},
            "target": [{"name": n, "probe": PROFILE} for n in targets]}
    path = tmp / "monitor.toml"
    path.write_text(tomli_w.dumps(data) + extra)
    return path


def leg(role: str = "sender", *, state: str = "delivered", verdict: str | None = "via-connector",
        expected: str = "via-connector", connector_id: int | None = 7, as_expected: bool | None = None,
        token: str = "vprobe-00000000aaaaaaaaaaaaaaaa", delivery: float | None = 1.5) -> dict:
    if as_expected is None:
        as_expected = verdict == expected and state == "delivered"
    return {"role": role, "address": f"{role}@mydomain.test", "token": token, "state": state, "verdict": verdict,
            "expected": expected, "expected_from": "api", "connector_id": connector_id,
            "smart_host": "smtp.relay.test" if connector_id else None, "sent_at": 1000.0, "arrived_at": 1001.5,
            "delivery_seconds": delivery, "timings_json": json.dumps({"submit": 0.2, "mailbox": delivery} if delivery else {}),
            "findings_json": json.dumps(["border.from-smarthost"]), "border_hop": "from out.relay.test by mx.guides.test",
            "smarthost_hop": "from mail.platform.test by smtp.relay.test", "error": None if as_expected else "failed",
            "as_expected": as_expected}
