"""`connector test`: check a smarthost the way the platform will use it, without sending mail.

Steps, each reported pass/fail/skip with its reason: resolve the host, connect
and read the banner, EHLO, STARTTLS with certificate verification (or implicit
TLS on port 465), EHLO again and list the AUTH mechanisms, and, given
credentials, AUTH. The session ends with QUIT; no MAIL FROM is ever sent.
Certificates are always verified; ``ca_file`` adds a CA to trust instead of
the system store. AUTH is never tried over a connection that is not encrypted.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib

from verifier.parsers.ip import is_ip

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"step": self.name, "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class PreflightReport:
    host: str
    port: int
    tls_mode: str
    steps: tuple[Step, ...]
    auth_mechanisms: tuple[str, ...] = ()
    user: str | None = None
    connector_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return all(s.status != FAIL for s in self.steps)

    @property
    def first_failure(self) -> Step | None:
        return next((s for s in self.steps if s.status == FAIL), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "tlsMode": self.tls_mode,
            "connectorId": self.connector_id,
            "user": self.user,
            "ok": self.ok,
            "authMechanisms": list(self.auth_mechanisms),
            "steps": [s.to_dict() for s in self.steps],
        }


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context; with ``ca_file``, that CA is the one trusted."""
    ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _tls_reason(exc: BaseException) -> str:
    """The most precise reason a TLS step failed, found along the exception chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"certificate verification failed: {seen.verify_message or seen.reason}"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error: {seen.reason or seen}"
        seen = seen.__cause__ or seen.__context__
    return _reason(exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"server answered {exc.code} {exc.message}".strip()
    if isinstance(exc, asyncio.TimeoutError | aiosmtplib.SMTPTimeoutError):
        return "timed out"
    text = str(exc).strip() or type(exc).__name__
    return text


async def smtp_preflight(
    host: str,
    port: int,
    *,
    user: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
    timeout: float = 20.0,
    helo: str | None = None,
    tls_mode: str = "auto",
    connector_id: int | None = None,
    address: str | None = None,
) -> PreflightReport:
    """Run every step; stop at the first failing one (later steps are reported as skipped).

    ``address``, when given, is where to connect (already resolved, e.g. through a
    lab's DNS server); the certificate is still verified against ``host``.
    """
    mode = tls_mode
    if mode == "auto":
        mode = "implicit" if port == 465 else "starttls"
    steps: list[Step] = []
    mechanisms: tuple[str, ...] = ()

    def done() -> PreflightReport:
        names = ["resolve", "connect", "ehlo", "starttls", "auth-mechanisms", "auth"]
        have = {s.name for s in steps}
        failed = any(s.status == FAIL for s in steps)
        for name in names:
            if name not in have:
                steps.append(Step(name, SKIP, "not run: an earlier step failed" if failed else "not needed"))
        if password:  # a server could echo what it got; never pass a password on
            steps[:] = [Step(s.name, s.status, s.detail.replace(password, "***")) for s in steps]
        return PreflightReport(
            host=host,
            port=port,
            tls_mode=mode,
            steps=tuple(steps),
            auth_mechanisms=mechanisms,
            user=user,
            connector_id=connector_id,
        )

    # 1. resolve
    if address:
        steps.append(Step("resolve", PASS, f"{host} has address {address}"))
    elif is_ip(host):
        steps.append(Step("resolve", PASS, f"{host} is an IP address"))
    else:
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
            )
            addrs = sorted({info[4][0] for info in infos})
            steps.append(Step("resolve", PASS, f"{host} has address {', '.join(addrs)}"))
        except (TimeoutError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or _reason(exc)
            steps.append(Step("resolve", FAIL, f"cannot resolve {host}: {reason}"))
            return done()

    ctx = tls_context(ca_file)
    smtp = aiosmtplib.SMTP(
        hostname=address if address and mode != "implicit" else host,
        port=port,
        timeout=timeout,
        use_tls=mode == "implicit",
        start_tls=False,
        tls_context=ctx,
        local_hostname=helo,
    )
    try:
        # 2. connect (and the TLS handshake, for implicit TLS)
        try:
            banner = await smtp.connect()
            tls_note = ""
            if mode == "implicit":
                tls_note = f"; implicit TLS, certificate verified for {host}"
            steps.append(Step("connect", PASS, f"{host}:{port} answered {banner.code} {banner.message}{tls_note}"))
        except Exception as exc:  # noqa: BLE001 - every reason is reported as the step's failure
            reason = _tls_reason(exc) if mode == "implicit" else _reason(exc)
            steps.append(Step("connect", FAIL, f"cannot connect to {host}:{port}: {reason}"))
            return done()

        # 3. EHLO
        try:
            resp = await smtp.ehlo()
            first = resp.message.splitlines()[0] if resp.message else ""
            exts = sorted(smtp.esmtp_extensions)
            steps.append(Step("ehlo", PASS, f"{first}; extensions: {', '.join(exts) or 'none'}"))
        except Exception as exc:  # noqa: BLE001
            steps.append(Step("ehlo", FAIL, f"EHLO refused: {_reason(exc)}"))
            return done()

        # 4. STARTTLS
        if mode == "implicit":
            steps.append(Step("starttls", SKIP, "implicit TLS is already in use"))
        elif not smtp.supports_extension("starttls"):
            steps.append(Step("starttls", FAIL, "the server does not offer STARTTLS"))
            return done()
        else:
            try:
                await smtp.starttls(tls_context=ctx, server_hostname=host)
                info = ""
                transport = smtp.transport
                sslobj = transport.get_extra_info("ssl_object") if transport else None
                if sslobj is not None:
                    info = f"{sslobj.version()}, "
                steps.append(Step("starttls", PASS, f"{info}certificate verified for {host}"))
            except Exception as exc:  # noqa: BLE001
                steps.append(Step("starttls", FAIL, _tls_reason(exc)))
                return done()

        # 5. AUTH mechanisms (EHLO again over TLS)
        try:
            await smtp.ehlo()
            raw = smtp.esmtp_extensions.get("auth", "")
            mechanisms = tuple(m.upper() for m in raw.split())
            if mechanisms:
                steps.append(Step("auth-mechanisms", PASS, f"offered: {' '.join(mechanisms)}"))
            elif user:
                steps.append(Step("auth-mechanisms", FAIL, "the server offers no AUTH mechanism"))
                return done()
            else:
                steps.append(Step("auth-mechanisms", PASS, "the server offers no AUTH mechanism"))
        except Exception as exc:  # noqa: BLE001
            steps.append(Step("auth-mechanisms", FAIL, f"EHLO after TLS refused: {_reason(exc)}"))
            return done()

        # 6. AUTH
        if not user:
            steps.append(Step("auth", SKIP, "no user given"))
        elif password is None:
            steps.append(Step("auth", SKIP, "no password given"))
        else:
            try:
                resp = await smtp.login(user, password)
                steps.append(Step("auth", PASS, f"accepted for {user} ({resp.code} {resp.message})"))
            except aiosmtplib.SMTPAuthenticationError as exc:
                steps.append(Step("auth", FAIL, f"refused for {user}: {exc.code} {exc.message}"))
            except aiosmtplib.SMTPException as exc:
                steps.append(Step("auth", FAIL, f"AUTH failed for {user}: {_reason(exc)}"))
        return done()
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:  # noqa: BLE001 - the verdict is already made
                smtp.close()
