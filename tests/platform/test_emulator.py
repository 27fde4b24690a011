"""The emulator's fidelity, driven by the real python-ovh client (and raw HTTP where the client cannot err)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time

import ovh
import ovh.client
import ovh.exceptions as ovhx
import pytest
import requests
from vplatform_support import (
    CONNECTOR_PASSWORD,
    DOMAIN,
    MAILBOX_PASSWORD,
    NEW_CONNECTOR_PASSWORD,
    NEWSLETTER,
    Routes,
    run_cli,
)

from verifier.lab.api.server import ApiEmulator
from verifier.platform import ExchangeApi

BASE = "/email/exchange/private-zz111111-1/service/private-zz111111-1"


def client_for(emu: ApiEmulator, **overrides) -> ovh.Client:
    name = f"lab-{emu.port}"
    ovh.client.ENDPOINTS[name] = emu.base_url
    c = emu.credentials
    kwargs = {
        "application_key": c.application_key,
        "application_secret": c.application_secret,
        "consumer_key": c.consumer_key,
    }
    kwargs.update(overrides)
    return ovh.Client(endpoint=name, **kwargs)


@pytest.fixture
def client(emulator):
    return client_for(emulator)


def wait_done(client, task_id):
    api = ExchangeApi(client, "private-zz111111-1", "private-zz111111-1")
    return api.wait_task(task_id, initial_interval=0.02)


def create_connector(client, name="relay", **extra):
    body = {"displayName": name, "smartHost": "smtp.relay.test", "port": 587}
    body.update(extra)
    task = client.post(f"{BASE}/sendConnector", **body)
    wait_done(client, task["id"])
    return max(client.get(f"{BASE}/sendConnector"))


# --------------------------------------------------------------------------- seed and listing


def test_seed(client):
    assert client.get("/email/exchange") == ["private-zz111111-1"]
    assert client.get("/email/exchange/private-zz111111-1/service") == ["private-zz111111-1"]
    svc = client.get(BASE)
    assert svc["hostname"] == "mail.platform.test"
    assert svc["iam"]["urn"].endswith("private-zz111111-1/private-zz111111-1")
    assert client.get(f"{BASE}/account") == ["contact@mydomain.test", "newsletter@mydomain.test"]
    assert client.get(f"{BASE}/domain") == [DOMAIN]
    assert client.get(f"{BASE}/domain", main=True) == [DOMAIN]
    assert client.get(f"{BASE}/sendConnector") == []
    assert client.get(f"{BASE}/task") == []


def test_time_is_an_integer(emulator):
    r = requests.get(emulator.base_url + "/auth/time", timeout=5)
    assert r.status_code == 200 and isinstance(r.json(), int)
    assert client_for(emulator).time_delta in (-1, 0, 1)


def test_account_filter_like(client):
    assert client.get(f"{BASE}/account", primaryEmailAddress="news%") == [NEWSLETTER]
    with pytest.raises(ovhx.BadParametersError):
        client.get(f"{BASE}/account", accountLicense="gold")


# --------------------------------------------------------------------------- signature


def test_signature_covers_the_body(emulator):
    """A valid signature for one body does not carry another body."""
    c = emulator.credentials
    url = f"{emulator.base_url}{BASE}/sendConnector"
    signed = json.dumps({"displayName": "a", "smartHost": "h"}, separators=(",", ":"))
    sent = json.dumps({"displayName": "b", "smartHost": "h"}, separators=(",", ":"))
    now = str(int(time.time()))
    sig = "$1$" + hashlib.sha1(
        "+".join([c.application_secret, c.consumer_key, "POST", url, signed, now]).encode()
    ).hexdigest()
    headers = {
        "X-Ovh-Application": c.application_key,
        "X-Ovh-Consumer": c.consumer_key,
        "X-Ovh-Timestamp": now,
        "X-Ovh-Signature": sig,
        "Content-type": "application/json",
    }
    r = requests.post(url, data=sent, headers=headers, timeout=5)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "INVALID_SIGNATURE"
    assert r.headers["X-OVH-QUERYID"]
    r = requests.post(url, data=signed, headers=headers, timeout=5)
    assert r.status_code == 200 and r.json()["function"] == "addSendConnector"


def test_missing_auth_headers(emulator):
    r = requests.get(emulator.base_url + BASE, timeout=5)
    assert r.status_code == 401
    assert r.json()["message"]


def test_plus_and_at_in_path_are_signed_as_sent(client):
    task = client.post(f"{BASE}/account", domain=DOMAIN, login="john.doe+x", license="basic", password=MAILBOX_PASSWORD)
    wait_done(client, task["id"])
    acc = client.get(f"{BASE}/account/john.doe+x@mydomain.test")
    assert acc["primaryEmailAddress"] == "john.doe+x@mydomain.test"
    assert "password" not in acc
    # The account's own task list.
    assert client.get(f"{BASE}/account/john.doe+x@mydomain.test/tasks") == [task["id"]]
    own = client.get(f"{BASE}/account/john.doe+x@mydomain.test/tasks/{task['id']}")
    assert (own["function"], own["status"]) == ("addAccount", "done")
    with pytest.raises(ovhx.ResourceNotFoundError):
        client.get(f"{BASE}/account/{NEWSLETTER}/tasks/{task['id']}")


def test_errors_map_in_python_ovh(client):
    with pytest.raises(ovhx.ResourceNotFoundError):
        client.get(f"{BASE}/sendConnector/12345")
    with pytest.raises(ovhx.ResourceNotFoundError):
        client.get("/email/exchange/nope/service")
    with pytest.raises(ovhx.BadParametersError):
        client.get(f"{BASE}/sendConnector/abc")
    create_connector(client, "dup")
    with pytest.raises(ovhx.ResourceConflictError):
        client.post(f"{BASE}/sendConnector", displayName="dup", smartHost="h")


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"smartHost": "h"}, "[displayName] Property is mandatory"),
        ({"displayName": "x"}, "[smartHost] Property is mandatory"),
        ({"displayName": "x", "smartHost": "h", "port": "587"}, "not valid for type long"),
        ({"displayName": "x", "smartHost": "h", "port": True}, "not valid for type long"),
        ({"displayName": "x", "smartHost": "h", "requireTLS": "yes"}, "not valid for type boolean"),
        ({"displayName": "x", "smartHost": "h", "maxSendSize": 101}, "between 1 and 100"),
        ({"displayName": "x", "smartHost": "h", "smartHostAuthMechanism": "NONE"}, "enumeration"),
        ({"displayName": "x", "smartHost": "h", "smartHostAuthMechanism": "basicAuth"}, "needs a user and a password"),
        ({"displayName": "x", "smartHost": "h", "state": "ok"}, "not a property"),
        ({"displayName": "x", "smartHost": "h", "password": 1234}, "[password] Given data is not valid"),
    ],
)
def test_create_body_validation(client, body, fragment):
    with pytest.raises(ovhx.BadParametersError) as info:
        client.post(f"{BASE}/sendConnector", **body)
    assert fragment in str(info.value)
    assert client.get(f"{BASE}/sendConnector") == []


def test_password_value_never_echoed(client):
    with pytest.raises(ovhx.BadParametersError) as info:
        client.post(f"{BASE}/sendConnector", displayName="x", smartHost="h", password=["x", CONNECTOR_PASSWORD])
    assert CONNECTOR_PASSWORD not in info.value.response.text


def test_account_put_rules(client):
    cid = create_connector(client)
    acc = client.get(f"{BASE}/account/{NEWSLETTER}")
    # The guide's warning: deleteVirus must be true to set a connector.
    with pytest.raises(ovhx.BadParametersError) as info:
        client.put(f"{BASE}/account/{NEWSLETTER}", sendConnectorId=cid)
    assert "deleteVirus" in str(info.value)
    # The seven booleans are non-null: a partial object is refused.
    with pytest.raises(ovhx.BadParametersError) as info:
        client.put(f"{BASE}/account/{NEWSLETTER}", sendConnectorId=cid, spamAndVirusConfiguration={"deleteVirus": True})
    assert "spamAndVirusConfiguration.checkDKIM" in str(info.value)
    with pytest.raises(ovhx.BadParametersError):
        client.put(f"{BASE}/account/{NEWSLETTER}", primaryEmailAddress="other@mydomain.test")
    spam = dict(acc["spamAndVirusConfiguration"], deleteVirus=True)
    assert client.put(f"{BASE}/account/{NEWSLETTER}", sendConnectorId=cid, spamAndVirusConfiguration=spam) is None
    assert client.get(f"{BASE}/account/{NEWSLETTER}")["sendConnectorId"] == cid
    # Other writable fields go through; a GET echoed back whole is accepted.
    full = client.get(f"{BASE}/account/{NEWSLETTER}")
    full["displayName"] = "News"
    assert client.put(f"{BASE}/account/{NEWSLETTER}", **full) is None
    assert client.get(f"{BASE}/account/{NEWSLETTER}")["displayName"] == "News"


def test_domain_rules(client):
    with pytest.raises(ovhx.BadParametersError) as info:
        client.put(f"{BASE}/domain/{DOMAIN}", sendConnectorIdDefault=1)
    assert "read-only" in str(info.value)
    with pytest.raises(ovhx.BadParametersError):
        client.put(f"{BASE}/domain/{DOMAIN}", type="primary")
    assert client.put(f"{BASE}/domain/{DOMAIN}", type="nonAuthoritative") is None
    with pytest.raises(ovhx.BadParametersError):
        client.put(f"{BASE}/domain/{DOMAIN}/changeDefaultSBR", sendConnectorIdDefault=77)
    # changeDefaultSBR is a PUT that returns null
    cid = create_connector(client)
    assert client.put(f"{BASE}/domain/{DOMAIN}/changeDefaultSBR", sbrDefault="", sendConnectorIdDefault=cid) is None
    assert client.get(f"{BASE}/domain/{DOMAIN}")["sendConnectorIdDefault"] == cid


# --------------------------------------------------------------------------- tasks


def test_task_lifecycle_and_pending_list(emulator, client):
    emulator.task_delay = 0.4
    task = client.post(f"{BASE}/sendConnector", displayName="r", smartHost="h")
    assert task["status"] == "todo" and task["finishDate"] is None
    assert client.get(f"{BASE}/task") == [task["id"]]
    conn = client.get(f"{BASE}/sendConnector/{max(client.get(f'{BASE}/sendConnector'))}")
    assert (conn["state"], conn["taskPendingId"]) == ("creating", task["id"])
    seen = []
    api = ExchangeApi(client, "private-zz111111-1", "private-zz111111-1")
    done = api.wait_task(task["id"], initial_interval=0.05, progress=lambda t, _e: seen.append(t.status))
    assert done.status == "done" and done.finish_date
    # Statuses only move forward, and end at done.
    order = {"todo": 0, "doing": 1, "done": 2}
    assert [order[s] for s in seen] == sorted(order[s] for s in seen) and seen[-1] == "done"
    assert client.get(f"{BASE}/task") == []
    assert client.get(f"{BASE}/task/{task['id']}")["status"] == "done"  # finished tasks stay readable
    conn = client.get(f"{BASE}/sendConnector/{conn['id']}")
    assert (conn["state"], conn["taskPendingId"]) == ("ok", 0)


def test_deleting_then_gone(emulator, client):
    cid = create_connector(client)
    emulator.task_delay = 0.4
    task = client.delete(f"{BASE}/sendConnector/{cid}")
    assert task["function"] == "deleteSendConnector"
    assert client.get(f"{BASE}/sendConnector/{cid}")["state"] == "deleting"
    wait_done(client, task["id"])
    with pytest.raises(ovhx.ResourceNotFoundError):
        client.get(f"{BASE}/sendConnector/{cid}")


def test_fault_switch_fails_only_the_next_tasks(emulator, client):
    emulator.fail_next_tasks(2)
    api = ExchangeApi(client, "private-zz111111-1", "private-zz111111-1")
    from verifier.errors import TaskFailedError

    for name in ("a", "b"):
        task = client.post(f"{BASE}/sendConnector", displayName=name, smartHost="h")
        with pytest.raises(TaskFailedError):
            api.wait_task(task["id"], initial_interval=0.02)
        assert client.get(f"{BASE}/task/{task['id']}")["status"] == "error"
    assert client.get(f"{BASE}/sendConnector") == []
    assert create_connector(client, "c")


# --------------------------------------------------------------------------- route hook


def test_route_hook(emulator, client, routes):
    emulator.call_in_loop(emulator.hooks_idle)
    assert routes.calls and routes.last == []  # called once at start with the full (empty) list
    cid = create_connector(client, smartHostAuthMechanism="basicAuth", user="u@relay.test", password=CONNECTOR_PASSWORD)
    spam = dict(client.get(f"{BASE}/account/{NEWSLETTER}")["spamAndVirusConfiguration"], deleteVirus=True)
    client.put(f"{BASE}/account/{NEWSLETTER}", sendConnectorId=cid, spamAndVirusConfiguration=spam)
    emulator.call_in_loop(emulator.hooks_idle)
    (route,) = routes.last
    assert (route.address, route.connector_id, route.port, route.auth_mechanism) == (NEWSLETTER, cid, 587, "basicAuth")
    assert route.password == CONNECTOR_PASSWORD
    calls = len(routes.calls)
    client.put(f"{BASE}/sendConnector/{cid}", port=2525)
    emulator.call_in_loop(emulator.hooks_idle)
    assert routes.last[0].port == 2525 and len(routes.calls) == calls + 1
    task = client.post(f"{BASE}/sendConnector/{cid}/changeAuthentication", password=NEW_CONNECTOR_PASSWORD)
    wait_done(client, task["id"])
    emulator.call_in_loop(emulator.hooks_idle)
    assert routes.last[0].password == NEW_CONNECTOR_PASSWORD
    # A change that does not affect routing does not call the hook.
    calls = len(routes.calls)
    client.put(f"{BASE}/account/{NEWSLETTER}", displayName="N")
    emulator.call_in_loop(emulator.hooks_idle)
    assert len(routes.calls) == calls


def test_route_hook_failure_is_logged_without_secrets(tmp_path, clean_env, caplog):
    def broken(routes):
        raise RuntimeError(f"cannot write map with {[r.password for r in routes]}")

    emu = ApiEmulator(tmp_path / "api", task_delay=0.01, route_hook=broken).start_in_thread()
    try:
        c = client_for(emu)
        cid = create_connector(c, smartHostAuthMechanism="basicAuth", user="u", password=CONNECTOR_PASSWORD)
        spam = dict(c.get(f"{BASE}/account/{NEWSLETTER}")["spamAndVirusConfiguration"], deleteVirus=True)
        c.put(f"{BASE}/account/{NEWSLETTER}", sendConnectorId=cid, spamAndVirusConfiguration=spam)
        emu.call_in_loop(emu.hooks_idle)
        assert emu.hook_errors >= 1
        assert c.get(f"{BASE}/account/{NEWSLETTER}")["sendConnectorId"] == cid  # API still works
    finally:
        emu.stop_thread()
    assert "route hook failed" in caplog.text
    assert CONNECTOR_PASSWORD not in caplog.text


# --------------------------------------------------------------------------- persistence


def test_restart_loses_nothing(tmp_path, clean_env):
    state = tmp_path / "api"
    first = ApiEmulator(state, task_delay=0.01).start_in_thread()
    try:
        creds = first.credentials
        c = client_for(first)
        cid = create_connector(c, smartHostAuthMechanism="basicAuth", user="u", password=CONNECTOR_PASSWORD)
        spam = dict(c.get(f"{BASE}/account/{NEWSLETTER}")["spamAndVirusConfiguration"], deleteVirus=True)
        c.put(f"{BASE}/account/{NEWSLETTER}", sendConnectorId=cid, spamAndVirusConfiguration=spam)
        c.put(f"{BASE}/domain/{DOMAIN}/changeDefaultSBR", sendConnectorIdDefault=cid)
        # A task still running when the emulator stops.
        first.task_delay = 60
        pending = c.post(f"{BASE}/sendConnector", displayName="later", smartHost="h2")
        routes_before = first.routes()
    finally:
        first.stop_thread()

    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "state.json").st_mode) == 0o600
    assert sorted(p.name for p in state.iterdir()) == [".lock", "state.json"]  # no temporary files left

    hook = Routes()
    second = ApiEmulator(state, task_delay=0.01, route_hook=hook).start_in_thread()
    try:
        assert second.credentials == creds  # same demo credentials
        c = client_for(second)
        assert c.get(f"{BASE}/sendConnector/{cid}")["state"] == "ok"
        assert c.get(f"{BASE}/account/{NEWSLETTER}")["sendConnectorId"] == cid
        assert c.get(f"{BASE}/domain/{DOMAIN}")["sendConnectorIdDefault"] == cid
        # The unfinished task resumes and finishes.
        assert wait_done(c, pending["id"]).status == "done"
        assert len(c.get(f"{BASE}/sendConnector")) == 2
        second.call_in_loop(second.hooks_idle)
        assert hook.calls[0] == routes_before  # the lab gets the routes again at start
        assert hook.last[0].password == CONNECTOR_PASSWORD
    finally:
        second.stop_thread()


def test_one_emulator_per_state_dir(tmp_path, clean_env):
    from verifier.errors import LabError

    first = ApiEmulator(tmp_path / "api").start_in_thread()
    try:
        with pytest.raises(LabError) as info:
            ApiEmulator(tmp_path / "api").start_in_thread()
        assert "already using" in str(info.value)
    finally:
        first.stop_thread()
    ApiEmulator(tmp_path / "api").start_in_thread().stop_thread()  # free again


def test_each_state_dir_has_its_own_credentials(tmp_path, clean_env):
    a = ApiEmulator(tmp_path / "a")
    b = ApiEmulator(tmp_path / "b")
    assert a.credentials.application_secret != b.credentials.application_secret
    assert len(a.credentials.application_key) == 16 and len(a.credentials.consumer_key) == 32
    assert a.credentials.application_secret not in repr(a.credentials)


# --------------------------------------------------------------------------- OAuth2 and endpoints


def test_oauth2_client_credentials(emulator, clean_env):
    clean_env.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        clean_env.delenv(name)
    clean_env.setenv("OVH_CLIENT_ID", emulator.credentials.client_id)
    clean_env.setenv("OVH_CLIENT_SECRET", emulator.credentials.client_secret)
    r = run_cli("connector", "list", "--json")
    assert r.rc == 0, r.err
    assert json.loads(r.out) == []
    clean_env.setenv("OVH_CLIENT_SECRET", "not-the-secret")
    r = run_cli("connector", "list")
    assert r.rc == 7
    assert "OAuth2" in r.err


def test_ovh_conf_section_named_after_url(emulator, clean_env, tmp_path):
    c = emulator.credentials
    conf = tmp_path / "ovh.conf"
    conf.write_text(
        f"[default]\nendpoint = {emulator.base_url}\n\n[{emulator.base_url}]\n"
        f"application_key = {c.application_key}\napplication_secret = {c.application_secret}\n"
        f"consumer_key = {c.consumer_key}\n"
    )
    for name in ("OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        clean_env.delenv(name)
    r = run_cli("domain", "show", DOMAIN, "--config-file", str(conf), "--endpoint", emulator.base_url)
    assert r.rc == 0, r.err
    assert DOMAIN in r.out
    # The extra file did not stay in python-ovh's process-wide configuration.
    from ovh.config import config as global_config

    assert global_config.get(emulator.base_url, "application_key") is None


def test_endpoint_names_and_urls():
    from verifier.platform import resolve_endpoint

    assert resolve_endpoint("ovh-ca").url == "https://ca.api.ovh.com/1.0"
    e = resolve_endpoint("http://127.0.0.1:8787")
    assert e.url == "http://127.0.0.1:8787/1.0" and ovh.client.ENDPOINTS[e.name] == e.url
    assert ovh.client.OAUTH2_TOKEN_URLS[e.name] == "http://127.0.0.1:8787/auth/oauth2/token"
    assert resolve_endpoint("http://127.0.0.1:8787/1.0/").name == e.name


# --------------------------------------------------------------------------- `verifier lab api`


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a script's background job inherits it


@pytest.mark.parametrize("stop", ["SIGINT", "SIGINT-inherited-ignored", "SIGTERM"])
def test_lab_api_command(tmp_path, clean_env, stop):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVH_")}
    env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT dumps every thread's stack, should it ever hang
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier", "lab", "api", "--listen", "127.0.0.1:0",
         "--state-dir", str(tmp_path / "st"), "--task-delay", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=_ignore_sigint if stop == "SIGINT-inherited-ignored" else None,  # noqa: PLW1509
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1) for line in lines if line.startswith("export ")
        )
        assert set(exports) == {"OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"}
        assert "local demo only" in "".join(lines)
        for key, value in exports.items():
            clean_env.setenv(key, value)
        r = run_cli("connector", "create", "--name", "r", "--smart-host", "smtp.relay.test", "--wait", "--json")
        assert r.rc == 0, r.err
    finally:
        proc.send_signal(signal.SIGTERM if stop == "SIGTERM" else signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"the emulator did not stop within 30 s of Ctrl-C; where it stood:\n{err[-6000:]}")
    assert proc.returncode == 0, err
    assert "state saved" in err
    data = json.loads((tmp_path / "st" / "state.json").read_text())
    svc = data["organizations"]["private-zz111111-1"]["services"]["private-zz111111-1"]
    assert list(svc["connectors"]) == ["1"]


def test_lab_api_options():
    from verifier.commands.lab_api import load_hook, parse_listen
    from verifier.errors import UsageError

    assert parse_listen("127.0.0.1:8787") == ("127.0.0.1", 8787)
    assert parse_listen("[::1]:0") == ("::1", 0)
    with pytest.raises(UsageError):
        parse_listen("8787")
    assert load_hook("json:dumps") is json.dumps
    with pytest.raises(UsageError):
        load_hook("json")
    with pytest.raises(UsageError):
        load_hook("no_such_module_here:f")


def test_in_process_async_start_and_stop(tmp_path, clean_env):
    import asyncio

    import aiohttp

    async def scenario():
        emu = ApiEmulator(tmp_path / "api", task_delay=0)
        await emu.start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(emu.base_url + "/auth/time") as resp:
                    assert resp.status == 200
                    assert isinstance(await resp.json(), int)
            # python-ovh is synchronous: from async code it runs in a worker thread.
            c = await asyncio.to_thread(client_for, emu)
            assert await asyncio.to_thread(c.get, "/email/exchange") == ["private-zz111111-1"]
        finally:
            await emu.stop()

    asyncio.run(scenario())
