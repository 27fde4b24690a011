"""`verifier login` end to end: the real python-ovh client against the emulator over HTTP.

The login runs as its own process (it waits for the validation); the test opens the
validation URL it prints, as a person would, then uses the written ovh.conf.
"""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path

import ovh
import ovh.client
import ovh.exceptions as ovhx
import pytest
import requests
from test_emulator import BASE, client_for, create_connector
from vplatform_support import CONTACT, DOMAIN, run_cli

from verifier.platform.credentials import READ_RULES, WRITE_RULES, access_rules, render_config

GENEROUS = 120  # seconds: bounds a hang; measures nothing


def login_env(emulator, *, with_consumer_key: bool = False) -> dict[str, str]:
    """The application key and secret in the environment, no consumer key, no ovh.conf around."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVH_", "VERIFIER_OVH_"))}
    c = emulator.credentials
    env["OVH_APPLICATION_KEY"] = c.application_key
    env["OVH_APPLICATION_SECRET"] = c.application_secret
    if with_consumer_key:
        env["OVH_CONSUMER_KEY"] = c.consumer_key
    return env


def start_login(emulator, conf: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "verifier", "login", "--endpoint", emulator.base_url,
         "--config-file", str(conf), *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env or login_env(emulator),
    )


def login_and_validate(emulator, conf: Path, *extra: str) -> tuple[str, str]:
    proc = start_login(emulator, conf, *extra, "--timeout", str(GENEROUS))
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith(f"{emulator.root_url}/auth/?credentialToken="), url
        page = requests.get(url, timeout=GENEROUS)
        assert page.status_code == 200 and "Validate" in page.text
        done = requests.post(url, data={"decision": "validate"}, timeout=GENEROUS)
        assert done.status_code == 200, done.text
        out, err = proc.communicate(timeout=GENEROUS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return url + "\n" + out, err


def conf_client(emulator, conf: Path) -> ovh.Client:
    """A python-ovh client reading the written file the way python-ovh reads any ovh.conf."""
    from ovh.config import ConfigurationManager

    manager = ConfigurationManager()
    manager.read(str(conf))
    section = emulator.base_url
    # python-ovh's own parser of the files (its get() would prefer the fixture's OVH_* variables).
    return client_for(
        emulator,
        application_key=manager.config.get(section, "application_key"),
        application_secret=manager.config.get(section, "application_secret"),
        consumer_key=manager.config.get(section, "consumer_key"),
    )


def assert_no_secret(emulator, *texts: str, conf: Path) -> None:
    c = emulator.credentials
    parser = configparser.RawConfigParser()
    parser.read(conf)
    new_ck = parser.get(emulator.base_url, "consumer_key")
    for text in texts:
        assert c.application_secret not in text
        assert new_ck not in text


def test_read_only_login_reads_but_cannot_write(emulator, clean_env, tmp_path):
    admin = client_for(emulator)
    cid = create_connector(admin, "relay")
    conf = tmp_path / "conf" / "ovh.conf"
    out, err = login_and_validate(emulator, conf)
    assert "read-only consumer key" in err
    assert_no_secret(emulator, out, err, conf=conf)

    # The file: mode 0600, and what python-ovh needs, in the endpoint's section.
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    parser = configparser.RawConfigParser()
    parser.read(conf)
    assert parser.get("default", "endpoint") == emulator.base_url
    section = dict(parser.items(emulator.base_url))
    assert set(section) == {"application_key", "application_secret", "consumer_key"}
    assert section["application_key"] == emulator.credentials.application_key
    assert section["consumer_key"] != emulator.credentials.consumer_key

    client = conf_client(emulator, conf)
    current = client.get("/auth/currentCredential")
    assert current["status"] == "validated"
    assert {(r["method"], r["path"]) for r in current["rules"]} == set(READ_RULES)
    assert client.get(f"{BASE}/sendConnector") == [cid]
    with pytest.raises(ovhx.NotGrantedCall):
        client.put(f"{BASE}/account/{CONTACT}", sendConnectorId=cid)

    # The CLI with the written file: reading works, writing is one sentence and exit 7.
    for name in ("OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        clean_env.delenv(name, raising=False)
    common = ("--config-file", str(conf), "--endpoint", emulator.base_url)
    r = run_cli("domain", "show", DOMAIN, *common)
    assert r.rc == 0, r.err
    r = run_cli("account", "attach", CONTACT, str(cid), *common)
    assert r.rc == 7, (r.rc, r.err)
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("verifier: ") and lines[0].endswith(".")
    assert "not allowed to make this call" in lines[0] and "HTTP 403" in lines[0]
    assert admin.get(f"{BASE}/account/{CONTACT}")["sendConnectorId"] in (None, 0)


def test_write_login_may_change_the_account(emulator, clean_env, tmp_path):
    admin = client_for(emulator)
    cid = create_connector(admin, "relay")
    conf = tmp_path / "ovh.conf"
    conf.write_text("[default]\nendpoint = ovh-eu\n\n[ovh-eu]\napplication_key = other\n")
    conf.chmod(0o644)
    out, err = login_and_validate(emulator, conf, "--write")
    assert "read and write consumer key" in err
    assert_no_secret(emulator, out, err, conf=conf)
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    parser = configparser.RawConfigParser()
    parser.read(conf)
    assert parser.get("ovh-eu", "application_key") == "other"  # other sections are kept
    client = conf_client(emulator, conf)
    rules = {(r["method"], r["path"]) for r in client.get("/auth/currentCredential")["rules"]}
    assert rules == {(r["method"], r["path"]) for r in access_rules(write=True)}
    assert len(rules) == len(READ_RULES) + len(WRITE_RULES)
    client.put(f"{BASE}/account/{CONTACT}", sendConnectorId=cid)
    assert admin.get(f"{BASE}/account/{CONTACT}")["sendConnectorId"] == cid
    # Still no more than asked: creating an account is not one of the tool's calls.
    with pytest.raises(ovhx.NotGrantedCall):
        client.post(f"{BASE}/account", domain=DOMAIN, login="x", license="basic", password="Xx-12345678")


def test_rules_narrowed_to_one_service(emulator, tmp_path):
    conf = tmp_path / "ovh.conf"
    login_and_validate(emulator, conf, "--write", "--organization", "private-zz111111-1",
                       "--service", "private-zz111111-1")
    client = conf_client(emulator, conf)
    paths = {r["path"] for r in client.get("/auth/currentCredential")["rules"]}
    assert f"{BASE}/sendConnector" in paths
    assert not any("/service/*" in p for p in paths)


def test_login_times_out_cleanly(emulator, tmp_path):
    conf = tmp_path / "ovh.conf"
    proc = start_login(emulator, conf, "--timeout", "1")
    out, err = proc.communicate(timeout=GENEROUS)
    assert proc.returncode == 7, err
    lines = [line for line in err.splitlines() if line.startswith("verifier: ")]
    assert len(lines) == 1 and "not validated within 1 s; nothing was written" in lines[0]
    assert "Traceback" not in err
    assert out.strip().startswith(emulator.root_url)  # the URL was printed
    assert not conf.exists()


def test_pending_key_is_refused_until_validated(emulator, tmp_path):
    """What the login polls for: a pending key gets python-ovh's InvalidCredential."""
    c = emulator.credentials
    name = f"lab-{emulator.port}"
    ovh.client.ENDPOINTS[name] = emulator.base_url
    client = ovh.Client(endpoint=name, application_key=c.application_key,
                        application_secret=c.application_secret, consumer_key="x")
    request = client.new_consumer_key_request()
    request.add_rule("GET", "/email/exchange")
    answer = request.request()
    assert answer["state"] == "pendingValidation"
    with pytest.raises(ovhx.InvalidCredential):
        client.get("/email/exchange")
    refused = requests.post(answer["validationUrl"], data={"decision": "refuse"}, timeout=GENEROUS)
    assert refused.status_code == 200
    with pytest.raises(ovhx.InvalidCredential):
        client.get("/email/exchange")
    # A validation URL works once.
    assert requests.post(answer["validationUrl"], timeout=GENEROUS).status_code == 404


def test_demo_keys_keep_their_rights(emulator):
    client = client_for(emulator)
    current = client.get("/auth/currentCredential")
    assert current["status"] == "validated"
    assert {(r["method"], r["path"]) for r in current["rules"]} == {(m, "/*") for m in ("GET", "POST", "PUT", "DELETE")}
    create_connector(client, "demo")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"accessRules": []}, "[accessRules] Property is mandatory"),
        ({"accessRules": [{"method": "PATCHY", "path": "/x"}]}, "MethodEnum"),
        ({"accessRules": [{"method": "GET", "path": "/x\n/y"}]}, "not a valid API path pattern"),
        ({"accessRules": [{"method": "GET", "path": "/*"}] * 65}, "At most 64 rules"),
        ({"accessRules": [{"method": "GET", "path": "/*"}], "allowedIPs": ["192.0.2.0/24"]}, "not emulated"),
    ],
)
def test_credential_request_validation(emulator, body, fragment):
    r = requests.post(f"{emulator.base_url}/auth/credential", json=body, timeout=GENEROUS,
                      headers={"X-Ovh-Application": emulator.credentials.application_key})
    assert r.status_code == 400
    assert fragment in r.json()["message"]


def test_credential_request_needs_the_application_key(emulator):
    r = requests.post(f"{emulator.base_url}/auth/credential", timeout=GENEROUS,
                      json={"accessRules": [{"method": "GET", "path": "/*"}]},
                      headers={"X-Ovh-Application": "not-the-key"})
    assert r.status_code == 403 and r.json()["errorCode"] == "INVALID_KEY"


def test_no_application_key_is_one_sentence(emulator, tmp_path):
    env = {k: v for k, v in login_env(emulator).items() if not k.startswith("OVH_APPLICATION")}
    env["HOME"] = str(tmp_path)
    proc = start_login(emulator, tmp_path / "ovh.conf", "--timeout", "1", env=env)
    out, err = proc.communicate(timeout=GENEROUS)
    assert proc.returncode == 7
    assert err.startswith("verifier: No application key and secret found") and err.count("\n") == 1
    assert out == ""


def test_config_render_keeps_python_ovh_format():
    from verifier.platform.client import Endpoint
    from verifier.platform.credentials import Application

    text = render_config("[ovh-eu]\nclient_id = abc\nclient_secret = def\n\n[kimsufi-eu]\nconsumer_key = k\n",
                         Endpoint("ovh-eu", "ovh-eu", "https://eu.api.ovh.com/1.0"),
                         Application("AK1234", "AS5678"), "CK9012")
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert dict(parser.items("ovh-eu")) == {"application_key": "AK1234", "application_secret": "AS5678",
                                            "consumer_key": "CK9012"}
    assert parser.get("kimsufi-eu", "consumer_key") == "k"
    assert parser.get("default", "endpoint") == "ovh-eu"
