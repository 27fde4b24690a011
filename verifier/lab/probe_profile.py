"""The probe profile of the lab (``verifier lab env``), in TOML or as shell assignments.

Secrets are given by reference only: each ``*_file`` key names a file of mode
0600 holding one secret on one line. The format is documented in docs/lab.md.
"""

from __future__ import annotations

import shlex
from typing import Any

import tomli_w

from verifier.lab import topology as t
from verifier.lab.layout import Layout

PROFILE_VERSION = 1


def profile(layout: Layout, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile as nested dicts (sections -> keys), in the format of docs/probe.md.

    Besides the keys the probe reads, each section carries the lab's addresses
    (``*_address``), so that a client without the lab DNS can connect by address
    and still verify TLS for the host name.
    """
    ovh = state.get("ovh") or {}

    def account(address: str) -> dict[str, Any]:
        return {
            "address": address,
            "smtp_host": t.PLATFORM_NAME,
            "smtp_address": t.PLATFORM_IP,
            "smtp_port": t.SUBMISSION_PORT,
            "smtp_tls": "starttls",
            "username": address,
            "password_file": str(layout.password_file(address)),
        }

    return {
        "platform": {
            "endpoint": ovh.get("endpoint", ""),
            "organization": t.ORGANIZATION,
            "service": t.SERVICE,
            "config_file": str(layout.secrets / "ovh.conf"),
            "patterns": [f"*.{t.PLATFORM_NAME.split('.', 1)[1]}"],
            "hostname": t.PLATFORM_NAME,
        },
        "sender": account(t.ATTACHED_SENDER),
        "control": account(t.CONTROL_SENDER),
        "recipient": {
            "address": t.RECIPIENT,
            "imap_host": t.IMAP_NAME,
            "imap_address": t.MX_IP,
            "imap_port": t.IMAPS_PORT,
            "imap_tls": "implicit",
            "imap_starttls_port": t.IMAP_PORT,
            "username": t.RECIPIENT,
            "password_file": str(layout.password_file(t.RECIPIENT)),
            "folders": ["INBOX", "Junk"],
            "mx_host": t.MX_NAME,
            "authserv_id": t.MX_NAME,
            "spam_trigger": t.SPAM_TRIGGER,
        },
        "expect": {"smarthosts": [t.RELAY_EGRESS_NAME, f"{t.RELAY_EGRESS_IP}/32"]},
        "smarthost": {
            "host": t.RELAY_NAME,
            "address": t.RELAY_IP,
            "port": t.RELAY_PORT,
            "username": t.RELAY_USER,
            "password_file": str(layout.password_file(t.RELAY_USER)),
            "auth_mechanism": "basicAuthRequireTLS",
            "egress_host": t.RELAY_EGRESS_NAME,
            "egress_address": t.RELAY_EGRESS_IP,
            "dkim_domain": t.RELAY_DOMAIN,
            "dkim_selector": t.DKIM_SELECTOR,
            "bounce_domain": t.RELAY_BOUNCE_DOMAIN,
        },
        "tls": {"ca_file": str(layout.ca_file)},
        "dns": {"nameserver": t.NS_IP, "port": 53},
        "timeouts": {"delivery": 30, "connect": 10, "poll": 1},
        "lab": {"version": PROFILE_VERSION, "state_dir": str(layout.root), "namespace": t.NETNS},
    }


def ovh_conf(endpoint: str, application_key: str, application_secret: str, consumer_key: str) -> str:
    """An ovh.conf (python-ovh's format) for the emulator; written with mode 0600."""
    return (
        f"[default]\nendpoint={endpoint}\n\n[{endpoint}]\n"
        f"application_key={application_key}\napplication_secret={application_secret}\n"
        f"consumer_key={consumer_key}\n"
    )


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
    lines.append("")
    return "\n".join(lines) + "\n" + tomli_w.dumps(profile(layout, state))


def to_shell(layout: Layout, state: dict[str, Any]) -> str:
    lines = ["# verifier lab: the OVH API emulator (secrets are read from their 0600 files)."]
    for name, value, is_file in ovh_assignments(layout, state):
        lines.append(f'export {name}="$(cat {shlex.quote(value)})"' if is_file else f"export {name}={shlex.quote(value)}")
    lines.append(f"export VERIFIER_LAB_DIR={shlex.quote(str(layout.root))}")
    lines.append(f"export VERIFIER_LAB_CA_FILE={shlex.quote(str(layout.ca_file))}")
    return "\n".join(lines) + "\n"
