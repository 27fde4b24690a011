"""Getting an OVH consumer key with exactly the rights verifier needs, and saving it.

The flow python-ovh offers (``Client.new_consumer_key_request()``):

1. with the application key and secret (from the environment, an ovh.conf, or a
   prompt), ask ``POST /auth/credential`` for a consumer key limited to
   :data:`READ_RULES`, plus :data:`WRITE_RULES` when writes are asked for;
2. the person opens the validation URL the API returns and accepts;
3. ``GET /auth/currentCredential`` is polled until the key answers (a key not
   yet validated is refused with 403 ``INVALID_CREDENTIAL``);
4. the key is written into an ovh.conf, in the section python-ovh reads for
   the endpoint, with mode 0600 and an atomic replace.

No secret is ever printed, logged, or taken from the command line.
"""

from __future__ import annotations

import configparser
import io
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ovh
import ovh.exceptions as ovhx

from verifier.errors import ConfigError, CredentialsError, UsageError
from verifier.platform.client import (
    DEFAULT_TIMEOUT,
    Endpoint,
    api_errors,
    load_config,
    resolve_endpoint,
)

Rule = tuple[str, str]

EXCHANGE = "/email/exchange"
SERVICE_PATTERN = "/email/exchange/{org}/service/{svc}"

READ_RULES: tuple[Rule, ...] = (
    ("GET", "/auth/currentCredential"),
    ("GET", EXCHANGE),
    ("GET", EXCHANGE + "/*"),
)
"""What `probe`, `monitor` and every read command need: reading the Exchange services."""

WRITE_RULES: tuple[Rule, ...] = (
    ("POST", "{S}/sendConnector"),
    ("PUT", "{S}/sendConnector/*"),
    ("DELETE", "{S}/sendConnector/*"),
    ("POST", "{S}/sendConnector/*/changeAuthentication"),
    ("PUT", "{S}/account/*"),
    ("PUT", "{S}/domain/*/changeDefaultSBR"),
)
"""Added with ``--write``: the calls of `connector create/update/delete/change-auth`,
`account attach/detach` and `domain set-default`. ``{S}`` is the service path."""

DEFAULT_WAIT = 600.0
DEFAULT_CONFIG = Path("~/.ovh.conf")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
MAX_KEY = 256


def access_rules(*, write: bool, organization: str | None = None, service: str | None = None) -> list[dict[str, str]]:
    """The rules to ask for: read-only, or read and write; narrowed to one service when named."""
    for name, value in (("--organization", organization), ("--service", service)):
        if value is not None and (not value or not _KEY_CHARS.issuperset(value.replace(".", ""))):
            raise UsageError(f"{name} must be a plain service name such as private-zz111111-1.")
    service_path = SERVICE_PATTERN.format(org=organization or "*", svc=service or "*")
    rules = list(READ_RULES) + (list(WRITE_RULES) if write else [])
    return [{"method": m, "path": p.replace("{S}", service_path)} for m, p in rules]


def _check_key(name: str, value: str) -> str:
    """A key or secret as python-ovh's config file can hold it: one word of letters and digits."""
    value = value.strip()
    if not value or len(value) > MAX_KEY or not _KEY_CHARS.issuperset(value):
        raise CredentialsError(f"The {name} is not a plain string of letters and digits.")
    return value


@dataclass(frozen=True, slots=True)
class Application:
    """The application key and secret (made once on the provider's createApp page)."""

    key: str
    secret: str = field(repr=False)


def find_application(
    endpoint: Endpoint,
    config_file: Path | None,
    *,
    ask: Callable[[str, bool], str] | None = None,
) -> Application:
    """The application key and secret: environment, then ovh.conf files, then ``ask``.

    ``ask(prompt, secret)`` returns what the person typed (None: no prompting).
    """
    config = load_config(str(config_file) if config_file and config_file.exists() else None)

    def lookup(name: str) -> str | None:
        value = config.get(endpoint.given, name)
        if value is None and endpoint.given != endpoint.name:
            value = config.get(endpoint.name, name)
        return value or None

    key, secret = lookup("application_key"), lookup("application_secret")
    if not (key and secret) and ask is not None:
        key = key or ask("Application key: ", False)
        secret = secret or ask("Application secret (not shown): ", True)
    if not (key and secret):
        raise CredentialsError(
            "No application key and secret found: create them on the provider's createApp page, then set "
            "OVH_APPLICATION_KEY and OVH_APPLICATION_SECRET or write them in ovh.conf (see docs/platform.md)."
        )
    return Application(_check_key("application key", key), _check_key("application secret", secret))


@dataclass(frozen=True, slots=True)
class PendingKey:
    consumer_key: str = field(repr=False)
    validation_url: str
    state: str


def request_key(client: ovh.Client, rules: list[dict[str, str]]) -> PendingKey:
    """Ask the API for a consumer key limited to ``rules`` (python-ovh's consumer-key request)."""
    request = client.new_consumer_key_request()
    for rule in rules:
        request.add_rule(rule["method"], rule["path"])
    with api_errors("request a consumer key"):
        answer = request.request()
    if not isinstance(answer, dict):
        raise CredentialsError("The API answered the consumer-key request with something unexpected.")
    ck = _check_key("consumer key the API returned", str(answer.get("consumerKey") or ""))
    url = str(answer.get("validationUrl") or "")
    if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        raise CredentialsError("The API returned no usable validation URL for the consumer key.")
    return PendingKey(ck, url, str(answer.get("state") or ""))


def wait_validated(
    client: ovh.Client,
    *,
    timeout: float = DEFAULT_WAIT,
    progress: Callable[[float], None] | None = None,
    interval: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll ``GET /auth/currentCredential`` with the client's new key until it is validated.

    Returns the credential (``status``, ``rules``...). A key not validated in
    ``timeout`` seconds raises CredentialsError; a refused or expired one at once.
    """
    start = clock()
    while True:
        with api_errors("check the new consumer key"):
            try:
                current = client.get("/auth/currentCredential")
            except ovhx.InvalidCredential:  # what the API answers until the key is validated
                current = {"status": "pendingValidation"}
        status = current.get("status") if isinstance(current, dict) else None
        if status == "validated":
            return current
        if status in ("refused", "expired"):
            raise CredentialsError(f"The consumer key was {status} on the validation page; nothing was written.")
        waited = clock() - start
        if waited >= timeout:
            raise CredentialsError(
                f"The consumer key was not validated within {timeout:g} s; nothing was written "
                "(run `verifier login` again and open the URL it prints)."
            )
        if progress is not None:
            progress(waited)
        sleep(min(interval, max(0.0, timeout - waited)))


def render_config(existing: str, endpoint: Endpoint, app: Application, consumer_key: str) -> str:
    """``existing`` ovh.conf text with the endpoint's section set to these keys, as python-ovh reads it.

    Other sections and keys stay; OAuth2 keys of the same section go (python-ovh refuses
    both schemes at once). ``[default] endpoint`` is set to this endpoint.
    """
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # keep names as written
    try:
        parser.read_string(existing)
    except configparser.Error as exc:
        raise ConfigError(f"The existing ovh.conf cannot be read as an INI file ({type(exc).__name__}).") from None
    if not parser.has_section("default"):
        parser.add_section("default")
    parser.set("default", "endpoint", endpoint.given)
    section = endpoint.given
    if not parser.has_section(section):
        parser.add_section(section)
    for name in ("client_id", "client_secret"):
        parser.remove_option(section, name)
    parser.set(section, "application_key", app.key)
    parser.set(section, "application_secret", app.secret)
    parser.set(section, "consumer_key", consumer_key)
    out = io.StringIO()
    out.write("# OVH API credentials (python-ovh's ovh.conf), written by `verifier login`. Keep mode 0600.\n")
    parser.write(out)
    return out.getvalue()


def write_config(path: Path, endpoint: Endpoint, app: Application, consumer_key: str) -> Path:
    """Merge the keys into ``path`` (created if absent): mode 0600, replaced atomically."""
    path = path.expanduser()
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path} ({type(exc).__name__}).") from None
    text = render_config(existing, endpoint, app, consumer_key)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise ConfigError(f"Cannot write {path} ({type(exc).__name__}).") from None
    return path


@dataclass(frozen=True, slots=True)
class LoginResult:
    path: Path
    endpoint: Endpoint
    rules: list[dict[str, str]]
    write: bool


def login(
    *,
    endpoint: str | None,
    config_file: Path,
    write: bool,
    organization: str | None = None,
    service: str | None = None,
    wait: float = DEFAULT_WAIT,
    api_timeout: float = DEFAULT_TIMEOUT,
    ask: Callable[[str, bool], str] | None = None,
    show_url: Callable[[str], None],
    progress: Callable[[float], None] | None = None,
    interval: float = 2.0,
) -> LoginResult:
    """The whole flow; ``show_url`` is given the validation URL as soon as there is one."""
    config_path = config_file.expanduser()
    config = load_config(str(config_path) if config_path.exists() else None)
    resolved = resolve_endpoint(endpoint, config)
    app = find_application(resolved, config_path, ask=ask)
    rules = access_rules(write=write, organization=organization, service=service)
    try:
        client = ovh.Client(
            endpoint=resolved.name,
            application_key=app.key,
            application_secret=app.secret,
            consumer_key=None,
            timeout=api_timeout,
        )
    except (ovhx.InvalidConfiguration, ovhx.InvalidRegion) as exc:
        raise CredentialsError(f"python-ovh refused the configuration ({type(exc).__name__}).") from None
    pending = request_key(client, rules)
    show_url(pending.validation_url)
    wait_validated(client, timeout=wait, progress=progress, interval=interval)
    path = write_config(config_path, resolved, app, pending.consumer_key)
    return LoginResult(path=path, endpoint=resolved, rules=rules, write=write)
