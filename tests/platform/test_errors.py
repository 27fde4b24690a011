"""Every failure a user can cause ends in one CLI sentence and its documented exit code."""

from __future__ import annotations

import json

import pytest
from vplatform_support import CONNECTOR_PASSWORD, NEWSLETTER, one_sentence

from verifier.errors import ExitCode


def test_bad_signature(emulator, cli, clean_env):
    clean_env.setenv("OVH_APPLICATION_SECRET", "x" * 32)
    r = cli("connector", "list")
    assert r.rc == ExitCode.CREDENTIALS == 7
    line = one_sentence(r.err)
    assert "signature" in line and "application secret" in line
    assert r.out == ""


def test_stale_timestamp(emulator, cli):
    # /auth/time lies by ten minutes: the client signs with a timestamp the API finds stale.
    emulator.set_auth_time_offset(-600)
    r = cli("connector", "list")
    assert r.rc == ExitCode.CREDENTIALS
    line = one_sentence(r.err)
    assert "timestamp" in line and "clock" in line


def test_timestamp_within_skew_is_fine(emulator, cli):
    emulator.set_auth_time_offset(-60)
    assert cli("connector", "list").rc == 0


def test_unknown_consumer_key(emulator, cli, clean_env):
    clean_env.setenv("OVH_CONSUMER_KEY", "y" * 32)
    r = cli("connector", "list")
    assert r.rc == ExitCode.CREDENTIALS
    assert "credential does not exist" in one_sentence(r.err)


def test_unknown_application_key(emulator, cli, clean_env):
    clean_env.setenv("OVH_APPLICATION_KEY", "z" * 16)
    r = cli("connector", "list")
    assert r.rc == ExitCode.CREDENTIALS
    assert "application key is invalid" in one_sentence(r.err)


def test_call_not_granted(emulator, cli, clean_env):
    clean_env.setenv("OVH_CONSUMER_KEY", emulator.credentials.read_only_consumer_key)
    assert cli("connector", "list").rc == 0  # GET is granted
    r = cli("connector", "create", "--name", "x", "--smart-host", "smtp.relay.test")
    assert r.rc == ExitCode.CREDENTIALS
    assert "not allowed" in one_sentence(r.err)


def test_missing_credentials(emulator, cli, clean_env):
    clean_env.delenv("OVH_APPLICATION_SECRET")
    r = cli("connector", "list")
    assert r.rc == ExitCode.CREDENTIALS
    assert "OVH_APPLICATION_SECRET" in one_sentence(r.err)


def test_unknown_endpoint_name(emulator, cli):
    r = cli("connector", "list", "--endpoint", "ovh-mars")
    assert r.rc == ExitCode.CONFIG
    assert "ovh-eu" in one_sentence(r.err)


def test_unreachable_endpoint(emulator, cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = cli("connector", "list", "--endpoint", f"http://127.0.0.1:{port}")
    assert r.rc == ExitCode.NETWORK
    assert f"API at http://127.0.0.1:{port} could not be reached" in one_sentence(r.err)


def test_unknown_connector_id(emulator, cli):
    r = cli("connector", "show", "99")
    assert r.rc == ExitCode.API == 6
    line = one_sentence(r.err)
    assert "No send connector" in line and "id or name '99'" in line and "the send connectors are: none" in line


def test_attach_unknown_connector(emulator, cli):
    r = cli("account", "attach", NEWSLETTER, "42")
    assert r.rc == ExitCode.API
    assert "No send connector" in one_sentence(r.err) and "'42'" in r.err


def test_unknown_account(emulator, cli):
    r = cli("account", "show", "nobody@mydomain.test")
    assert r.rc == ExitCode.API
    assert "nobody@mydomain.test" in one_sentence(r.err)


def test_invalid_enum_value(emulator, cli):
    r = cli("connector", "create", "--name", "x", "--smart-host", "smtp.relay.test", "--auth-mechanism", "kerberos")
    assert r.rc == ExitCode.USAGE  # refused by the command line, before any API call
    line = one_sentence(r.err)
    assert "kerberos" in line and "basicAuth" in line and "basicAuthRequireTLS" in line
    assert json.loads(cli("connector", "list", "--json").out) == []  # nothing half-created


def test_write_to_read_only_field(emulator, cli):
    assert cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    r = cli("connector", "update", "1", "--set", "smartHostAuthMechanism=basicAuth")
    assert r.rc == ExitCode.API
    assert "[smartHostAuthMechanism] Property is read-only" in one_sentence(r.err)
    r = cli("connector", "update", "1", "--set", "state=deleting")
    assert r.rc == ExitCode.API
    assert "read-only" in one_sentence(r.err)
    # Echoing a read-only field with its current value is accepted, as a GET-then-PUT client does.
    assert cli("connector", "update", "1", "--set", "state=ok", "--port", "2525").rc == 0


def test_wrong_type_and_unknown_field(emulator, cli):
    assert cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    r = cli("connector", "update", "1", "--set", "port=\"abc\"")
    assert r.rc == ExitCode.API
    assert "not valid for type long" in one_sentence(r.err)
    r = cli("connector", "update", "1", "--set", "colour=blue")
    assert r.rc == ExitCode.API
    assert "colour" in one_sentence(r.err)


def test_duplicate_name_conflict(emulator, cli):
    assert cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    r = cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test")
    assert r.rc == ExitCode.API
    assert "HTTP 409" in one_sentence(r.err)


def test_delete_attached_connector_is_refused(emulator, cli):
    assert cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    assert cli("account", "attach", NEWSLETTER, "1").rc == 0
    r = cli("connector", "delete", "1")
    assert r.rc == ExitCode.API
    assert NEWSLETTER in one_sentence(r.err)


def test_create_task_ends_in_error(emulator, cli, password_file):
    emulator.fail_next_tasks(1)
    r = cli(
        "connector", "create", "--name", "doomed", "--smart-host", "smtp.relay.test",
        "--user", "u@relay.test", "--password-file", str(password_file), "--wait",
    )
    assert r.rc == ExitCode.TASK == 8
    line = one_sentence(r.err)
    assert "addSendConnector" in line and "status error" in line
    assert "no send connector named 'doomed' exists" in line  # the state, said plainly
    assert json.loads(cli("connector", "list", "--json").out) == []
    assert CONNECTOR_PASSWORD not in r.err + r.out


def test_delete_task_ends_in_error(emulator, cli):
    assert cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    emulator.fail_next_tasks(1)
    r = cli("connector", "delete", "1", "--wait")
    assert r.rc == ExitCode.TASK
    assert "send connector 1 is in state ok" in one_sentence(r.err)
    # and the next attempt goes through
    assert cli("connector", "delete", "1", "--wait").rc == 0


def test_change_auth_task_ends_in_error(emulator, cli):
    assert cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    emulator.fail_next_tasks(1)
    r = cli("connector", "change-auth", "1", "--auth-mechanism", "none", "--wait")
    assert r.rc == ExitCode.TASK
    line = one_sentence(r.err)
    assert "setSendConnector" in line and "authentication none" in line


def test_wait_timeout_reports_state(emulator, cli):
    emulator.task_delay = 30.0  # the task outlives the wait
    r = cli("connector", "create", "--name", "slow", "--smart-host", "smtp.relay.test", "--wait", "--wait-timeout", "0")
    assert r.rc == ExitCode.TASK
    line = one_sentence(r.err)
    assert "was left running" in line and "exists in state creating" in line
    assert "hint:" in r.err


def test_password_never_from_a_flag(emulator, cli):
    r = cli("connector", "create", "--name", "x", "--smart-host", "h", "--user", "u", "--password", CONNECTOR_PASSWORD)
    assert r.rc == ExitCode.USAGE
    assert CONNECTOR_PASSWORD not in r.err + r.out
    r = cli("connector", "create", "--name", "x", "--smart-host", "h", "--user", "u", f"--password={CONNECTOR_PASSWORD}")
    assert r.rc == ExitCode.USAGE
    assert CONNECTOR_PASSWORD not in r.err + r.out


def test_password_needed_without_terminal(emulator, cli):
    r = cli("connector", "create", "--name", "x", "--smart-host", "h", "--user", "u")
    assert r.rc == ExitCode.USAGE
    assert "--password-file" in one_sentence(r.err)


@pytest.mark.parametrize("var", ["UNSET_PASSWORD_VARIABLE"])
def test_password_env_unset(emulator, cli, var):
    r = cli("connector", "create", "--name", "x", "--smart-host", "h", "--user", "u", "--password-env", var)
    assert r.rc == ExitCode.USAGE
    assert var in one_sentence(r.err)


def test_set_default_usage(emulator, cli):
    r = cli("domain", "set-default", "mydomain.test")
    assert r.rc == ExitCode.USAGE
    one_sentence(r.err)
    r = cli("domain", "set-default", "mydomain.test", "3", "--reset")
    assert r.rc == ExitCode.USAGE


def test_password_from_the_prompt_on_a_terminal(emulator, cli, monkeypatch):
    """With a terminal on stdin, the password is asked for (getpass), never echoed."""
    import io

    import verifier.commands._common as commands

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return CONNECTOR_PASSWORD

    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr(commands.getpass, "getpass", fake_getpass)
    r = cli("connector", "create", "--name", "p", "--smart-host", "smtp.relay.test", "--user", "u@relay.test", "--wait")
    assert r.rc == 0, r.err
    assert prompts == ["Password for u@relay.test on smtp.relay.test: "]
    # What the API stored is what was typed: the lab receives it in the route.
    assert cli("account", "attach", NEWSLETTER, "1").rc == 0
    assert emulator.routes()[0].password == CONNECTOR_PASSWORD
    assert CONNECTOR_PASSWORD not in r.out + r.err


def test_missing_password_file(emulator, cli, tmp_path):
    r = cli("connector", "create", "--name", "p", "--smart-host", "h", "--user", "u",
            "--password-file", str(tmp_path / "nope"))
    assert r.rc == ExitCode.INPUT
    assert "nope" in one_sentence(r.err)


def test_exit_codes_of_a_real_process(emulator, tmp_path):
    """The same sentences and codes from `python -m verifier`, with no traceback."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    good = subprocess.run([sys.executable, "-m", "verifier", "connector", "list", "--json"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert (good.returncode, json.loads(good.stdout)) == (0, [])
    env["OVH_APPLICATION_SECRET"] = "w" * 32
    bad = subprocess.run([sys.executable, "-m", "verifier", "connector", "list"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 7 and bad.stdout == ""
    assert "signature" in one_sentence(bad.stderr)
