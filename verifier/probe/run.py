"""One probe run: expectations from the API, the trip, the analysis, the verdict.

Order matters and is the point of the design:

1. ask the API what must happen (the account's connector, its smartHost and
   state, the platform's hostname) and stop before sending anything if the
   connector is not usable;
2. resolve the smartHost, so the analysis can recognise it by address too;
3. open every watched folder and note its UIDNEXT *before* sending;
4. submit the attached sender's message, then the control's;
5. wait (IDLE, renewed; polling without IDLE) until each token is seen,
   a bounce quoting it arrives, or the timeout; the mailbox's watchers are
   shared with every other probe of the same hub (verifier.probe.mailbox);
6. analyse each message with the same engine as ``verifier analyze``;
7. delete exactly the messages this run created (each proven the tool's own),
   and sweep earlier probes' leftovers that are provably the tool's own and
   older than the profile's limit by the server's INTERNALDATE.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from verifier.analysis.engine import (
    VERDICT_BYPASSED,
    VERDICT_NOT_DELIVERED,
    VERDICT_VIA_CONNECTOR,
    Analysis,
    Options,
    analyze_bytes,
)
from verifier.analysis.hosts import DEFAULT_PLATFORM_PATTERNS
from verifier.errors import (
    CheckFailedError,
    ConfigError,
    NetworkError,
    NotFoundError,
    VerifierError,
)
from verifier.probe import message as pm
from verifier.probe.imap import Fetched
from verifier.probe.mailbox import MailboxHub
from verifier.probe.profile import Profile, SmtpAccount
from verifier.probe.smtp import Submitted, submit

Progress = Callable[[str], None]
OnSubmitted = Callable[["Leg"], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Expectation:
    role: str
    address: str
    expect: str  # via-connector | bypassed
    source: str  # "api" | "profile"
    connector_id: int | None = None
    smart_host: str | None = None
    smart_port: int | None = None
    connector_state: str | None = None
    smart_host_ips: tuple[str, ...] = ()
    problem: str | None = None  # set when the API says the route cannot work now


@dataclass
class Leg:
    role: str
    account: SmtpAccount
    expectation: Expectation
    token: str
    submitted: Submitted | None = None
    sent_at: float | None = None  # monotonic
    sent_wall: datetime | None = None
    found: Fetched | None = None
    bounce: Fetched | None = None
    analysis: Analysis | None = None
    checks: object | None = None  # verifier.checks.ChecksReport
    checks_error: str | None = None
    verdict: str = VERDICT_NOT_DELIVERED
    error: str | None = None
    timings: dict = field(default_factory=dict)
    decided_at: float | None = None  # wall clock when the verdict was reached

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expectation.expect


@dataclass
class ProbeResult:
    profile: str
    platform_hostname: str | None
    legs: list[Leg]
    swept: int = 0
    cleanup_error: str | None = None
    started: datetime | None = None
    seconds: float = 0.0
    watch: str = "idle"  # "idle" | "poll": how the mailbox was watched
    preflight: object | None = None  # verifier.platform.preflight.PreflightReport of the smartHost

    @property
    def ok(self) -> bool:
        return all(leg.as_expected for leg in self.legs)


# --------------------------------------------------------------------------- network helpers


async def resolve(name: str, resolver) -> list[str]:
    """Addresses of ``name`` through the run's resolver (the profile's DNS server, or the system's)."""
    from verifier.checks import resolve_host

    found = await resolve_host(name, resolver)
    if found.status != "ok":
        raise NetworkError(found.reason)
    return list(found.addresses)


_TLS_CONTEXTS: dict[tuple[str | None, float | None], ssl.SSLContext] = {}


def tls_context(profile: Profile) -> ssl.SSLContext:
    """A verifying context (the system's CAs, plus the profile's CA file). Contexts are shared
    between runs of one process (each holds its own copy of the CA store, a megabyte or more);
    a CA file that changes on disk gets a fresh one."""
    try:
        mtime = os.stat(profile.ca_file).st_mtime if profile.ca_file else None
    except OSError:
        mtime = None
    cache_key = (profile.ca_file, mtime)
    ctx = _TLS_CONTEXTS.get(cache_key)
    if ctx is not None:
        return ctx
    ctx = ssl.create_default_context()
    if profile.ca_file:
        try:
            ctx.load_verify_locations(cafile=profile.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"Cannot load the CA file {profile.ca_file}: {exc}.") from None
    if len(_TLS_CONTEXTS) >= 16:
        _TLS_CONTEXTS.clear()
    _TLS_CONTEXTS[cache_key] = ctx
    return ctx


async def _in_daemon_thread(fn, *args):
    """``fn(*args)`` in a daemon thread: python-ovh is synchronous, and a hung API must not keep
    the process alive past an overall timeout (``asyncio.to_thread`` threads are joined at exit)."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def settle(ok: bool, value) -> None:
        if not fut.done():
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    def work() -> None:
        try:
            ok, value = True, fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task as is
            ok, value = False, exc
        try:
            loop.call_soon_threadsafe(settle, ok, value)
        except RuntimeError:
            pass  # the loop is gone: nobody waits for this answer any more

    threading.Thread(target=work, name="verifier-api", daemon=True).start()
    return await fut


# --------------------------------------------------------------------------- expectations


def api_expectations(profile: Profile) -> tuple[list[Expectation], str | None]:
    """What the API says each leg must do. Synchronous (python-ovh); run it in a thread."""
    from verifier.platform.api import ExchangeApi, pick_service
    from verifier.platform.client import ClientSettings, make_client

    p = profile.platform
    # The request timeout follows the profile's connect timeout, so a hung API cannot outlive
    # an overall --timeout (the call runs in a thread, which cannot be cancelled).
    client, _ = make_client(ClientSettings(endpoint=p.endpoint, config_file=p.config_file, timeout=profile.connect_timeout))
    org, svc = pick_service(client, p.organization, p.service)
    api = ExchangeApi(client, org, svc)
    hostname = api.service().hostname
    out = []
    for role, acct in (("sender", profile.sender), ("control", profile.control)):
        if acct is None:
            continue
        try:
            account = api.account(acct.address)
        except NotFoundError:
            raise ConfigError(f"The API knows no account {acct.address} on {svc}.") from None
        cid = account.connector_id
        if not cid:
            out.append(Expectation(role, acct.address, VERDICT_BYPASSED, "api"))
            continue
        conn = api.connector(cid)
        problem = None
        if conn.state != "ok":
            problem = f"the connector {cid} ({conn.smart_host}) is in state '{conn.state}', not 'ok'"
        elif conn.task_pending_id:
            problem = f"the connector {cid} has a task still pending ({conn.task_pending_id})"
        elif account.task_pending_id:
            problem = f"the account {acct.address} has a task still pending ({account.task_pending_id})"
        out.append(
            Expectation(role, acct.address, VERDICT_VIA_CONNECTOR, "api", cid, conn.smart_host, conn.port, conn.state, problem=problem)
        )
    return out, hostname


# --------------------------------------------------------------------------- the run


async def run_probe(profile: Profile, progress: Progress | None = None, *, hub: MailboxHub | None = None,
                    now: Callable[[], float] = time.time, on_submitted: OnSubmitted | None = None,
                    deadline: float | None = None) -> ProbeResult:
    """Run one probe.

    ``hub``: the :class:`~verifier.probe.mailbox.MailboxHub` whose watchers to share (a
    private one, closed at the end, when None). ``on_submitted`` is called with each leg
    right after its submission. ``deadline`` (``time.monotonic()``): stop waiting for
    delivery by then, whatever the profile's delivery timeout says."""
    say = progress or (lambda _msg: None)
    start_mono = time.monotonic()
    started = datetime.now(UTC)
    hostname = None

    # 1. expectations
    if profile.platform is not None:
        say("asking the API what each address must do")
        exps, hostname = await _in_daemon_thread(api_expectations, profile)
        by_role = {e.role: e for e in exps}
    else:
        by_role = {}
    legs_spec: list[tuple[str, SmtpAccount]] = [("sender", profile.sender)]
    if profile.control is not None:
        legs_spec.append(("control", profile.control))
    # With a [platform] section the API decides; the profile's 'expect' is for targets without one.
    expectations: dict[str, Expectation] = {}
    for role, acct in legs_spec:
        expectations[role] = by_role.get(role) or Expectation(
            role, acct.address, acct.expect or (VERDICT_VIA_CONNECTOR if role == "sender" else VERDICT_BYPASSED), "profile"
        )
    for e in expectations.values():
        if e.problem:
            raise CheckFailedError(f"Nothing was sent: {e.problem}.", hint="wait for the API's task to finish (verifier connector show --wait) and probe again")

    from verifier.checks import DnsResolver, run_checks

    resolver = DnsResolver(profile.nameserver, port=profile.nameserver_port, timeout=profile.connect_timeout) if profile.nameserver else DnsResolver(timeout=profile.connect_timeout)

    # 2. smartHost addresses
    smart_names = [e.smart_host for e in expectations.values() if e.smart_host]
    smart_ips: list[str] = []
    for name in dict.fromkeys(smart_names):
        say(f"resolving the smartHost {name}")
        smart_ips.extend(await resolve(name, resolver))
    ctx = tls_context(profile)
    preflight = None
    preflight_task: asyncio.Task | None = None
    smart = next((e for e in expectations.values() if e.smart_host), None)
    if smart is not None:
        from verifier.platform.preflight import smtp_preflight

        login = profile.smarthost_login
        say(f"checking the smartHost {smart.smart_host}:{smart.smart_port} (no mail is sent)")
        # It sends no mail, so it runs alongside the trip; its answer is read if a message is missing.
        preflight_task = asyncio.create_task(smtp_preflight(
            smart.smart_host, smart.smart_port or 25,
            user=login.username if login else None,
            password=login.password.reveal("the smarthost login") if login and (login.password.file or login.password.env) else None,
            ca_file=profile.ca_file, timeout=profile.connect_timeout,
            address=(login.address if login and login.address else (smart_ips[0] if smart_ips else None)),
            connector_id=smart.connector_id,
        ))

    # 3. watch the mailbox (through the shared hub, or a private one for this run)
    rec = profile.recipient
    own_hub = hub is None
    if hub is None:
        hub = MailboxHub(max_connections=rec.max_connections, sweep_interval=0.0)
    sub = None
    try:
        key = pm.key_for(profile.secret_file)
        imap_addr = rec.connect_address or (await resolve(rec.host, resolver))[0]
        legs = []
        for role, acct in legs_spec:
            legs.append(Leg(role, acct, expectations[role], key.new_token(int(now()))))
        say(f"opening {', '.join(rec.folders)} on {rec.host}")
        sub = await hub.subscribe(profile, {leg.token: leg.account.address for leg in legs},
                                  address=imap_addr, ssl_context=ctx, key=key, progress=say)

        # 4. submit
        for leg in legs:
            acct = leg.account
            password = acct.password.reveal(f"the account {acct.address}")
            addr = acct.connect_address or (await resolve(acct.host, resolver))[0]
            leg.sent_wall = datetime.now(UTC)
            msg = pm.build(acct.address, rec.address, leg.token, leg.role, leg.sent_wall, profile.subject_prefix)
            say(f"submitting the {leg.role} message from {acct.address} to {acct.host}:{acct.port}")
            leg.sent_at = time.monotonic()
            sub.submitted()
            try:
                leg.submitted = await submit(address=addr, port=acct.port, server_hostname=acct.host, ssl_context=ctx,
                                             username=acct.username, password=password, message=msg,
                                             sender=acct.address, recipients=(rec.address,), timeout=profile.connect_timeout,
                                             on_retry=lambda err, pause: say(
                                                 f"{str(err).rstrip('.')}; trying again in {pause:.0f} s"))
                leg.timings["submit"] = round(leg.submitted.seconds, 3)
            except VerifierError as exc:
                leg.error = str(exc)
                leg.verdict = VERDICT_NOT_DELIVERED
            sub.submitted()
            if on_submitted is not None and leg.submitted is not None:
                maybe = on_submitted(leg)
                if maybe is not None:
                    await maybe

        # 5. wait
        sent = {leg.token for leg in legs if leg.submitted is not None}
        end = time.monotonic() + profile.delivery_timeout
        if deadline is not None:
            end = min(end, deadline)
        while sent & sub.pending:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            waiting = ", ".join(sorted(leg.role for leg in legs if leg.token in sent & sub.pending))
            say(f"waiting for {waiting} ({remaining:.0f} s left)")
            await sub.wait(min(remaining, 1.0))
        waited_until = time.monotonic()
        for leg in legs:
            leg.found = sub.found.get(leg.token)
            leg.bounce = sub.bounces.get(leg.token)
        preflight_unfinished = False
        if preflight_task is not None:
            try:
                if deadline is None:
                    preflight = await preflight_task
                else:
                    preflight = await asyncio.wait_for(asyncio.shield(preflight_task), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                preflight_unfinished = True

        # 6. analyse
        opts_smarthosts = tuple(dict.fromkeys([*smart_names, *smart_ips, *profile.smarthosts]))
        platform_patterns = list(DEFAULT_PLATFORM_PATTERNS)
        if profile.platform and profile.platform.platform_patterns:
            platform_patterns = list(profile.platform.platform_patterns)
        if hostname:
            platform_patterns.append(hostname)
        options = Options(
            smarthosts=opts_smarthosts,
            platform=tuple(dict.fromkeys(platform_patterns)),
            trusted_authserv_ids=(rec.authserv_id,) if rec.authserv_id else (),
        )
        for leg in legs:
            if leg.bounce is not None:
                leg.verdict = VERDICT_NOT_DELIVERED
                leg.error = f"a bounce for the {leg.role} message arrived in {leg.bounce.folder}"
                continue
            if leg.found is None:
                if leg.error is None:
                    waited = waited_until - leg.sent_at if leg.sent_at is not None else profile.delivery_timeout
                    leg.error = f"the {leg.role} message did not arrive within {waited:.0f} s"
                    failure = preflight.first_failure if preflight is not None and leg.expectation.smart_host else None
                    if failure is not None:
                        leg.error += f"; the smartHost check failed at '{failure.name}': {failure.detail}"
                    elif preflight_unfinished and leg.expectation.smart_host:
                        leg.error += "; the smartHost check had not finished by then"
                continue
            t0 = time.monotonic()
            leg.analysis = analyze_bytes(leg.found.raw, options)
            leg.verdict = leg.analysis.verdict
            leg.decided_at = time.time()
            leg.timings["mailbox"] = round(leg.found.seen_at - leg.sent_at, 3) if leg.sent_at else None
            leg.timings["verdict"] = round(time.monotonic() - t0, 4)
            leg.timings.update(_header_timings(leg))
            leg.timings["folder"] = leg.found.folder
            say(f"checking DKIM, ARC, SPF and DMARC of the {leg.role} message")
            try:
                leg.checks = await run_checks(leg.found.raw, leg.analysis, resolver)
            except VerifierError as exc:
                leg.checks_error = str(exc)

        # 7. clean up: only what is provably the tool's own (docs/probe.md, "Cleanup")
        result = ProbeResult(profile.name, hostname, legs, started=started, watch=sub.watch, preflight=preflight)
        try:
            await sub.delete_own()
            own = [profile.sender.address] + ([profile.control.address] if profile.control else [])
            result.swept = await sub.sweep(now() - profile.sweep_after, own)
        except VerifierError as exc:
            result.cleanup_error = str(exc)
        result.seconds = round(time.monotonic() - start_mono, 3)
        return result
    finally:
        if preflight_task is not None and not preflight_task.done():
            preflight_task.cancel()
        if sub is not None:
            sub.close()
        if own_hub:
            await hub.close()


def _header_timings(leg: Leg) -> dict:
    """Per-phase times from the message's own Received stamps (1-second resolution)."""
    a = leg.analysis
    out: dict = {}
    if a is None or leg.sent_wall is None:
        return out
    sent = leg.sent_wall.replace(microsecond=0)
    sm = [h for h in a.hops if h.zone == "smarthost" and h.received.date and h.received.date.utc]
    if sm:
        out["smarthost"] = max(0.0, (sm[-1].received.date.utc - sent).total_seconds())
    if a.border is not None:
        b = a.hops[a.border.index].received
        if b.date and b.date.utc:
            out["border"] = max(0.0, (b.date.utc - sent).total_seconds())
    return out

