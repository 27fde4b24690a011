"""Submitting the probe: SMTP submission with STARTTLS (certificate verified) and AUTH."""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from verifier.errors import CredentialsError, NetworkError, NotDeliveredError

_QUEUED_RE = re.compile(r"queued as ([A-Za-z0-9._-]+)", re.I)


@dataclass(frozen=True, slots=True)
class Submitted:
    queue_id: str | None  # what the submission server said it queued the message as
    reply: str
    seconds: float


async def submit(*, address: str, port: int, server_hostname: str, ssl_context: ssl.SSLContext,
                 username: str | None, password: str | None, message: EmailMessage,
                 sender: str, recipients: Sequence[str], timeout: float) -> Submitted:
    start = time.monotonic()
    smtp = aiosmtplib.SMTP(hostname=address, port=port, timeout=timeout, start_tls=False, use_tls=False)
    try:
        try:
            await smtp.connect()
            await smtp.starttls(server_hostname=server_hostname, tls_context=ssl_context)
        except ssl.SSLCertVerificationError as exc:
            raise NetworkError(f"The submission server {server_hostname} presented a certificate that does not verify: {exc.verify_message}.") from None
        except aiosmtplib.SMTPException as exc:
            raise NetworkError(f"STARTTLS with the submission server {server_hostname} failed: {_short(exc)}.") from None
        except OSError as exc:
            raise NetworkError(f"Cannot connect to the submission server {server_hostname} ({address}:{port}): {exc.strerror or type(exc).__name__}.") from None
        if username and password is not None:
            try:
                await smtp.login(username, password)
            except aiosmtplib.SMTPAuthenticationError:
                raise CredentialsError(f"The submission server {server_hostname} refused the login of {username}.") from None
        try:
            _, reply = await smtp.send_message(message, sender=sender, recipients=list(recipients))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(recipients)
            raise NotDeliveredError(f"The submission server refused the recipient {refused}: {_short(exc)}.") from None
        except aiosmtplib.SMTPSenderRefused as exc:
            raise NotDeliveredError(f"The submission server refused the sender {sender}: {_short(exc)}.") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise NotDeliveredError(f"The submission server refused the message: {_short(exc)}.") from None
    except aiosmtplib.SMTPServerDisconnected:
        raise NetworkError(f"The submission server {server_hostname} closed the connection.") from None
    except aiosmtplib.SMTPTimeoutError:
        raise NetworkError(f"The submission server {server_hostname} did not answer within {timeout:.0f} s.") from None
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:  # the message is already accepted or refused; quitting is courtesy
                smtp.close()
    m = _QUEUED_RE.search(reply or "")
    return Submitted(m.group(1) if m else None, reply, time.monotonic() - start)


def _short(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    msg = getattr(exc, "message", None) or str(exc)
    msg = " ".join(str(msg).split())[:200]
    return f"{code} {msg}" if code else msg
