"""Building a python-ovh client, and turning its exceptions into verifier errors.

Credentials are found the way python-ovh users expect: constructor values,
then ``OVH_*`` environment variables, then ``ovh.conf`` files (``/etc/ovh.conf``,
``~/.ovh.conf``, ``./ovh.conf`` and an optional extra file), in the section
named after the endpoint. Both schemes are supported: application key, secret
and consumer key, or OAuth2 client id and secret.

python-ovh only accepts endpoint *names* (``ovh-eu``, ``ovh-ca``...). An
http(s) URL (the local emulator, a proxy) is registered in
``ovh.client.ENDPOINTS`` under a generated name, which is the supported way
to add an endpoint; for OAuth2 the token URL is registered next to it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import ovh
import ovh.client
import ovh.exceptions as ovhx
from ovh.config import ConfigurationManager

from verifier.errors import (
    ApiError,
    ConfigError,
    CredentialsError,
    NetworkError,
    NotFoundError,
    VerifierError,
)

DEFAULT_ENDPOINT = "ovh-eu"
DEFAULT_TIMEOUT = 60.0
_GENERATED_PREFIX = "verifier-url-"

# errorCode values that mean "your credentials or signature are not acceptable".
_CREDENTIAL_CODES = {
    "INVALID_SIGNATURE",
    "INVALID_KEY",
    "INVALID_CREDENTIAL",
    "NOT_CREDENTIAL",
    "QUERY_TIME_OUT",
    "NOT_GRANTED_CALL",
    "FORBIDDEN",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An endpoint as the user named it, and the python-ovh name it is known by."""

    given: str
    name: str
    url: str

    @property
    def is_url(self) -> bool:
        return self.name.startswith(_GENERATED_PREFIX)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(config_file: str | None = None) -> ConfigurationManager:
    """python-ovh's lookup (env, then /etc/ovh.conf, ~/.ovh.conf, ./ovh.conf, then ``config_file``).

    A private instance, read afresh: unlike ``ovh.Client(config_file=...)``, an extra file
    does not stay in python-ovh's process-wide configuration.
    """
    manager = ConfigurationManager()
    if config_file:
        manager.read(config_file)
    return manager


def resolve_endpoint(given: str | None, config: ConfigurationManager | None = None) -> Endpoint:
    """Map an endpoint name or an http(s) URL to a name python-ovh accepts.

    A URL may end with ``/1.0`` or not; ``/1.0`` is appended when absent, since every
    path verifier uses lives under it.
    """
    if not given:
        given = (config or load_config()).get("default", "endpoint") or DEFAULT_ENDPOINT
    given = given.strip()
    if given in ovh.client.ENDPOINTS and not given.startswith(_GENERATED_PREFIX):
        return Endpoint(given=given, name=given, url=ovh.client.ENDPOINTS[given])
    parsed = urllib.parse.urlsplit(given)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        names = ", ".join(sorted(k for k in ovh.client.ENDPOINTS if not k.startswith(_GENERATED_PREFIX)))
        raise ConfigError(
            f"Unknown API endpoint {given!r}: give one of {names}, or an http(s) URL."
        )
    path = parsed.path.rstrip("/")
    if not path.endswith("/1.0"):
        path = f"{path}/1.0"
    url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))
    name = _GENERATED_PREFIX + hashlib.sha1(url.encode()).hexdigest()[:10]
    ovh.client.ENDPOINTS[name] = url
    # OAuth2: the token URL of a custom endpoint sits at /auth/oauth2/token of the same host.
    token_url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/auth/oauth2/token", "", ""))
    ovh.client.OAUTH2_TOKEN_URLS[name] = token_url
    return Endpoint(given=given, name=name, url=url)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Explicit settings; anything left None is looked up the python-ovh way."""

    endpoint: str | None = None
    application_key: str | None = None
    application_secret: str | None = field(default=None, repr=False)
    consumer_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    config_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def make_client(settings: ClientSettings | None = None) -> tuple[ovh.Client, Endpoint]:
    """A python-ovh client for ``settings``; raises ConfigError or CredentialsError."""
    settings = settings or ClientSettings()
    if settings.config_file:
        if not os.path.isfile(settings.config_file):
            raise ConfigError(f"The OVH configuration file {settings.config_file} does not exist.")
    ovh_config = load_config(settings.config_file)
    endpoint = resolve_endpoint(settings.endpoint, ovh_config)

    def pick(explicit: str | None, key: str) -> str | None:
        if explicit:
            return explicit
        # Environment first, then the section named as the user wrote the endpoint
        # (for a URL, a section titled with that URL), as python-ovh does for names.
        value = ovh_config.get(endpoint.given, key)
        if value is None and endpoint.given != endpoint.name:
            value = ovh_config.get(endpoint.name, key)
        return value or None

    ak = pick(settings.application_key, "application_key")
    secret = pick(settings.application_secret, "application_secret")
    ck = pick(settings.consumer_key, "consumer_key")
    cid = pick(settings.client_id, "client_id")
    csecret = pick(settings.client_secret, "client_secret")

    if cid or csecret:
        if ak or secret:
            raise CredentialsError(
                "Both an application key and OAuth2 client credentials are configured; keep only one scheme."
            )
        if not (cid and csecret):
            raise CredentialsError("OAuth2 needs both OVH_CLIENT_ID and OVH_CLIENT_SECRET.")
        parsed = urllib.parse.urlsplit(endpoint.url)
        if parsed.scheme == "http" and _is_loopback(parsed.hostname):
            # oauthlib refuses plain http; allowed only for a server on this machine.
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    else:
        if not (ak and secret):
            raise CredentialsError(
                "No OVH API credentials found: set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and "
                "OVH_CONSUMER_KEY (or OVH_CLIENT_ID and OVH_CLIENT_SECRET), or write them in ovh.conf."
            )
        if not ck:
            raise CredentialsError(
                "No OVH consumer key found: set OVH_CONSUMER_KEY or consumer_key in ovh.conf."
            )
    try:
        client = ovh.Client(
            endpoint=endpoint.name,
            application_key=None if cid else ak,
            application_secret=None if cid else secret,
            consumer_key=None if cid else ck,
            client_id=cid,
            client_secret=csecret,
            timeout=settings.timeout,
        )
    except ovhx.InvalidConfiguration as exc:
        raise CredentialsError(f"The OVH API credentials are inconsistent: {_first_arg(exc)}.") from None
    except ovhx.InvalidRegion:
        raise ConfigError(f"python-ovh does not know the endpoint {endpoint.given!r}.") from None
    return client, endpoint


def _first_arg(exc: BaseException) -> str:
    if exc.args and isinstance(exc.args[0], str):
        return exc.args[0].rstrip(".")
    return type(exc).__name__


def _error_code(exc: ovhx.APIError) -> str | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        code = body.get("errorCode")
        return str(code) if code else None
    return None


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text.rstrip(". ")


def map_exception(exc: BaseException, what: str) -> VerifierError:
    """Turn a python-ovh (or requests) exception into one verifier error sentence.

    ``what`` names the operation, e.g. ``"read send connector 29"``.
    """
    if isinstance(exc, VerifierError):
        return exc
    message = _sentence(_first_arg(exc)) if exc.args else ""
    qid = getattr(exc, "query_id", None)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    tags = ", ".join(x for x in (f"HTTP {status}" if status else "", f"query {qid}" if qid else "") if x)
    tail = f" ({tags})" if tags else ""
    if isinstance(exc, ovhx.HTTPError):
        inner = exc.args[1] if len(exc.args) > 1 else None
        reason = type(inner).__name__ if inner is not None else "request failed"
        where = ""
        url = getattr(getattr(inner, "request", None), "url", None)
        if url:
            parts = urllib.parse.urlsplit(url)
            where = f" at {parts.scheme}://{parts.netloc}"
        return NetworkError(f"Could not {what}: the OVH API{where} could not be reached ({reason}).")
    if isinstance(exc, ovhx.InvalidResponse):
        return ApiError(f"Could not {what}: the API answered with something that is not JSON{tail}.")
    if isinstance(exc, ovhx.OAuth2FailureError):
        return CredentialsError(f"Could not {what}: the OAuth2 token request failed ({message}).")
    if isinstance(exc, ovhx.InvalidConfiguration | ovhx.InvalidRegion):
        return ConfigError(f"Could not {what}: {message}.")
    if isinstance(exc, ovhx.InvalidKey | ovhx.InvalidCredential | ovhx.NotCredential):
        return CredentialsError(f"Could not {what}: the API rejected the credentials: {message}{tail}.")
    if isinstance(exc, ovhx.NotGrantedCall | ovhx.Forbidden):
        return CredentialsError(
            f"Could not {what}: these credentials are not allowed to make this call: {message}{tail}."
        )
    if isinstance(exc, ovhx.APIError):
        code = _error_code(exc)
        if code == "INVALID_SIGNATURE":
            return CredentialsError(
                f"Could not {what}: the API rejected the request signature, so the application "
                f"secret or consumer key is wrong{tail}."
            )
        if code == "QUERY_TIME_OUT":
            return CredentialsError(
                f"Could not {what}: the API refused the request timestamp as out of time, so this "
                f"machine's clock or the API's time source is off{tail}."
            )
        if code in _CREDENTIAL_CODES:
            return CredentialsError(f"Could not {what}: the API refused the credentials: {message}{tail}.")
        if isinstance(exc, ovhx.ResourceNotFoundError):
            return NotFoundError(f"Could not {what}: {message}{tail}.")
        if isinstance(exc, ovhx.BadParametersError | ovhx.ResourceConflictError):
            return ApiError(f"Could not {what}: {message}{tail}.")
        if status == 401:
            return CredentialsError(f"Could not {what}: the API wants valid credentials: {message}{tail}.")
        return ApiError(f"Could not {what}: {message or 'the API answered an error'}{tail}.")
    if isinstance(exc, OSError):
        return NetworkError(f"Could not {what}: {type(exc).__name__}.")
    return ApiError(f"Could not {what}: unexpected {type(exc).__name__}.")


@contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Run a block of python-ovh calls; any failure becomes one verifier error."""
    try:
        yield
    except VerifierError:
        raise
    except (ovhx.APIError, OSError) as exc:
        raise map_exception(exc, what) from None
    except Exception as exc:  # requests errors outside Client.call (OAuth2 token fetch)
        if type(exc).__module__.startswith(("requests", "oauthlib", "urllib3")):
            raise map_exception(exc, what) from None
        raise
