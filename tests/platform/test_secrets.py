"""No password appears in any output, log, repr or exception text.

This module runs its own scenario that hands passwords to every command that takes
one, including failing runs and --debug tracebacks, and then looks for the passwords in
everything recorded: stdout, stderr, log records (the emulator's and the libraries'),
exception texts and reprs. It also looks at what every other platform test recorded
in the same session (the transcript), so running the whole directory widens the net.
"""

from __future__ import annotations

import os
import stat
import traceback

import pytest
from vplatform_support import (
    CONNECTOR_PASSWORD,
    NEW_CONNECTOR_PASSWORD,
    NEWSLETTER,
    PASSWORDS,
    SMTP_PASSWORD,
    TRANSCRIPT,
    WRONG_PASSWORD,
    run_cli,
)

from verifier.errors import VerifierError
from verifier.platform import ClientSettings, ExchangeApi, make_client, pick_service


def _scenario(emulator, tmp_path, monkeypatch, texts: list[str]) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text(CONNECTOR_PASSWORD + "\n")
    monkeypatch.setenv("NEW_PW", NEW_CONNECTOR_PASSWORD)
    monkeypatch.setenv("WRONG_PW", WRONG_PASSWORD)
    runs = [
        ("connector", "create", "--name", "s", "--smart-host", "smtp.relay.test", "--port", "587",
         "--user", "u@relay.test", "--password-file", str(pw_file), "--wait"),
        ("connector", "create", "--name", "s2", "--smart-host", "smtp.relay.test",
         "--user", "u@relay.test", "--password-file", str(pw_file), "--wait", "--json"),
        ("connector", "show", "1", "--json"),
        ("account", "attach", NEWSLETTER, "1", "--json"),
        ("connector", "change-auth", "1", "--user", "v@relay.test", "--password-env", "NEW_PW", "--wait"),
        ("connector", "change-auth", "1", "--password-env", "NEW_PW", "--json"),
        # failures that carry a password
        ("connector", "create", "--name", "s", "--smart-host", "h", "--user", "u",
         "--password-file", str(pw_file)),  # 409 duplicate
        ("connector", "create", "--name", "bad", "--smart-host", "h", "--auth-mechanism", "nope",
         "--user", "u", "--password-env", "WRONG_PW"),  # 400 enum
        ("--debug", "connector", "change-auth", "999", "--user", "u", "--password-env", "WRONG_PW"),
        ("connector", "test", "--host", "127.0.0.1", "--port", "9", "--user", "u",
         "--password-env", "WRONG_PW", "--timeout", "3"),
        ("connector", "create", "--name", "x", "--smart-host", "h", "--password", SMTP_PASSWORD),
        ("connector", "create", "--name", "x", "--smart-host", "h", f"--password={SMTP_PASSWORD}"),
    ]
    emulator.fail_next_tasks(0)
    for argv in runs:
        r = run_cli(*argv)
        texts.extend([r.out, r.err])
    emulator.fail_next_tasks(1)
    r = run_cli("connector", "change-auth", "2", "--password-env", "WRONG_PW", "--wait")
    assert r.rc == 8
    texts.extend([r.out, r.err])

    # The library layer: exception texts, reprs and tracebacks.
    client, endpoint = make_client(ClientSettings())
    texts.append(repr(endpoint))
    texts.append(repr(ClientSettings(application_secret=WRONG_PASSWORD, consumer_key=WRONG_PASSWORD)))
    api = ExchangeApi(client, *pick_service(client, None, None))
    texts.append(repr(api))
    for call in (
        lambda: api.create_connector(display_name="s", smart_host="h", user="u", password=WRONG_PASSWORD),
        lambda: api.change_authentication(12345, user="u", password=WRONG_PASSWORD),
        lambda: api.create_connector(display_name="y", smart_host="h", port=-1, password=WRONG_PASSWORD),
    ):
        with pytest.raises(VerifierError) as info:
            call()
        texts.extend([str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))])
    emulator.call_in_loop(emulator.hooks_idle)
    texts.extend(repr(r) for r in emulator.routes())
    texts.append(repr(emulator.credentials))
    texts.append(repr(emulator))


def test_no_password_anywhere(emulator, tmp_path, clean_env, caplog):
    caplog.set_level("DEBUG")
    texts: list[str] = []
    _scenario(emulator, tmp_path, clean_env, texts)
    texts.append(caplog.text)
    texts.extend(TRANSCRIPT)
    everything = "\n".join(texts)
    assert "verifier connector" in everything and "Could not" in everything  # the net caught something
    for password in PASSWORDS:
        assert password not in everything, f"a password leaked ({PASSWORDS.index(password)})"


def test_state_file_holds_passwords_privately(emulator, tmp_path):
    """The lab needs the connector passwords, so they are stored, readable by the owner only."""
    pw = tmp_path / "pw"
    pw.write_text(CONNECTOR_PASSWORD)
    r = run_cli("connector", "create", "--name", "p", "--smart-host", "h", "--user", "u",
                "--password-file", str(pw), "--wait")
    assert r.rc == 0, r.err
    state = emulator.store.path
    assert CONNECTOR_PASSWORD in state.read_text()
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state.parent).st_mode) == 0o700
    # The API itself never returns it.
    r = run_cli("connector", "show", "1", "--json")
    assert CONNECTOR_PASSWORD not in r.out
