"""Probe pieces that need no server: the profile, the probe message, bounce recognition."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from verifier.errors import ConfigError
from verifier.probe import message as pm
from verifier.probe.profile import load_profile, profile_from_dict

BASE = {
    "platform": {"endpoint": "http://127.0.0.1:8787/1.0", "organization": "o", "service": "s"},
    "sender": {"address": "newsletter@mydomain.test", "smtp_host": "mail.platform.test", "password_env": "X_PW"},
    "control": {"address": "contact@mydomain.test", "smtp_host": "mail.platform.test", "password_file": "/nonexistent"},
    "recipient": {"address": "john@guides.test", "imap_host": "imap.guides.test", "password_env": "R_PW"},
    "tls": {"ca_file": "/tmp/ca.crt"},
    "dns": {"nameserver": "192.0.2.53"},
}


def test_a_complete_profile_loads_with_defaults():
    p = profile_from_dict(BASE)
    assert p.sender.port == 587 and p.sender.tls == "starttls"
    assert p.recipient.port == 993 and p.recipient.folders == ("INBOX", "Junk")
    assert p.recipient.username == "john@guides.test"
    assert p.nameserver == "192.0.2.53"
    assert p.delivery_timeout == 60.0


def test_a_literal_password_is_refused():
    bad = {**BASE, "sender": {**BASE["sender"], "password": "hunter2"}}
    with pytest.raises(ConfigError) as exc:
        profile_from_dict(bad)
    assert "hunter2" not in str(exc.value)
    assert "password_file or password_env" in str(exc.value)


@pytest.mark.parametrize(
    "patch, words",
    [
        ({"recipient": None}, "[recipient]"),
        ({"sender": {"address": "a@b"}}, "smtp_host"),
        ({"timeouts": {"delivery": "soon"}}, "must be a float"),
        ({"timeouts": {"idle_renew": 3600}}, "29 minutes"),
        ({"recipient": {**BASE["recipient"], "imap_tls": "starttls"}}, "implicit"),
    ],
)
def test_profile_errors_are_one_sentence(patch, words):
    data = {**BASE, **patch}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError) as exc:
        profile_from_dict(data)
    assert words in str(exc.value)
    assert "\n" not in str(exc.value)


def test_without_platform_the_profile_must_say_what_to_expect():
    data = {k: v for k, v in BASE.items() if k != "platform"}
    with pytest.raises(ConfigError):
        profile_from_dict(data)
    data["sender"] = {**data["sender"], "expect": "via-connector"}
    assert profile_from_dict(data).sender.expect == "via-connector"


def test_secret_references_are_read_at_use_and_never_shown(tmp_path, monkeypatch):
    f = tmp_path / "pw"
    f.write_text("s3cret-value\n")
    data = {**BASE, "control": {**BASE["control"], "password_file": str(f)}}
    p = profile_from_dict(data)
    assert p.control.password.reveal("control") == "s3cret-value"
    assert "s3cret" not in repr(p)
    monkeypatch.delenv("X_PW", raising=False)
    with pytest.raises(ConfigError) as exc:
        p.sender.password.reveal("the sender")
    assert "X_PW" in str(exc.value)


def test_profile_file_errors(tmp_path):
    with pytest.raises(ConfigError):
        load_profile(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[sender\n")
    with pytest.raises(ConfigError) as exc:
        load_profile(str(bad))
    assert "not valid TOML" in str(exc.value)


def test_probe_message_carries_its_token_three_times():
    token = pm.new_token(1_800_000_000)
    assert pm.TOKEN_RE.fullmatch(token)
    assert pm.token_time(token) == 1_800_000_000
    msg = pm.build("a@mydomain.test", "b@guides.test", token, "sender", datetime(2026, 11, 27, tzinfo=UTC))
    raw = msg.as_bytes()
    assert raw.count(token.encode()) >= 3
    assert msg[pm.PROBE_HEADER].startswith(token)
    assert token in msg["Subject"] and token in msg.get_content()
    assert pm.carries(raw, token) and not pm.carries(raw, pm.new_token(1))


def test_a_dsn_quoting_the_token_is_a_bounce_and_the_probe_is_not():
    token = pm.new_token(1_800_000_000)
    probe = pm.build("a@mydomain.test", "b@guides.test", token, "sender", datetime(2026, 11, 27, tzinfo=UTC)).as_bytes()
    dsn = (
        b"From: MAILER-DAEMON@mail.platform.test (Mail Delivery System)\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
        b"--b\r\n\r\nThe original message:\r\n\r\n" + probe + b"\r\n--b--\r\n"
    )
    ndr = b"From: postmaster@contoso.example\nSubject: Undeliverable: verifier probe " + token.encode() + b"\n\nDelivery has failed.\n"
    assert pm.is_bounce(dsn) and pm.carries(dsn, token)
    assert pm.is_bounce(ndr)
    assert not pm.is_bounce(probe)
    assert pm.headers_of(dsn).endswith(b"\r\n")


def test_a_profile_that_is_not_utf8_is_the_profile_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "p.toml"
    path.write_bytes(b'[sender]\naddress = "caf\xe9@mydomain.test"\n')
    with pytest.raises(ConfigError) as exc:
        load_profile(str(path))
    assert "not UTF-8" in str(exc.value) and "\\xe9" not in str(exc.value) and "position" not in str(exc.value)
    proc = subprocess.run([sys.executable, "-m", "verifier", "probe", "--profile", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 12, proc.stderr
    assert "not UTF-8" in proc.stderr and "Traceback" not in proc.stderr


def test_a_password_file_that_is_not_utf8_shows_neither_a_byte_nor_its_position(tmp_path):
    from verifier.probe.profile import Secret

    path = tmp_path / "pw"
    path.write_bytes(b"hunter\xfe2secret")
    with pytest.raises(ConfigError) as exc:
        Secret(file=str(path)).reveal("the mailbox john@guides.test")
    text = str(exc.value)
    assert text == f"The password file {path} for the mailbox john@guides.test is not UTF-8 text."
    for leak in ("hunter", "secret", "xfe", "0xfe", "position", "6"):
        assert leak not in text.replace(str(path), "")


def test_a_non_utf8_password_file_under_the_cli_is_exit_12_without_the_password(tmp_path):
    import subprocess
    import sys

    pw = tmp_path / "pw"
    pw.write_bytes(b"hunter\xfe2secret")
    prof = tmp_path / "p.toml"
    prof.write_text(
        '[sender]\naddress = "a@mydomain.test"\nsmtp_host = "127.0.0.1"\nexpect = "bypassed"\n'
        '[recipient]\naddress = "r@guides.test"\nimap_host = "127.0.0.1"\nimap_address = "127.0.0.1"\n'
        f'password_file = "{pw}"\n[timeouts]\nconnect = 2\n'
    )
    proc = subprocess.run([sys.executable, "-m", "verifier", "probe", "--profile", str(prof), "--quiet"],
                          capture_output=True, text=True, timeout=60, env={**__import__("os").environ})
    assert proc.returncode == 12, proc.stdout + proc.stderr
    assert "not UTF-8" in proc.stderr
    assert "hunter" not in proc.stderr + proc.stdout and "position" not in proc.stderr
