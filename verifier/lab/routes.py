"""The contract between the OVH API emulator and the mail lab.

The emulator decides, from its state, which sender addresses must leave
through which send connector; the lab turns that into Postfix's
sender-dependent relay maps. Neither side imports the other: the emulator
calls a ``RouteHook`` it is given, with the complete list of routes each time
anything that affects routing changes (an account's connector, a connector's
settings, state or credentials, a connector's deletion).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Route:
    """One sender address that must leave through a send connector."""

    address: str  # the account's primaryEmailAddress, lower case
    connector_id: int
    smart_host: str
    port: int
    require_tls: bool
    auth_mechanism: str  # "basicAuth" | "basicAuthRequireTLS" | "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed


RouteHook = Callable[[list[Route]], None]
