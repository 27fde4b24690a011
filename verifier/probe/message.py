"""The probe message: how it is marked, how it is found again, how a bounce is told apart.

A probe carries its token three times: in the Subject, in an ``X-Verifier-Probe``
header, and in the body. Relays may rewrite the Message-ID, tag the Subject
(``[EXTERNAL] ...``) or drop unknown headers, so the probe is found by any of
the three. A delivery status notification that quotes the token is a bounce,
never a delivery.

Tokens are provable: ``vprobe-<time><random>-<mac>``, where the MAC is an HMAC
(SHA-256, truncated to 96 bits) of the first part under a per-installation
secret (:class:`TokenKey`). Only this installation can make a token that
verifies, so the cleanup can tell its own messages from look-alikes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import format_datetime, getaddresses, make_msgid

from verifier.errors import ConfigError

PROBE_HEADER = "X-Verifier-Probe"
TOKEN_RE = re.compile(r"vprobe-[0-9a-f]{24}-[0-9a-f]{24}")
_TOKEN_B_RE = re.compile(rb"vprobe-[0-9a-f]{24}-[0-9a-f]{24}")
_TOKEN_TIME_RE = re.compile(r"vprobe-([0-9a-f]{8})")
SECRET_NAME = "probe-token.key"
_SECRET_BYTES = 32
_MAX_TOKENS_PER_MESSAGE = 16  # a message quoting more tokens than this is not examined further


def default_state_dir() -> str:
    """``$XDG_STATE_HOME/verifier``, else ``~/.local/state/verifier``."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "verifier")


def default_secret_file() -> str:
    return os.path.join(default_state_dir(), SECRET_NAME)


class TokenKey:
    """The per-installation secret that makes tokens provable. Its value is never printed."""

    __slots__ = ("_key", "path")

    def __init__(self, key: bytes, path: str | None = None) -> None:
        if len(key) < 16:
            raise ConfigError("The probe token secret is too short (at least 16 bytes).")
        self._key = key
        self.path = path

    def __repr__(self) -> str:
        return f"TokenKey(path={self.path!r})"

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).hexdigest()[:24]

    def new_token(self, now_epoch: int) -> str:
        body = f"vprobe-{now_epoch & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"
        return f"{body}-{self._mac(body)}"

    def is_own_token(self, token: str) -> bool:
        """True only for a token this installation made (its MAC verifies)."""
        if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
            return False
        body, mac = token.rsplit("-", 1)
        return hmac.compare_digest(mac, self._mac(body))


def load_key(path: str | None = None) -> TokenKey:
    """The secret at ``path`` (default: :func:`default_secret_file`), created on first use (mode 0600)."""
    path = path or default_secret_file()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return _create_key(path)
    except OSError as exc:
        raise ConfigError(f"Cannot read the probe token secret {path}: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"The probe token secret {path} is not a regular file.")
        if st.st_mode & 0o077:
            raise ConfigError(f"The probe token secret {path} is readable or writable by others; make it mode 0600.")
        data = fh.read(4096)
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(f"The probe token secret {path} is not the hexadecimal secret verifier writes.") from None
    return TokenKey(key, path)


def _create_key(path: str) -> TokenKey:
    directory = os.path.dirname(path) or "."
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        key = secrets.token_bytes(_SECRET_BYTES)
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        try:
            os.link(tmp, path)  # never replaces a secret another process made meanwhile
        except FileExistsError:
            os.unlink(tmp)
            return load_key(path)
        os.unlink(tmp)
    except OSError as exc:
        raise ConfigError(f"Cannot create the probe token secret {path}: {exc.strerror or exc}.") from None
    return TokenKey(key, path)


_DEFAULT_KEYS: dict[str, TokenKey] = {}


def key_for(path: str | None = None) -> TokenKey:
    """The key at ``path`` (default location when None), loaded once per process."""
    path = path or default_secret_file()
    if path not in _DEFAULT_KEYS:
        _DEFAULT_KEYS[path] = load_key(path)
    return _DEFAULT_KEYS[path]


def new_token(now_epoch: int, key: TokenKey | None = None) -> str:
    """A unique, provable token that also records when it was made."""
    return (key or key_for()).new_token(now_epoch)


def is_own_token(token: str, key: TokenKey | None = None) -> bool:
    """True only for a token this installation made (its MAC verifies under the secret)."""
    return (key or key_for()).is_own_token(token)


def token_time(token: str) -> int | None:
    m = _TOKEN_TIME_RE.match(token)
    return int(m.group(1), 16) if m else None


def tokens_in(raw: bytes) -> list[str]:
    """Distinct token-shaped strings in a message, in order of appearance (at most a few)."""
    out: list[str] = []
    for m in _TOKEN_B_RE.finditer(raw):
        tok = m.group(0).decode("ascii")
        if tok not in out:
            out.append(tok)
            if len(out) >= _MAX_TOKENS_PER_MESSAGE:
                break
    return out


def _addresses(value: str | None) -> set[str]:
    return {a.lower() for _, a in getaddresses([value or ""]) if a}


def proven_own(raw: bytes, own_senders, key: TokenKey, *, token: str | None = None) -> str | None:
    """The token if this message is provably one the tool sent, else None.

    Proof: its ``X-Verifier-Probe`` header (exactly one) starts with a token
    whose MAC verifies under ``key`` (and equals ``token`` when given), and its
    From is exactly one address, one of ``own_senders``. A token in the Subject
    or body alone proves nothing.
    """
    head = BytesParser(policy=compat32).parsebytes(headers_of(raw), headersonly=True)
    values = head.get_all(PROBE_HEADER) or []
    if len(values) != 1:
        return None
    m = TOKEN_RE.match(" ".join(str(values[0]).split()))
    if m is None:
        return None
    found = m.group(0)
    if token is not None and found != token:
        return None
    if not key.is_own_token(found):
        return None
    senders = _addresses(str(head.get("From") or ""))
    if len(head.get_all("From") or []) != 1 or len(senders) != 1:
        return None
    own = {s.lower() for s in own_senders}
    return found if senders <= own else None


def build(sender: str, recipient: str, token: str, role: str, now: datetime, subject_prefix: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    prefix = f"{subject_prefix} " if subject_prefix else ""
    msg["Subject"] = f"{prefix}verifier probe {token} ({role})"
    msg["Date"] = format_datetime(now)
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else None
    msg["Message-ID"] = make_msgid(idstring=token, domain=domain)
    msg[PROBE_HEADER] = f"{token}; role={role}"
    msg.set_content(
        "This is an automatic test message sent by verifier to prove which route mail takes.\n"
        f"Probe token: {token}\nRole: {role}\n"
        "It is deleted by the probe once read; it can be deleted safely.\n"
    )
    return msg


def headers_of(raw: bytes) -> bytes:
    """The header block of a raw message (up to the first empty line)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return raw[: i + len(sep) // 2]
    return raw


def is_bounce(raw: bytes) -> bool:
    """A DSN (RFC 3464), or a non-delivery report by its usual marks."""
    head = BytesParser(policy=compat32).parsebytes(headers_of(raw), headersonly=True)
    ctype = (head.get("Content-Type") or "").lower()
    if "multipart/report" in ctype and "delivery-status" in ctype:
        return True
    sender = (head.get("From") or "").lower()
    subject = (head.get("Subject") or "").lower()
    if any(s in sender for s in ("mailer-daemon", "postmaster@")) and any(
        w in subject for w in ("undeliver", "delivery status", "failure", "returned", "not delivered", "delivery failed")
    ):
        return True
    return bool(head.get("Auto-Submitted", "").lower().startswith("auto-replied")) and "undeliver" in subject


def carries(raw: bytes, token: str) -> bool:
    return token.encode() in raw
