"""verifier.probe.smtp.submit against a real SMTP server (aiosmtpd, STARTTLS with a test CA):
what is tried again after a temporary refusal, and what never is."""

from __future__ import annotations

import asyncio
import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.tls_support import free_port, make_pki, server_context
from verifier.errors import (
    CredentialsError,
    ExitCode,
    NetworkError,
    NotDeliveredError,
    exit_code_for,
)
from verifier.probe.smtp import submit

USER, PASSWORD = "alice@example.test", "s3cret-for-tests"
RCPT = "rcpt@example.test"
FAST = (0.01, 0.01)  # the pauses between attempts, made short for the tests


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"), "IP:127.0.0.1,DNS:submission.example.test")


class Script:
    """What the server answers, attempt by attempt (one attempt = one connection)."""

    def __init__(self, *, greeting=(), rcpt=(), data=(), auth=(), drop_after_data=False) -> None:
        self.greeting, self.rcpt, self.data, self.auth = list(greeting), list(rcpt), list(data), list(auth)
        self.drop_after_data = drop_after_data
        self.connections = 0
        self.messages = 0
        self.armed = False  # the controller's own readiness connection is not an attempt

    @staticmethod
    def next(answers: list[str]) -> str | None:
        return answers.pop(0) if answers else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        answer = self.next(self.rcpt)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages += 1
        if self.drop_after_data:
            server.transport.abort()  # the data arrived; the answer never leaves
        return self.next(self.data) or "250 2.0.0 Ok: queued as 4ABCDEF"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        answer = self.next(self.auth)
        if answer == "454":
            return AuthResult(success=False, handled=True, message="454 4.7.0 Temporary authentication failure")
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False)


class ScriptedController(Controller):
    def __init__(self, script: Script, **kwargs) -> None:
        self.script = script
        super().__init__(script, **kwargs)

    def factory(self):
        script = self.script

        class Scripted(SMTP):
            def connection_made(self, transport):
                first = self.transport is None and self._original_transport is None  # not the STARTTLS upgrade
                if first and script.armed:
                    script.connections += 1
                    answer = script.next(script.greeting)
                    if answer:
                        transport.write(f"{answer}\r\n".encode())
                        transport.close()
                        return
                super().connection_made(transport)

        return Scripted(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def server(pki):
    started: list[Controller] = []

    def start(script: Script, cert: str = "good") -> int:
        port = free_port()
        c = ScriptedController(script, hostname="127.0.0.1", port=port, authenticator=script.authenticator,
                               tls_context=server_context(pki[cert], pki[f"{cert}_key"]), require_starttls=True,
                               auth_require_tls=True, server_hostname="submission.example.test")
        c.start()
        script.armed = True
        started.append(c)
        return port

    yield start
    for c in started:
        c.stop()


def _message() -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = USER, RCPT, "probe"
    m.set_content("probe body\n")
    return m


def _submit(pki, port: int, retries: list | None = None, password: str = PASSWORD):
    ctx = ssl.create_default_context(cafile=str(pki["ca"]))
    return asyncio.run(submit(address="127.0.0.1", port=port, server_hostname="submission.example.test",
                              ssl_context=ctx, username=USER, password=password, message=_message(),
                              sender=USER, recipients=(RCPT,), timeout=5, retry_pauses=FAST,
                              on_retry=(lambda err, pause: retries.append((str(err), pause))) if retries is not None
                              else None))


def test_a_421_greeting_is_tried_again_and_the_message_goes_through(server, pki):
    script = Script(greeting=["421 4.7.0 submission.example.test Error: too many connections from 127.0.0.1"])
    retries: list = []
    done = _submit(pki, server(script), retries)
    assert done.attempts == 2 and script.connections == 2 and script.messages == 1
    assert done.queue_id == "4ABCDEF"
    assert len(retries) == 1 and "421" in retries[0][0] and "too many connections" in retries[0][0]
    assert retries[0][1] == FAST[0]


def test_temporary_refusals_of_the_recipient_are_tried_until_the_attempts_run_out(server, pki):
    script = Script(rcpt=["451 4.3.0 try again later"] * 2)
    done = _submit(pki, server(script))
    assert done.attempts == 3 and script.messages == 1

    script = Script(rcpt=["451 4.3.0 try again later"] * 3)
    with pytest.raises(NotDeliveredError) as caught:
        _submit(pki, server(script))
    assert "451" in str(caught.value) and "(3 attempts)" in str(caught.value)
    assert script.connections == 3 and script.messages == 0


def test_a_temporary_refusal_of_the_data_is_tried_again(server, pki):
    script = Script(data=["452 4.3.1 Insufficient system storage"])
    done = _submit(pki, server(script))
    assert done.attempts == 2 and script.messages == 2  # the first copy was refused, not queued


def test_a_temporary_login_failure_is_tried_again_but_a_refused_login_is_not(server, pki):
    script = Script(auth=["454"])
    assert _submit(pki, server(script)).attempts == 2

    script = Script()
    with pytest.raises(CredentialsError):
        _submit(pki, server(script), password="wrong-password")
    assert script.connections == 1 and exit_code_for(CredentialsError("x")) == ExitCode.CREDENTIALS


@pytest.mark.parametrize("answer", ["554 5.7.1 Service unavailable", "550 5.1.1 no such user"])
def test_permanent_refusals_are_never_tried_again(server, pki, answer):
    script = Script(greeting=[answer]) if answer.startswith("554") else Script(rcpt=[answer])
    retries: list = []
    with pytest.raises((NetworkError, NotDeliveredError)) as caught:
        _submit(pki, server(script), retries)
    assert answer.split()[0] in str(caught.value) and "attempts" not in str(caught.value)
    assert script.connections == 1 and retries == []


def test_a_connection_lost_after_the_data_is_not_tried_again(server, pki):
    # the server may have queued it: a second attempt would be a second message
    script = Script(drop_after_data=True)
    with pytest.raises(NetworkError) as caught:
        _submit(pki, server(script))
    assert "closed the connection" in str(caught.value)
    assert script.connections == 1 and script.messages == 1


def test_a_certificate_that_does_not_verify_is_not_tried_again(server, pki):
    script = Script()
    with pytest.raises(NetworkError) as caught:
        _submit(pki, server(script, cert="wrong"))
    assert "does not verify" in str(caught.value) and script.connections == 1


def test_nobody_listening_is_tried_again_then_one_sentence():
    port = free_port()  # nothing listens there
    retries: list = []
    ctx = ssl.create_default_context()
    with pytest.raises(NetworkError) as caught:
        asyncio.run(submit(address="127.0.0.1", port=port, server_hostname="submission.example.test",
                           ssl_context=ctx, username=None, password=None, message=_message(), sender=USER,
                           recipients=(RCPT,), timeout=5, retry_pauses=FAST,
                           on_retry=lambda err, pause: retries.append(str(err))))
    text = str(caught.value)
    assert text.startswith("Cannot connect to the submission server submission.example.test (127.0.0.1:")
    assert text.endswith("(3 attempts).") and len(retries) == 2 and text.count(".") >= 1
