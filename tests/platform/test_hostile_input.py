"""The emulator against hostile input: values that would inject into the lab's maps,
filters that would freeze a backtracking matcher, and JSON nested too deep.

The real python-ovh client talks HTTP to the emulator (raw signed requests where the
client cannot send the body). A matcher that hangs is run in a subprocess with a
generous bound, so that a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import ovh
import ovh.client
import ovh.exceptions as ovhx
import pytest
import requests
from test_emulator import BASE, client_for, create_connector
from vplatform_support import CONNECTOR_PASSWORD, NEWSLETTER

from verifier.lab.api.matching import MAX_JSON_DEPTH, glob_match, json_depth_exceeds

GENEROUS = 120  # seconds: a bound against hanging forever, not a measure of speed


@pytest.fixture
def client(emulator):
    return client_for(emulator)


def signed_post(emulator, path: str, text: str) -> requests.Response:
    c = emulator.credentials
    url = f"{emulator.base_url}{path}"
    now = str(int(time.time()))
    sig = "$1$" + hashlib.sha1(
        "+".join([c.application_secret, c.consumer_key, "POST", url, text, now]).encode()
    ).hexdigest()
    headers = {
        "X-Ovh-Application": c.application_key,
        "X-Ovh-Consumer": c.consumer_key,
        "X-Ovh-Timestamp": now,
        "X-Ovh-Signature": sig,
        "Content-type": "application/json",
    }
    return requests.post(url, data=text.encode(), headers=headers, timeout=GENEROUS)


# --------------------------------------------------------------------------- smartHost and credentials

HOSTILE_HOSTS = [
    "relay.test\ncontact@mydomain.test [relay.test]:25",
    "relay.test]:25\ncontact@mydomain.test [relay.test",
    "relay.test contact@mydomain.test",
    "relay.test\t",
    "relay.test\r",
    "relay.\x00test",
    "relay.test\x85",
    "[relay.test]",
    "relay.test:25",
    "fe80::1%eth0",
    "-relay.test",
    "relay..test",
    "a" * 64 + ".test",
    ("a" * 62 + ".") * 4 + "test",  # 256 characters
    "rélay.test",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_smart_host_must_be_a_host_name_or_address(client, host):
    with pytest.raises(ovhx.BadParametersError) as info:
        client.post(f"{BASE}/sendConnector", displayName="x", smartHost=host, port=25)
    message = info.value.response.json()["message"]
    assert "[smartHost]" in message and "not a valid host name or IP address" in message
    assert "\n" not in message and host not in message
    assert client.get(f"{BASE}/sendConnector") == []


@pytest.mark.parametrize(
    "host", ["relay.test", "relay.test.", "SMTP-1.Relay.test", "192.0.2.25", "2001:db8::25", ("a" * 63 + ".") * 3 + "b" * 61]
)
def test_good_smart_hosts_are_accepted(client, host):
    cid = create_connector(client, "ok", smartHost=host)
    assert client.get(f"{BASE}/sendConnector/{cid}")["smartHost"] == host


def test_update_checks_the_smart_host_too(client):
    cid = create_connector(client, "relay")
    with pytest.raises(ovhx.BadParametersError, match=r"\[smartHost\]"):
        client.put(f"{BASE}/sendConnector/{cid}", smartHost="relay.test\nnewsletter@mydomain.test [evil.test]:25")
    assert client.get(f"{BASE}/sendConnector/{cid}")["smartHost"] == "smtp.relay.test"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("user", "relay\nuser", "[user] Given data contains control characters"),
        ("user", " relay", "[user] Given data starts or ends with whitespace"),
        ("user", "u" * 257, "[user] Given data is longer than 256 characters"),
        ("password", CONNECTOR_PASSWORD + "\nnewsletter@mydomain.test x:y", "[password] Given data contains control characters"),
        ("password", "p" * 257, "[password] Given data is longer than 256 characters"),
    ],
)
def test_connector_credentials_without_control_characters(client, field, value, fragment):
    body = {"user": "relayuser", "password": CONNECTOR_PASSWORD, field: value}
    with pytest.raises(ovhx.BadParametersError) as info:
        client.post(f"{BASE}/sendConnector", displayName="x", smartHost="relay.test",
                    smartHostAuthMechanism="basicAuth", **body)
    assert fragment in str(info.value)
    assert CONNECTOR_PASSWORD not in str(info.value)
    cid = create_connector(client, "plain")
    with pytest.raises(ovhx.BadParametersError) as info:
        client.post(f"{BASE}/sendConnector/{cid}/changeAuthentication", smartHostAuthMechanism="basicAuth", **body)
    assert fragment in str(info.value)
    assert client.get(f"{BASE}/sendConnector/{cid}")["smartHostAuthMechanism"] == "none"


# --------------------------------------------------------------------------- wildcards


def _like_in_subprocess(pattern: str, value: str) -> bool:
    return _in_subprocess("from verifier.lab.api.server import ApiEmulator\n"
                          "print(ApiEmulator._like(sys.argv[1], sys.argv[2]))\n", pattern, value)


def _rule_in_subprocess(rule_path: str, path: str) -> bool:
    return _in_subprocess("from verifier.lab.api.server import _rule_matches\n"
                          "print(_rule_matches({'method': 'GET', 'path': sys.argv[1]}, 'GET', sys.argv[2]))\n",
                          rule_path, path)


def _in_subprocess(code: str, pattern: str, value: str) -> bool:
    code = "import sys\n" + code
    try:
        done = subprocess.run([sys.executable, "-c", code, pattern, value], capture_output=True, text=True,
                              timeout=GENEROUS, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the filter matcher did not return within {GENEROUS} s (backtracking)")
    return done.stdout.strip() == "True"


def test_fourteen_wildcards_do_not_freeze_the_matcher():
    assert _like_in_subprocess("%" * 14 + "x", "newsletter@mydomain.test" * 4) is False
    assert _like_in_subprocess("%_" * 14 + "%x", "a" * 200) is False
    assert _like_in_subprocess("%" * 14 + "t", "newsletter@mydomain.test") is True


@pytest.fixture
def emulator_process(tmp_path, clean_env):
    """The emulator in its own process, so that a frozen one cannot freeze the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier", "lab", "api", "--listen", "127.0.0.1:0",
         "--state-dir", str(tmp_path / "st"), "--task-delay", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        exports = {}
        for line in proc.stdout:
            if line.startswith("export "):
                key, value = line.removeprefix("export ").strip().split("=", 1)
                exports[key] = value
            if "Ctrl-C" in line:
                break
        yield exports
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_wildcard_filter_over_http_answers(emulator_process):
    name = "lab-hostile-filter"
    ovh.client.ENDPOINTS[name] = emulator_process["OVH_ENDPOINT"]
    # The timeout only bounds a hang (a frozen emulator); it measures nothing.
    c = ovh.Client(endpoint=name, application_key=emulator_process["OVH_APPLICATION_KEY"],
                   application_secret=emulator_process["OVH_APPLICATION_SECRET"],
                   consumer_key=emulator_process["OVH_CONSUMER_KEY"], timeout=GENEROUS)
    try:
        assert c.get(f"{BASE}/account", primaryEmailAddress="%" * 14 + "x") == []
        assert c.get(f"{BASE}/account", primaryEmailAddress="%" * 14 + "NEWS%") == [NEWSLETTER]
    except ovhx.HTTPError as exc:
        pytest.fail(f"the emulator did not answer a filter with 14 wildcards within {GENEROUS} s: {exc}")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("news%", "newsletter@mydomain.test", True),
        ("NEWS%", "newsletter@mydomain.test", True),
        ("%@mydomain.test", "contact@mydomain.test", True),
        ("%@mydomain.tes", "contact@mydomain.test", False),
        ("c_ntact@%", "contact@mydomain.test", True),
        ("c_ntact@", "contact@mydomain.test", False),
        ("%a%a%", "aa", True),
        ("%a%a%", "a", False),
        ("a%a", "a", False),
        ("%", "", True),
        ("_", "", False),
        ("ab%ba", "aba", False),
        ("%n_w%t_r%", "newsletter", True),
        ("100%", "100", True),
    ],
)
def test_like_semantics(pattern, value, expected):
    assert glob_match(pattern, value, many="%", one="_", fold=True) is expected


def test_rule_stars_match_without_backtracking():
    from verifier.lab.api.server import _rule_matches

    assert _rule_matches({"method": "GET", "path": "/email/exchange/*"}, "GET", "/email/exchange/a/service/b")
    assert not _rule_matches({"method": "GET", "path": "/email/exchange/*"}, "GET", "/email/exchange")
    assert _rule_matches({"method": "PUT", "path": "/email/*/service/*/account/*"}, "PUT", "/email/x/service/y/account/z")
    assert not _rule_matches({"method": "PUT", "path": "/email/*/service/*/account/*"}, "GET", "/email/x/service/y/account/z")
    assert _rule_in_subprocess("/" + "*a" * 40 + "b", "/" + "a" * 2000) is False


# --------------------------------------------------------------------------- nesting


def test_depth_check_is_linear_and_ignores_strings():
    assert json_depth_exceeds("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert not json_depth_exceeds("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert not json_depth_exceeds(json.dumps({"a": "[" * 1000, "b": '\\"[[[' * 100}))
    # an escaped quote does not end a string
    assert json_depth_exceeds('["\\"", ' + "[" * 40 + "]" * 40 + "]")
    # a deep body far past what recursion could follow
    assert json_depth_exceeds("[" * 500_000)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deep_json_is_a_400(emulator, client, depth):
    r = signed_post(emulator, f"{BASE}/sendConnector", "[" * depth + "]" * depth)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["class"] == "Client::BadRequest"
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in body["message"]
    assert client.get(f"{BASE}/sendConnector") == []


def test_nesting_within_the_limit_reaches_the_schema(emulator):
    inner = {"displayName": "x", "smartHost": "relay.test", "extra": [[[[1]]]]}
    r = signed_post(emulator, f"{BASE}/sendConnector", json.dumps(inner, separators=(",", ":")))
    assert r.status_code == 400
    assert "extra is not a property" in r.json()["message"]

