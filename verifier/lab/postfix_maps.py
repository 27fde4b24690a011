"""The route hook: the OVH API emulator's routes -> the platform Postfix's maps.

``route_hook`` is the :data:`verifier.lab.routes.RouteHook` the lab gives the
emulator (``--route-hook verifier.lab.postfix_maps:route_hook``). Each call carries
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

import ipaddress
import logging
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from verifier.errors import LabError
from verifier.lab.layout import Layout
from verifier.lab.routes import Route
from verifier.lab.topology import NETNS

log = logging.getLogger("verifier.lab.postfix_maps")

TABLES = ("sender_relay", "sasl_passwd", "tls_policy")


# What a Postfix lookup table can hold safely. A table line is "key whitespace value",
# so a key or value with whitespace, a control character or a newline would write
# extra entries (another sender's route) or break the whole table.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
MAX_HOSTNAME = 253
MAX_CREDENTIAL = 256


class RefusedRoute(ValueError):
    """A route the tables cannot hold; the message names the field, never its value."""


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in text)


def clean_hostname(value: str) -> str | None:
    """``value`` as a next-hop host (lower case, no final dot), or None if it is not one.

    A DNS name of letters, digits and hyphens (labels of 1 to 63, 253 in all), or an
    IPv4 or IPv6 address. Nothing else: no whitespace, no brackets, no port.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_HOSTNAME + 1 or "%" in value:
        return None  # "%": an IPv6 scope would carry any text into the table
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return address.compressed  # Postfix writes an address next hop as [192.0.2.1] or [2001:db8::1]
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > MAX_HOSTNAME or not name.isascii():
        return None
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name.lower()


def clean_address(value: str) -> str | None:
    """A sender address fit to be a table key (lower case), or None."""
    if not isinstance(value, str):
        return None
    local, at, domain = value.strip().lower().rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local) or clean_hostname(domain) != domain:
        return None
    return f"{local}@{domain}"


def check_route(route: Route) -> tuple[str, str, str | None]:
    """(address, next hop, ``user:password`` or None) for one route; raises RefusedRoute."""
    address = clean_address(route.address)
    if address is None:
        raise RefusedRoute("the sender address is not a plain address")
    host = clean_hostname(route.smart_host)
    if host is None:
        raise RefusedRoute("smartHost is not a host name or IP address")
    port = route.port
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise RefusedRoute("the port is not between 1 and 65535")
    credentials = None
    if route.auth_mechanism != "none" and route.user and route.password is not None:
        user, password = route.user, route.password
        if (
            not isinstance(user, str)
            or len(user) > MAX_CREDENTIAL
            or _has_control(user)
            or any(c.isspace() or c == ":" for c in user)
        ):
            raise RefusedRoute("the user name cannot be written to a Postfix table")
        if (
            not isinstance(password, str)
            or not password
            or len(password) > MAX_CREDENTIAL
            or _has_control(password)
            or password != password.strip()
        ):
            raise RefusedRoute("the password cannot be written to a Postfix table")
        credentials = f"{user}:{password}"
    return address, f"[{host}]:{port}", credentials


def render_tables(routes: Iterable[Route]) -> dict[str, str]:
    """Table name -> text, for the given routes (the platform's own sender_login is not here).

    A route that a table cannot hold safely is refused on its own: it is logged (the
    connector and the field, never the value) and its sender gets no entry, so it leaves
    by the default route; every other route is written as usual.
    """
    relay: dict[str, str] = {}
    sasl: dict[str, str] = {}
    policy: dict[str, str] = {}
    for route in sorted(routes, key=lambda r: str(r.address)):
        try:
            address, hop, credentials = check_route(route)
        except RefusedRoute as exc:
            log.warning(
                "route refused: send connector %s for one sender: %s; that sender takes the default route",
                route.connector_id,
                exc,
            )
            continue
        relay[address] = hop
        if credentials is not None:
            sasl[address] = credentials
        # Two connectors may share a host: the strictest requirement wins.
        level = "secure match=hostname" if route.require_tls else "may"
        if policy.get(hop) != "secure match=hostname":
            policy[hop] = level
    head = "# Written by verifier.lab.postfix_maps from the OVH API emulator's routes.\n"
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
