"""The probe profile of the lab (``verifier lab env``), in TOML or as shell assignments.

Secrets are given by reference only: each ``*_file`` key names a file of mode
0600 holding one secret on one line. The format is documented in docs/lab.md.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from verifier.lab import topology as t
from verifier.lab.layout import Layout

PROFILE_VERSION = 1


def profile(layout: Layout, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile as nested dicts (sections -> keys)."""
    ovh = state.get("ovh") or {}
    secrets = layout.secrets
    return {
        "profile": {"version": PROFILE_VERSION, "name": "lab", "state_dir": str(layout.root)},
        "platform": {
            "endpoint": ovh.get("endpoint", ""),
            "application_key": ovh.get("application_key", ""),
            "application_secret_file": str(secrets / "ovh-application-secret"),
            "consumer_key_file": str(secrets / "ovh-consumer-key"),
            "organization": t.ORGANIZATION,
            "service": t.SERVICE,
            "hostname": t.PLATFORM_NAME,
        },
        "sender": {
            "address": t.ATTACHED_SENDER,
            "login": t.ATTACHED_SENDER,
            "password_file": str(layout.password_file(t.ATTACHED_SENDER)),
            "submission_host": t.PLATFORM_NAME,
            "submission_address": t.PLATFORM_IP,
            "submission_port": t.SUBMISSION_PORT,
            "submission_tls": "starttls",
        },
        "control": {
            "address": t.CONTROL_SENDER,
            "login": t.CONTROL_SENDER,
            "password_file": str(layout.password_file(t.CONTROL_SENDER)),
            "submission_host": t.PLATFORM_NAME,
            "submission_address": t.PLATFORM_IP,
            "submission_port": t.SUBMISSION_PORT,
            "submission_tls": "starttls",
        },
        "smarthost": {
            "host": t.RELAY_NAME,
            "address": t.RELAY_IP,
            "port": t.RELAY_PORT,
            "user": t.RELAY_USER,
            "password_file": str(layout.password_file(t.RELAY_USER)),
            "auth_mechanism": "basicAuthRequireTLS",
            "egress_host": t.RELAY_EGRESS_NAME,
            "egress_address": t.RELAY_EGRESS_IP,
            "dkim_domain": t.RELAY_DOMAIN,
            "dkim_selector": t.DKIM_SELECTOR,
            "bounce_domain": t.RELAY_BOUNCE_DOMAIN,
        },
        "recipient": {
            "address": t.RECIPIENT,
            "mx_host": t.MX_NAME,
            "authserv_id": t.MX_NAME,
            "imap_host": t.IMAP_NAME,
            "imap_address": t.MX_IP,
            "imap_port": t.IMAPS_PORT,
            "imap_tls": "implicit",
            "imap_starttls_port": t.IMAP_PORT,
            "user": t.RECIPIENT,
            "password_file": str(layout.password_file(t.RECIPIENT)),
            "folders": ["INBOX", "Junk"],
            "spam_trigger": t.SPAM_TRIGGER,
        },
        "dns": {"nameserver": t.NS_IP, "port": 53},
        "tls": {"ca_file": str(layout.ca_file)},
    }


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a valid TOML basic string


def ovh_assignments(layout: Layout, state: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(name, value, value_is_a_file) for the OVH_* variables."""
    ovh = state.get("ovh") or {}
    return [
        ("OVH_ENDPOINT", ovh.get("endpoint", ""), False),
        ("OVH_APPLICATION_KEY", ovh.get("application_key", ""), False),
        ("OVH_APPLICATION_SECRET", str(layout.secrets / "ovh-application-secret"), True),
        ("OVH_CONSUMER_KEY", str(layout.secrets / "ovh-consumer-key"), True),
    ]


def to_toml(layout: Layout, state: dict[str, Any]) -> str:
    lines = [
        "# verifier probe profile: the local mail lab (verifier lab env).",
        "# Secrets are referenced by *_file keys (files of mode 0600), never written here.",
        "# The OVH API emulator, for python-ovh and the verifier API commands:",
    ]
    for name, value, is_file in ovh_assignments(layout, state):
        lines.append(f'#   {name}="$(cat {shlex.quote(value)})"' if is_file else f"#   {name}={shlex.quote(value)}")
    for section, keys in profile(layout, state).items():
        lines.append("")
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {_value(v)}" for k, v in keys.items())
    return "\n".join(lines) + "\n"


def to_shell(layout: Layout, state: dict[str, Any]) -> str:
    lines = ["# verifier lab: the OVH API emulator (secrets are read from their 0600 files)."]
    for name, value, is_file in ovh_assignments(layout, state):
        lines.append(f'export {name}="$(cat {shlex.quote(value)})"' if is_file else f"export {name}={shlex.quote(value)}")
    lines.append(f"export VERIFIER_LAB_DIR={shlex.quote(str(layout.root))}")
    lines.append(f"export VERIFIER_LAB_CA_FILE={shlex.quote(str(layout.ca_file))}")
    return "\n".join(lines) + "\n"
