"""The monitor's configuration (TOML): targets, schedule, history, listen address, alerts.

Secrets are given by reference only (``*_file`` / ``*_env``), as in probe
profiles; a literal ``password`` anywhere is refused. Every error is one
sentence naming the key, raised as :class:`verifier.errors.ConfigError`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field

from verifier.errors import ConfigError
from verifier.probe.profile import Profile, Secret, load_profile, profile_from_dict

DEFAULT_LISTEN = "127.0.0.1:9477"
DEFAULT_INTERVAL = 300.0
MAX_TARGETS = 10_000


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    profile: Profile
    interval: float = DEFAULT_INTERVAL
    jitter: float = 0.1  # fraction of the interval, each way
    source: str = "inline"  # "inline" or the profile's path


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str | None = None
    url_secret: Secret = field(default_factory=Secret)
    bearer: Secret = field(default_factory=Secret)
    timeout: float = 10.0

    def resolved_url(self) -> str:
        url = self.url or self.url_secret.reveal("the webhook URL")
        if not url:
            raise ConfigError("A webhook needs 'url', 'url_file' or 'url_env'.")
        return url


@dataclass(frozen=True, slots=True)
class Email:
    host: str  # the name the server's certificate is checked against
    port: int = 587
    tls: str = "starttls"  # starttls | implicit | none (loopback relays only)
    sender: str = ""
    to: tuple[str, ...] = ()
    username: str | None = None
    password: Secret = field(default_factory=Secret)
    ca_file: str | None = None
    timeout: float = 15.0
    address: str | None = None  # connect here instead of resolving host (STARTTLS or none only)


@dataclass(frozen=True, slots=True)
class Alerting:
    webhooks: tuple[Webhook, ...] = ()
    email: Email | None = None
    failures: int = 3  # consecutive failed runs before a failure alert
    min_interval: float = 900.0  # at most one notification per alert in this many seconds
    external_url: str | None = None


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    path: str
    targets: tuple[Target, ...]
    listen_host: str = "127.0.0.1"
    listen_port: int = 9477
    history: str = "verifier-monitor.sqlite"
    concurrency: int = 4
    retention_days: float = 30.0
    shutdown_grace: float = 30.0
    max_connections: int = 4
    alerting: Alerting = field(default_factory=Alerting)

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


def _get(table: dict, key: str, typ, where: str, default=None, required: bool = False):
    if key not in table:
        if required:
            raise ConfigError(f"The monitor config's [{where}] needs '{key}'.")
        return default
    value = table[key]
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ConfigError(f"The monitor config's [{where}] '{key}' must be a {typ.__name__}, not {type(value).__name__}.")
    return value


def _no_literal_secret(table: dict, where: str, keys: tuple[str, ...] = ("password", "token", "secret")) -> None:
    for k in keys:
        if k in table:
            raise ConfigError(f"The monitor config's [{where}] holds a literal {k}; use {k}_file or {k}_env instead.")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not (0 <= int(port) < 65536) or not host:
        raise ConfigError(f"The listen address {text!r} must be HOST:PORT (for example {DEFAULT_LISTEN}).")
    return host.strip("[]"), int(port)


def _positive(value: float, what: str) -> float:
    if value <= 0:
        raise ConfigError(f"The monitor config's {what} must be a positive number.")
    return value


def load_config(path: str) -> MonitorConfig:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"The monitor config {path} does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the monitor config {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The monitor config {path} is not valid TOML: {exc}.") from None
    return config_from_dict(data, path)


def config_from_dict(data: dict, path: str = "monitor.toml") -> MonitorConfig:
    base = os.path.dirname(os.path.abspath(path))
    mon = data.get("monitor", {})
    if not isinstance(mon, dict):
        raise ConfigError("The monitor config's [monitor] must be a table.")
    host, port = parse_listen(_get(mon, "listen", str, "monitor", DEFAULT_LISTEN))
    default_interval = _positive(_get(mon, "interval", float, "monitor", DEFAULT_INTERVAL), "[monitor] interval")
    default_jitter = _get(mon, "jitter", float, "monitor", 0.1)
    if not 0 <= default_jitter <= 0.5:
        raise ConfigError("The monitor config's [monitor] jitter must be between 0 and 0.5 (a fraction of the interval).")
    history = _get(mon, "history", str, "monitor", "verifier-monitor.sqlite")
    if history != ":memory:" and not os.path.isabs(history):
        history = os.path.join(base, history)
    concurrency = _get(mon, "concurrency", int, "monitor", 4)
    if not 1 <= concurrency <= 1000:
        raise ConfigError("The monitor config's [monitor] concurrency must be between 1 and 1000.")
    max_conn = _get(mon, "max_connections", int, "monitor", 4)
    if not 1 <= max_conn <= 100:
        raise ConfigError("The monitor config's [monitor] max_connections must be between 1 and 100.")

    raw_targets = data.get("target", [])
    if not isinstance(raw_targets, list) or not raw_targets:
        raise ConfigError("The monitor config needs at least one [[target]].")
    if len(raw_targets) > MAX_TARGETS:
        raise ConfigError(f"The monitor config lists more than {MAX_TARGETS} targets.")
    targets: list[Target] = []
    seen: set[str] = set()
    for i, t in enumerate(raw_targets):
        where = f"target {i + 1}"
        if not isinstance(t, dict):
            raise ConfigError(f"The monitor config's [[target]] number {i + 1} must be a table.")
        name = _get(t, "name", str, where, required=True)
        if not name or len(name) > 100 or any(c in name for c in "\"\\\n{}=,") or name != name.strip():
            raise ConfigError(f"The monitor config's target name {name!r} must be 1-100 characters, without quotes, braces, commas or '='.")
        if name in seen:
            raise ConfigError(f"The monitor config names the target {name!r} twice.")
        seen.add(name)
        where = f"target {name}"
        if ("profile" in t) == ("probe" in t):
            raise ConfigError(f"The monitor config's [{where}] needs either 'profile' (a path) or a [target.probe] table, not both.")
        if "profile" in t:
            ppath = _get(t, "profile", str, where)
            if not os.path.isabs(ppath):
                ppath = os.path.join(base, ppath)
            prof = load_profile(ppath)
            source = ppath
        else:
            if not isinstance(t["probe"], dict):
                raise ConfigError(f"The monitor config's [{where}] probe must be a table.")
            prof = profile_from_dict(t["probe"], name=name)
            source = "inline"
        from dataclasses import replace

        prof = replace(prof, name=name)
        interval = _positive(_get(t, "interval", float, where, default_interval), f"[{where}] interval")
        jitter = _get(t, "jitter", float, where, default_jitter)
        if not 0 <= jitter <= 0.5:
            raise ConfigError(f"The monitor config's [{where}] jitter must be between 0 and 0.5.")
        if interval < prof.delivery_timeout:
            raise ConfigError(f"The monitor config's [{where}] interval ({interval:g} s) is shorter than the probe's delivery timeout ({prof.delivery_timeout:g} s).")
        targets.append(Target(name, prof, interval, jitter, source))

    al = data.get("alerts", {})
    if not isinstance(al, dict):
        raise ConfigError("The monitor config's [alerts] must be a table.")
    hooks = []
    for j, h in enumerate(al.get("webhook", []) if isinstance(al.get("webhook", []), list) else []):
        where = f"alerts.webhook {j + 1}"
        if not isinstance(h, dict):
            raise ConfigError(f"The monitor config's [[alerts.webhook]] number {j + 1} must be a table.")
        _no_literal_secret(h, where, ("token", "bearer", "password"))
        url = _get(h, "url", str, where)
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"The monitor config's [{where}] url must start with http:// or https://.")
        hook = Webhook(url=url, url_secret=Secret(_get(h, "url_file", str, where), _get(h, "url_env", str, where)),
                       bearer=Secret(_get(h, "bearer_file", str, where), _get(h, "bearer_env", str, where)),
                       timeout=_positive(_get(h, "timeout", float, where, 10.0), f"[{where}] timeout"))
        if hook.url is None and not (hook.url_secret.file or hook.url_secret.env):
            raise ConfigError(f"The monitor config's [{where}] needs 'url', 'url_file' or 'url_env'.")
        hooks.append(hook)
    email = None
    if isinstance(al.get("email"), dict):
        e = al["email"]
        _no_literal_secret(e, "alerts.email")
        tls = _get(e, "tls", str, "alerts.email", "starttls")
        if tls not in ("starttls", "implicit", "none"):
            raise ConfigError("The monitor config's [alerts.email] tls must be starttls, implicit or none.")
        to = _get(e, "to", list, "alerts.email", required=True)
        if not to or not all(isinstance(x, str) and "@" in x for x in to):
            raise ConfigError("The monitor config's [alerts.email] to must be a list of addresses.")
        email = Email(host=_get(e, "host", str, "alerts.email", required=True),
                      port=_get(e, "port", int, "alerts.email", 465 if tls == "implicit" else 587), tls=tls,
                      sender=_get(e, "from", str, "alerts.email", required=True), to=tuple(to),
                      username=_get(e, "username", str, "alerts.email"),
                      password=Secret(_get(e, "password_file", str, "alerts.email"), _get(e, "password_env", str, "alerts.email")),
                      ca_file=_get(e, "ca_file", str, "alerts.email"),
                      address=_get(e, "address", str, "alerts.email"))
        if email.address is not None and tls == "implicit":
            raise ConfigError("The monitor config's [alerts.email] address works with tls = starttls or none, "
                              "not implicit; leave it out and let host resolve.")
    failures = _get(al, "failures", int, "alerts", 3)
    if not 1 <= failures <= 1000:
        raise ConfigError("The monitor config's [alerts] failures must be between 1 and 1000.")
    min_interval = _get(al, "min_interval", float, "alerts", 900.0)
    if min_interval < 0:
        raise ConfigError("The monitor config's [alerts] min_interval must not be negative.")
    alerting = Alerting(tuple(hooks), email, failures, min_interval, _get(al, "external_url", str, "alerts"))
    return MonitorConfig(
        path=os.path.abspath(path), targets=tuple(targets), listen_host=host, listen_port=port, history=history,
        concurrency=concurrency,
        retention_days=_positive(_get(mon, "retention_days", float, "monitor", 30.0), "[monitor] retention_days"),
        shutdown_grace=_get(mon, "shutdown_grace", float, "monitor", 30.0),
        max_connections=max_conn, alerting=alerting,
    )
