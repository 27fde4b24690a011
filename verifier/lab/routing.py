"""The route hook: the OVH API emulator's routes -> the platform Postfix's maps.

``route_hook`` is the :data:`verifier.lab.routes.RouteHook` the lab gives the
emulator (``--route-hook verifier.lab.routing:route_hook``). Each call carries
the complete list of routes; it rewrites three tables of the platform Postfix
and reloads it:

* ``sender_relay`` (sender_dependent_relayhost_maps): address -> ``[host]:port``;
* ``sasl_passwd`` (smtp_sasl_password_maps, sender-dependent, mode 0600):
  address -> ``user:password``;
* ``tls_policy`` (smtp_tls_policy_maps): ``[host]:port`` -> ``secure
  match=hostname`` when the connector requires TLS (requireTLS, or
  basicAuthRequireTLS), else ``may``.

Senders without a route get no entry, so the platform delivers them directly
by MX. Files are replaced atomically, so Postfix never reads half a table.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from verifier.errors import LabError
from verifier.lab.layout import Layout
from verifier.lab.routes import Route
from verifier.lab.topology import NETNS

log = logging.getLogger("verifier.lab.routing")

TABLES = ("sender_relay", "sasl_passwd", "tls_policy")


def _nexthop(route: Route) -> str:
    return f"[{route.smart_host.strip().lower().rstrip('.')}]:{route.port}"


def render_tables(routes: Iterable[Route]) -> dict[str, str]:
    """Table name -> text, for the given routes (the platform's own sender_login is not here)."""
    relay: dict[str, str] = {}
    sasl: dict[str, str] = {}
    policy: dict[str, str] = {}
    for route in sorted(routes, key=lambda r: r.address):
        address = route.address.strip().lower()
        if not address or any(c.isspace() for c in address):
            continue
        hop = _nexthop(route)
        relay[address] = hop
        if route.auth_mechanism != "none" and route.user and route.password is not None:
            if any(c in route.user for c in " \t\r\n:") or any(c in route.password for c in "\r\n"):
                raise LabError(f"The credentials of send connector {route.connector_id} cannot be written to a Postfix table.")
            sasl[address] = f"{route.user}:{route.password}"
        # Two connectors may share a host: the strictest requirement wins.
        level = "secure match=hostname" if route.require_tls else "may"
        if policy.get(hop) != "secure match=hostname":
            policy[hop] = level
    head = "# Written by verifier.lab.routing from the OVH API emulator's routes.\n"
    return {
        "sender_relay": head + "".join(f"{a} {h}\n" for a, h in relay.items()),
        "sasl_passwd": head + "".join(f"{a} {c}\n" for a, c in sasl.items()),
        "tls_policy": head + "".join(f"{h} {p}\n" for h, p in policy.items()),
    }


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` atomically with ``text`` (created with ``mode`` from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_tables(routes: Iterable[Route], layout: Layout | None = None) -> Path:
    """Write the three route tables; returns the directory holding them."""
    lay = layout or Layout.current()
    maps = lay.platform_maps
    for name, text in render_tables(routes).items():
        write_file(maps / name, text, 0o600 if name == "sasl_passwd" else 0o644)
    return maps


def platform_running(layout: Layout) -> bool:
    pid_file = layout.postfix("platform") / "queue" / "pid" / "master.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def reload_platform(layout: Layout) -> bool:
    """Reload the platform Postfix if it runs; True if it was reloaded."""
    if not platform_running(layout):
        return False
    # Inside the lab namespace: Postfix checks that inet_interfaces are local.
    done = subprocess.run(
        ["ip", "netns", "exec", NETNS, "postfix", "-c", str(layout.postfix("platform")), "reload"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise LabError(f"Reloading the platform Postfix failed ({last}).")
    return True


def apply_routes(routes: list[Route], layout: Layout | None = None) -> bool:
    """Write the tables for ``routes`` and reload the platform; True if Postfix was reloaded."""
    lay = layout or Layout.current()
    write_tables(routes, lay)
    reloaded = reload_platform(lay)
    log.info(
        "routes applied: %d sender(s) through a send connector%s",
        len(routes),
        "" if reloaded else " (platform not running; tables written only)",
    )
    return reloaded


def route_hook(routes: list[Route]) -> None:
    """The RouteHook given to the emulator (lab directory from ``$VERIFIER_LAB_DIR``)."""
    apply_routes(routes)
