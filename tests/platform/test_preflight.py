"""`verifier connector test` against local aiosmtpd servers with a test CA made here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from vplatform_support import SMTP_PASSWORD, WRONG_PASSWORD, one_sentence

from tests.tls_support import free_port, make_pki, server_context
from verifier.errors import ExitCode

USER = "relayuser@relay.test"


def _report(r):
    """The preflight report: the JSON on success, the error object's details on failure."""
    data = json.loads(r.out)
    return data["details"] if r.rc else data


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"), "IP:127.0.0.1,DNS:localhost")


class Recorder:
    def __init__(self) -> None:
        self.mail_from: list[str] = []
        self.auths: list[tuple[str, bool]] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        self.mail_from.append(address)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        return "250 OK"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER.encode()
            and auth_data.password == SMTP_PASSWORD.encode()
        )
        self.auths.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(pki):
    started = []

    def start(*, cert: str | None = "good", starttls: bool = True) -> tuple[int, Recorder]:
        rec = Recorder()
        kwargs = {}
        if starttls:
            kwargs["tls_context"] = server_context(pki[cert], pki[f"{cert}_key"])
            kwargs["require_starttls"] = True
            kwargs["auth_require_tls"] = True
        else:
            kwargs["auth_require_tls"] = False
        port = free_port()
        controller = Controller(
            rec, hostname="127.0.0.1", port=port, authenticator=rec.authenticator,
            server_hostname="smtp.relay.test", **kwargs,
        )
        controller.start()
        started.append(controller)
        return port, rec

    yield start
    for controller in started:
        controller.stop()


def test_passing_run(smtp_server, pki, cli, clean_env):
    port, rec = smtp_server()
    clean_env.setenv("RELAY_PASSWORD", SMTP_PASSWORD)
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--user", USER,
            "--password-env", "RELAY_PASSWORD", "--ca-file", str(pki["ca"]))
    assert r.rc == 0, r.out + r.err
    for step in ("resolve", "connect", "ehlo", "starttls", "auth-mechanisms", "auth"):
        assert f"PASS  {step}" in r.out
    assert "certificate verified for 127.0.0.1" in r.out
    assert "no mail was sent" in r.out
    assert rec.auths and rec.auths[-1][1] is True
    assert rec.mail_from == []  # a preflight never sends mail
    assert SMTP_PASSWORD not in r.out + r.err


def test_passing_run_json_without_credentials(smtp_server, pki, cli):
    port, rec = smtp_server()
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--ca-file", str(pki["ca"]), "--json")
    assert r.rc == 0, r.err
    data = _report(r)
    assert data["ok"] is True
    assert {"PLAIN", "LOGIN"} <= set(data["authMechanisms"])
    status = {s["step"]: s["status"] for s in data["steps"]}
    assert status == {"resolve": "pass", "connect": "pass", "ehlo": "pass", "starttls": "pass",
                      "auth-mechanisms": "pass", "auth": "skip"}
    assert rec.auths == []


def test_wrong_password(smtp_server, pki, cli, tmp_path):
    port, rec = smtp_server()
    pw = tmp_path / "pw"
    pw.write_text(WRONG_PASSWORD + "\n")
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--user", USER,
            "--password-file", str(pw), "--ca-file", str(pki["ca"]), "--json")
    assert r.rc == ExitCode.CHECK_FAILED == 13
    data = _report(r)
    auth = next(s for s in data["steps"] if s["step"] == "auth")
    assert auth["status"] == "fail" and "535" in auth["detail"]
    assert "auth" in one_sentence(r.err)
    assert rec.auths and not any(ok for _m, ok in rec.auths)
    assert WRONG_PASSWORD not in r.out + r.err


def test_server_without_starttls(smtp_server, pki, cli, clean_env):
    port, rec = smtp_server(starttls=False)
    clean_env.setenv("RELAY_PASSWORD", SMTP_PASSWORD)
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--user", USER,
            "--password-env", "RELAY_PASSWORD", "--ca-file", str(pki["ca"]))
    assert r.rc == ExitCode.CHECK_FAILED
    assert "FAIL  starttls         the server does not offer STARTTLS" in r.out
    assert "SKIP  auth" in r.out
    assert "does not offer STARTTLS" in one_sentence(r.err)
    assert rec.auths == []  # the password never went out in clear


def test_certificate_for_the_wrong_name(smtp_server, pki, cli):
    port, _rec = smtp_server(cert="wrong")
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--ca-file", str(pki["ca"]), "--json")
    assert r.rc == ExitCode.CHECK_FAILED
    step = next(s for s in _report(r)["steps"] if s["step"] == "starttls")
    assert step["status"] == "fail"
    assert "certificate verification failed" in step["detail"]
    assert "mismatch" in step["detail"].lower()


def test_unknown_ca_is_not_trusted_by_default(smtp_server, cli):
    port, _rec = smtp_server()
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port))
    assert r.rc == ExitCode.CHECK_FAILED
    assert "certificate verification failed" in r.out


def test_connector_id_resolves_smart_host(emulator, smtp_server, pki, cli, clean_env):
    port, rec = smtp_server()
    assert cli("connector", "create", "--name", "local", "--smart-host", "localhost", "--port", str(port), "--wait").rc == 0
    clean_env.setenv("RELAY_PASSWORD", SMTP_PASSWORD)
    r = cli("connector", "test", "1", "--user", USER, "--password-env", "RELAY_PASSWORD",
            "--ca-file", str(pki["ca"]), "--json")
    assert r.rc == 0, r.err
    data = _report(r)
    assert (data["host"], data["port"], data["connectorId"]) == ("localhost", port, 1)
    resolve = data["steps"][0]
    assert resolve["step"] == "resolve" and "127.0.0.1" in resolve["detail"]
    assert rec.auths[-1][1] is True


def test_connection_refused(cli):
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(free_port()), "--timeout", "5")
    assert r.rc == ExitCode.CHECK_FAILED
    assert "FAIL  connect" in r.out
    assert "connect" in one_sentence(r.err)


def test_usage(cli, tmp_path):
    r = cli("connector", "test")
    assert r.rc == ExitCode.USAGE
    r = cli("connector", "test", "--host", "127.0.0.1", "--ca-file", str(tmp_path / "missing.pem"))
    assert r.rc == ExitCode.INPUT


@pytest.fixture
def implicit_tls_server(pki):
    started = []

    def start(cert: str = "good") -> tuple[int, Recorder]:
        rec = Recorder()
        port = free_port()
        controller = Controller(
            rec, hostname="127.0.0.1", port=port, authenticator=rec.authenticator,
            ssl_context=server_context(pki[cert], pki[f"{cert}_key"]), server_hostname="127.0.0.1",
            auth_require_tls=False,  # aiosmtpd only counts STARTTLS as TLS; this socket is TLS from the start
        )
        controller.start()
        started.append(controller)
        return port, rec

    yield start
    for controller in started:
        controller.stop()


def test_implicit_tls(implicit_tls_server, pki, cli, clean_env):
    port, rec = implicit_tls_server()
    clean_env.setenv("RELAY_PASSWORD", SMTP_PASSWORD)
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--tls", "implicit",
            "--user", USER, "--password-env", "RELAY_PASSWORD", "--ca-file", str(pki["ca"]), "--json")
    assert r.rc == 0, r.out + r.err
    data = _report(r)
    status = {s["step"]: s["status"] for s in data["steps"]}
    assert status["starttls"] == "skip" and status["auth"] == "pass"
    assert "implicit TLS, certificate verified" in data["steps"][1]["detail"]


def test_implicit_tls_wrong_name(implicit_tls_server, pki, cli):
    port, _rec = implicit_tls_server("wrong")
    r = cli("connector", "test", "--host", "127.0.0.1", "--port", str(port), "--tls", "implicit",
            "--ca-file", str(pki["ca"]))
    assert r.rc == ExitCode.CHECK_FAILED
    assert "FAIL  connect" in r.out and "certificate verification failed" in r.out


def test_unresolvable_host(cli):
    r = cli("connector", "test", "--host", "no-such-host.invalid", "--timeout", "5", "--json")
    assert r.rc == ExitCode.CHECK_FAILED
    steps = _report(r)["steps"]
    assert steps[0]["step"] == "resolve" and steps[0]["status"] == "fail"
    assert all(s["status"] == "skip" for s in steps[1:])
