"""The provider guide's whole procedure, through the `verifier` CLI and the real python-ovh client."""

from __future__ import annotations

import json

from vplatform_support import (
    CONNECTOR_PASSWORD,
    CONTACT,
    DOMAIN,
    MAILBOX_PASSWORD,
    NEW_CONNECTOR_PASSWORD,
    NEWSLETTER,
)


def _json(result):
    assert result.rc == 0, result.err
    return json.loads(result.out)


def test_guide_procedure(emulator, cli, password_file, routes, tmp_path, monkeypatch):
    # Nothing yet.
    assert _json(cli("connector", "list", "--json")) == []

    # 1. Add the send connector (POST .../sendConnector) and follow its task.
    r = cli(
        "connector", "create", "--name", "testconnector", "--smart-host", "smtp.relay.test",
        "--port", "587", "--require-tls", "--user", "relayuser@relay.test",
        "--password-file", str(password_file), "--wait", "--json",
    )
    created = _json(r)
    assert created["task"]["function"] == "addSendConnector"
    assert created["task"]["status"] == "done"
    assert created["connector"]["state"] == "ok"
    assert "task " in r.err and ": done" in r.err  # progress, one line per state on a non-tty

    # 2. Find its id (GET .../sendConnector), then show it.
    ids = [c["id"] for c in _json(cli("connector", "list", "--json"))]
    assert ids == [created["connector"]["id"]]
    cid = ids[0]
    shown = _json(cli("connector", "show", str(cid), "--json"))
    assert shown["smartHost"] == "smtp.relay.test"
    assert shown["port"] == 587
    assert shown["requireTLS"] is True
    assert shown["smartHostAuthMechanism"] == "basicAuth"
    assert shown["maxSendSize"] == 100
    assert shown["taskPendingId"] == 0
    assert "password" not in shown and "user" not in shown
    text = cli("connector", "show", str(cid))
    assert text.rc == 0 and "smtp.relay.test" in text.out

    # 3. Attach it to newsletter@ (PUT .../account with deleteVirus true, as the guide warns).
    before = _json(cli("account", "show", NEWSLETTER, "--json"))
    assert before["account"]["spamAndVirusConfiguration"]["deleteVirus"] is False
    r = cli("account", "attach", NEWSLETTER, str(cid), "--json")
    attached = _json(r)
    assert attached["account"]["sendConnectorId"] == cid
    assert attached["deleteVirusChanged"] is True
    spam_before = before["account"]["spamAndVirusConfiguration"]
    spam_after = attached["account"]["spamAndVirusConfiguration"]
    assert spam_after == {**spam_before, "deleteVirus": True}  # the other six untouched
    assert "deleteVirus" in r.err
    shown = cli("account", "show", NEWSLETTER)
    assert f"send connector {cid} (testconnector, smtp.relay.test:587)" in shown.out
    # contact@ is untouched.
    assert not _json(cli("account", "show", CONTACT, "--json"))["account"]["sendConnectorId"]

    # The emulator told the mail lab: newsletter@ now leaves through the smarthost.
    emulator.call_in_loop(emulator.hooks_idle)
    last = routes.last
    assert [(x.address, x.connector_id, x.smart_host, x.port) for x in last] == [
        (NEWSLETTER, cid, "smtp.relay.test", 587)
    ]
    assert last[0].user == "relayuser@relay.test"
    assert last[0].password == CONNECTOR_PASSWORD
    assert CONNECTOR_PASSWORD not in repr(last[0])

    # 4. Detach it (sendConnectorId 0).
    detached = _json(cli("account", "detach", NEWSLETTER, "--json"))
    assert detached["account"]["sendConnectorId"] == 0
    emulator.call_in_loop(emulator.hooks_idle)
    assert routes.last == []

    # 5. Make it the domain's default, then reset it.
    r = cli("domain", "set-default", DOMAIN, str(cid), "--json")
    assert _json(r)["sendConnectorIdDefault"] == cid
    assert "New accounts" in r.err
    r = cli("domain", "set-default", DOMAIN, "--reset")
    assert r.rc == 0, r.err
    assert not _json(cli("domain", "show", DOMAIN, "--json"))["sendConnectorIdDefault"]
    r = cli("domain", "set-default", DOMAIN, str(cid))
    assert r.rc == 0
    r = cli("domain", "set-default", DOMAIN, "0")
    assert r.rc == 0
    assert "platform's own outbound" in r.out
    assert not _json(cli("domain", "show", DOMAIN, "--json"))["sendConnectorIdDefault"]

    # 6. Change its authentication (POST .../changeAuthentication).
    monkeypatch.setenv("NEW_RELAY_PASSWORD", NEW_CONNECTOR_PASSWORD)
    r = cli(
        "connector", "change-auth", str(cid), "--auth-mechanism", "basicAuthRequireTLS",
        "--user", "other@relay.test", "--password-env", "NEW_RELAY_PASSWORD", "--wait", "--json",
    )
    changed = _json(r)
    assert changed["task"]["function"] == "setSendConnector"
    assert changed["connector"]["smartHostAuthMechanism"] == "basicAuthRequireTLS"

    # 7. Delete it.
    r = cli("connector", "delete", str(cid), "--wait", "--json")
    deleted = _json(r)
    assert deleted["deleted"] is True
    assert deleted["task"]["function"] == "deleteSendConnector"
    assert _json(cli("connector", "list", "--json")) == []
    gone = cli("connector", "show", str(cid))
    assert gone.rc == 6


def test_connector_states_without_wait(emulator, cli, password_file):
    """Without --wait the command returns at once and says the task and the state."""
    emulator.task_delay = 5.0  # long enough to observe 'creating'; nothing waits on it
    r = cli("connector", "create", "--name", "slow", "--smart-host", "smtp.relay.test", "--json")
    data = json.loads(r.out)
    assert r.rc == 0
    assert data["task"]["status"] == "todo"
    assert data["connector"]["state"] == "creating"
    assert data["connector"]["taskPendingId"] == data["task"]["id"]
    assert "Use --wait" in r.err
    # A pending task blocks other changes with a 409.
    r = cli("connector", "update", str(data["connector"]["id"]), "--port", "2525")
    assert r.rc == 6
    assert "already pending" in r.err


def test_update_and_account_list(emulator, cli):
    r = cli("connector", "create", "--name", "r1", "--smart-host", "smtp.relay.test", "--wait")
    assert r.rc == 0, r.err
    r = cli("connector", "update", "1", "--port", "2525", "--no-require-tls", "--max-send-size", "50", "--json")
    data = json.loads(r.out)["connector"]
    assert (data["port"], data["requireTLS"], data["maxSendSize"]) == (2525, False, 50)
    assert data["lastUpdateDate"]
    r = cli("account", "list")
    assert r.rc == 0 and NEWSLETTER in r.out and CONTACT in r.out
    r = cli("domain", "list", "--json")
    assert [d["name"] for d in json.loads(r.out)] == [DOMAIN]


def test_new_account_gets_domain_default(emulator, cli, routes):
    """Accounts created after changeDefaultSBR get the domain's default connector."""
    import ovh
    import ovh.client

    assert cli("connector", "create", "--name", "r1", "--smart-host", "smtp.relay.test", "--wait").rc == 0
    assert cli("domain", "set-default", DOMAIN, "1").rc == 0
    ovh.client.ENDPOINTS["lab-test"] = emulator.base_url
    c = emulator.credentials
    client = ovh.Client(
        endpoint="lab-test",
        application_key=c.application_key,
        application_secret=c.application_secret,
        consumer_key=c.consumer_key,
    )
    base = "/email/exchange/private-zz111111-1/service/private-zz111111-1"
    task = client.post(f"{base}/account", domain=DOMAIN, login="sales", license="standard",
                       password=MAILBOX_PASSWORD)
    assert task["function"] == "addAccount"
    # Follow the task through the platform layer.
    from verifier.platform import ExchangeApi

    api = ExchangeApi(client, "private-zz111111-1", "private-zz111111-1")
    assert api.wait_task(task["id"], initial_interval=0.02).status == "done"
    acc = api.account("sales@mydomain.test")
    assert acc.send_connector_id == 1 and acc.state == "ok"
    emulator.call_in_loop(emulator.hooks_idle)
    assert [x.address for x in routes.last] == ["sales@mydomain.test"]


def test_service_hostname(emulator):
    """The probe reads the service's hostname through the same layer."""
    from verifier.platform import ClientSettings, ExchangeApi, make_client, pick_service

    client, endpoint = make_client(ClientSettings())
    assert endpoint.url == emulator.base_url
    org, svc = pick_service(client, None, None)
    service = ExchangeApi(client, org, svc).service()
    assert service.hostname == "mail.platform.test"
    assert (service.organization, service.name) == ("private-zz111111-1", "private-zz111111-1")
