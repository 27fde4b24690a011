"""The probe message: how it is marked, how it is found again, how a bounce is told apart.

A probe carries its token three times: in the Subject, in an ``X-Verifier-Probe``
header, and in the body. Relays may rewrite the Message-ID, tag the Subject
(``[EXTERNAL] ...``) or drop unknown headers, so the probe is found by any of
the three. A delivery status notification that quotes the token is a bounce,
never a delivery.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import format_datetime, make_msgid

PROBE_HEADER = "X-Verifier-Probe"
TOKEN_RE = re.compile(r"vprobe-[0-9a-f]{24}")
_TOKEN_TIME_RE = re.compile(r"vprobe-([0-9a-f]{8})")


def new_token(now_epoch: int) -> str:
    """A unique token that also records when it was made (for sweeping leftovers)."""
    return f"vprobe-{now_epoch & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def token_time(token: str) -> int | None:
    m = _TOKEN_TIME_RE.match(token)
    return int(m.group(1), 16) if m else None


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
