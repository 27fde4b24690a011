"""The OVH API command groups: `connector`, `account`, `domain` and `service`.

Each group is its own module; the procedures they run live in
:mod:`verifier.platform.procedures`, the options and output they share in
:mod:`verifier.commands._common`.
"""

from __future__ import annotations

from verifier.commands import account, connector, domain, service

GROUPS = (connector, account, domain, service)


def register(sub) -> None:
    for group in GROUPS:
        group.register(sub)
