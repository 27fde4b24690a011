"""The probe profile: one TOML file describing a target (see docs/probe.md).

Secrets are references, never values: ``password_file`` (a path, read when
the probe runs) or ``password_env`` (an environment variable's name). A
profile that holds a literal ``password`` is refused, so a profile can be
shared or committed without leaking anything.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field

from verifier.errors import ConfigError

_TLS_MODES = ("starttls", "implicit")
_MAX_SECRET_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Secret:
    file: str | None = None
    env: str | None = None

    def reveal(self, what: str) -> str | None:
        """The secret's value, read now. Errors name the reference, never the value."""
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(f"The environment variable {self.env} named for {what} is not set.")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(f"The environment variable {self.env} named for {what} is not UTF-8 text.") from None
            return value
        if self.file:
            try:
                with open(self.file, "rb") as fh:
                    data = fh.read(_MAX_SECRET_BYTES + 1)
            except OSError as exc:
                raise ConfigError(f"Cannot read the password file {self.file} for {what}: {exc.strerror or exc}.") from None
            if len(data) > _MAX_SECRET_BYTES:
                raise ConfigError(f"The password file {self.file} for {what} is longer than {_MAX_SECRET_BYTES} bytes.")
            try:
                return data.decode("utf-8").strip("\r\n")
            except UnicodeDecodeError:
                # The decoder's message quotes the offending byte and its position: say neither.
                raise ConfigError(f"The password file {self.file} for {what} is not UTF-8 text.") from None
        return None

    def __repr__(self) -> str:
        return f"Secret(file={self.file!r}, env={self.env!r})"


@dataclass(frozen=True, slots=True)
class SmtpAccount:
    address: str
    host: str
    port: int = 587
    tls: str = "starttls"
    username: str | None = None
    password: Secret = field(default_factory=Secret)
    expect: str | None = None  # "via-connector" | "bypassed" | None: ask the API
    connect_address: str | None = None  # connect here, verify the certificate for `host`


@dataclass(frozen=True, slots=True)
class SmarthostCredentials:
    """The connector's own login, when known: lets the preflight try AUTH like the platform does."""

    username: str | None = None
    password: Secret = field(default_factory=Secret)
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    host: str
    port: int = 993
    tls: str = "implicit"
    username: str | None = None
    password: Secret = field(default_factory=Secret)
    folders: tuple[str, ...] = ("INBOX", "Junk")
    connect_address: str | None = None
    authserv_id: str | None = None  # the recipient's authserv-id, when known
    idle: bool = True  # False: poll even when the server offers IDLE
    max_connections: int = 4  # IMAP connections the probe may hold at once to this mailbox


@dataclass(frozen=True, slots=True)
class Platform:
    endpoint: str | None = None
    organization: str | None = None
    service: str | None = None
    config_file: str | None = None  # an ovh.conf holding the API credentials
    platform_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    sender: SmtpAccount
    recipient: Mailbox
    control: SmtpAccount | None = None
    platform: Platform | None = None
    ca_file: str | None = None
    nameserver: str | None = None  # resolve lab/test names through this DNS server
    nameserver_port: int = 53
    smarthosts: tuple[str, ...] = ()  # extra smarthost patterns (the provider's egress hosts)
    smarthost_login: SmarthostCredentials | None = None
    subject_prefix: str | None = None
    delivery_timeout: float = 60.0
    connect_timeout: float = 15.0
    idle_renew: float = 600.0
    poll_interval: float = 2.0
    sweep_after: float = 24 * 3600.0
    fast_window: float = 5.0  # seconds after submission during which the mailbox is polled quickly
    fast_poll: float = 0.1
    secret_file: str | None = None  # the token secret; None: $XDG_STATE_HOME/verifier/probe-token.key


def _get(table: dict, key: str, typ, where: str, default=None, required: bool = False):
    if key not in table:
        if required:
            raise ConfigError(f"The profile's [{where}] section needs '{key}'.")
        return default
    value = table[key]
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ConfigError(f"The profile's [{where}] '{key}' must be a {typ.__name__}, not {type(value).__name__}.")
    return value


def _secret(table: dict, where: str) -> Secret:
    if "password" in table:
        raise ConfigError(
            f"The profile's [{where}] holds a literal password; use password_file or password_env instead."
        )
    return Secret(file=_get(table, "password_file", str, where), env=_get(table, "password_env", str, where))


def _smtp(table: dict, where: str) -> SmtpAccount:
    tls = _get(table, "smtp_tls", str, where, "starttls")
    if tls not in _TLS_MODES:
        raise ConfigError(f"The profile's [{where}] smtp_tls must be one of {', '.join(_TLS_MODES)}.")
    expect = _get(table, "expect", str, where)
    if expect not in (None, "via-connector", "bypassed"):
        raise ConfigError(f"The profile's [{where}] expect must be via-connector or bypassed.")
    addr = _get(table, "address", str, where, required=True)
    return SmtpAccount(
        address=addr,
        host=_get(table, "smtp_host", str, where, required=True),
        port=_get(table, "smtp_port", int, where, 465 if tls == "implicit" else 587),
        tls=tls,
        username=_get(table, "username", str, where, addr),
        password=_secret(table, where),
        expect=expect,
        connect_address=_get(table, "smtp_address", str, where),
    )


def _expand(path: str | None) -> str | None:
    return os.path.expanduser(path) if path else None


def load_profile(path: str) -> Profile:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"The profile {path} does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the profile {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        # Never echo the decoder's message: it quotes bytes of the file.
        raise ConfigError(f"The profile {path} is not UTF-8 text (TOML files must be).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The profile {path} is not valid TOML: {exc}.") from None
    return profile_from_dict(data, name=os.path.basename(path))


def profile_from_dict(data: dict, name: str = "profile") -> Profile:
    for section in ("sender", "recipient"):
        if not isinstance(data.get(section), dict):
            raise ConfigError(f"The profile needs a [{section}] section.")
    rec = data["recipient"]
    tls = _get(rec, "imap_tls", str, "recipient", "implicit")
    if tls != "implicit":
        raise ConfigError("The profile's [recipient] imap_tls must be 'implicit' (IMAP over TLS, usually port 993).")
    folders = _get(rec, "folders", list, "recipient", ["INBOX", "Junk"])
    if not folders or not all(isinstance(f, str) and f for f in folders):
        raise ConfigError("The profile's [recipient] folders must be a list of folder names.")
    raddr = _get(rec, "address", str, "recipient", required=True)
    mailbox = Mailbox(
        address=raddr,
        host=_get(rec, "imap_host", str, "recipient", required=True),
        port=_get(rec, "imap_port", int, "recipient", 993),
        tls=tls,
        username=_get(rec, "username", str, "recipient", raddr),
        password=_secret(rec, "recipient"),
        folders=tuple(folders),
        connect_address=_get(rec, "imap_address", str, "recipient"),
        authserv_id=_get(rec, "authserv_id", str, "recipient"),
        idle=_get(rec, "idle", bool, "recipient", True),
        max_connections=_get(rec, "max_connections", int, "recipient", 4),
    )
    if not 1 <= mailbox.max_connections <= 64:
        raise ConfigError("The profile's [recipient] max_connections must be between 1 and 64.")
    if len(mailbox.folders) > mailbox.max_connections:
        raise ConfigError("The profile's [recipient] folders need one IMAP connection each: "
                          "name no more folders than max_connections allows.")
    control = _smtp(data["control"], "control") if isinstance(data.get("control"), dict) else None
    platform = None
    if isinstance(data.get("platform"), dict):
        p = data["platform"]
        platform = Platform(
            endpoint=_get(p, "endpoint", str, "platform"),
            organization=_get(p, "organization", str, "platform"),
            service=_get(p, "service", str, "platform"),
            config_file=_get(p, "config_file", str, "platform"),
            platform_patterns=tuple(_get(p, "patterns", list, "platform", [])),
        )
    tls_t = data.get("tls", {}) if isinstance(data.get("tls"), dict) else {}
    dns_t = data.get("dns", {}) if isinstance(data.get("dns"), dict) else {}
    t = data.get("timeouts", {}) if isinstance(data.get("timeouts"), dict) else {}
    expect_t = data.get("expect", {}) if isinstance(data.get("expect"), dict) else {}
    msg_t = data.get("message", {}) if isinstance(data.get("message"), dict) else {}
    state_t = data.get("state", {}) if isinstance(data.get("state"), dict) else {}
    sh_login = None
    if isinstance(data.get("smarthost"), dict):
        sh = data["smarthost"]
        sh_login = SmarthostCredentials(
            username=_get(sh, "username", str, "smarthost"),
            password=_secret(sh, "smarthost"),
            address=_get(sh, "address", str, "smarthost"),
        )
    prof = Profile(
        name=name,
        sender=_smtp(data["sender"], "sender"),
        recipient=mailbox,
        control=control,
        platform=platform,
        ca_file=_get(tls_t, "ca_file", str, "tls"),
        nameserver=_get(dns_t, "nameserver", str, "dns"),
        nameserver_port=_get(dns_t, "port", int, "dns", 53),
        smarthosts=tuple(_get(expect_t, "smarthosts", list, "expect", [])),
        smarthost_login=sh_login,
        subject_prefix=_get(msg_t, "subject_prefix", str, "message"),
        delivery_timeout=_get(t, "delivery", float, "timeouts", 60.0),
        connect_timeout=_get(t, "connect", float, "timeouts", 15.0),
        idle_renew=_get(t, "idle_renew", float, "timeouts", 600.0),
        poll_interval=_get(t, "poll", float, "timeouts", 2.0),
        sweep_after=_get(t, "sweep_after", float, "timeouts", 24 * 3600.0),
        fast_window=_get(t, "fast_window", float, "timeouts", 5.0),
        fast_poll=_get(t, "fast_poll", float, "timeouts", 0.1),
        secret_file=_expand(_get(state_t, "secret_file", str, "state")),
    )
    if prof.fast_poll < 0.05 or prof.fast_window < 0:
        raise ConfigError("The profile's [timeouts] fast_poll must be at least 0.05 s and fast_window not negative.")
    if prof.delivery_timeout <= 0 or prof.connect_timeout <= 0:
        raise ConfigError("The profile's timeouts must be positive numbers of seconds.")
    if prof.idle_renew > 29 * 60:
        raise ConfigError("The profile's [timeouts] idle_renew must be at most 1740 seconds (RFC 2177 asks for under 29 minutes).")
    if prof.sender.expect is None and prof.platform is None:
        raise ConfigError("The profile's [sender] needs 'expect' when there is no [platform] section to ask.")
    return prof
