"""A monitor config for the lab (``verifier lab env --monitor``).

Two targets, both inline probe profiles built from the lab's probe profile:
``connector`` (the attached sender and the control address) and ``platform``
(the control address alone, which the API says must not use the connector).
Secrets stay referenced by their 0600 files, never written here.
"""

from __future__ import annotations

import copy
from typing import Any

import tomli_w

from verifier.lab import topology as t
from verifier.lab.layout import Layout
from verifier.lab.probe_profile import profile


def monitor_config(layout: Layout, state: dict[str, Any], *, interval: float = 60, listen: str = "127.0.0.1:9477",
                   history: str | None = None, webhook: str | None = None, email: bool = False) -> dict[str, Any]:
    base = profile(layout, state)
    base.pop("lab", None)
    connector = copy.deepcopy(base)
    platform_only = copy.deepcopy(base)
    platform_only["sender"] = platform_only.pop("control")
    cfg: dict[str, Any] = {
        "monitor": {
            "listen": listen,
            "history": history or str(layout.root / "monitor.sqlite"),
            "interval": interval,
            "jitter": 0.1,
            "concurrency": 4,
            "retention_days": 30,
        },
        "alerts": {"failures": 2, "min_interval": 900},
        "target": [
            {"name": "connector", "probe": connector},
            {"name": "platform", "probe": platform_only},
        ],
    }
    if webhook:
        cfg["alerts"]["webhook"] = [{"url": webhook}]
    if email:
        # Through the lab's submission server, as any monitoring mailbox would send.
        cfg["alerts"]["email"] = {
            "host": t.PLATFORM_NAME,
            "address": t.PLATFORM_IP,
            "port": t.SUBMISSION_PORT,
            "tls": "starttls",
            "from": t.CONTROL_SENDER,
            "to": [t.RECIPIENT],
            "username": t.CONTROL_SENDER,
            "password_file": str(layout.password_file(t.CONTROL_SENDER)),
            "ca_file": str(layout.ca_file),
        }
    return cfg


def to_toml(layout: Layout, state: dict[str, Any], **kw) -> str:
    head = ("# verifier monitor config: the local mail lab (verifier lab env --monitor).\n"
            f"# Targets: 'connector' ({t.ATTACHED_SENDER} + control {t.CONTROL_SENDER}) and 'platform' "
            f"({t.CONTROL_SENDER} alone).\n# Secrets are referenced by *_file keys (files of mode 0600), never written here.\n")
    return head + tomli_w.dumps(monitor_config(layout, state, **kw))
