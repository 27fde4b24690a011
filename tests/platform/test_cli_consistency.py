"""One consistent CLI over the API commands, with the real python-ovh client against the emulator.

Connectors named by id or display name, tables with a header for every column, choices
checked before any API call, `service list`, 404s that name what exists, JSON error
objects, and the same wording for attach and detach.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from vplatform_support import CONTACT, DOMAIN, NEWSLETTER, ORG, SERVICE, one_sentence

from verifier.errors import ExitCode
from verifier.lab.api.server import ApiEmulator
from verifier.lab.api.state import StateStore, seed_state

SECOND_ORG = "private-yy222222-1"
SECOND_SERVICE = "private-yy222222-2"


def _ok(r):
    assert r.rc == 0, r.err
    return r


def _json(r):
    return json.loads(_ok(r).out)


def _create(cli, name: str, host: str = "smtp.relay.test") -> int:
    return _json(cli("connector", "create", "--name", name, "--smarthost", host, "--wait", "--json"))[
        "connector"
    ]["id"]


def _columns(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Read an aligned table: headers separated by two spaces or more, values cut at their columns."""
    lines = text.rstrip("\n").splitlines()
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:(?<=\s\s)|^)\S", header)]
    names = [header[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
    rows = []
    for line in lines[1:]:
        for s in starts[1:]:  # every column starts after a gap in every row
            assert line[s - 2 : s] == "  " or len(line) < s, (line, s)
        rows.append(
            {n: line[s:e].strip() for n, s, e in zip(names, starts, [*starts[1:], None], strict=True)}
        )
    return names, rows


# --------------------------------------------------------------------------- names


def test_connectors_named_by_display_name_everywhere(emulator, cli):
    relay = _create(cli, "lab relay")
    other = _create(cli, "other relay", "smtp.other.test")

    shown = _json(cli("connector", "show", "lab relay", "--json"))
    assert shown["id"] == relay

    r = _ok(cli("account", "attach", NEWSLETTER, "lab relay"))
    assert _json(cli("account", "show", NEWSLETTER, "--json"))["account"]["sendConnectorId"] == relay
    assert f"send connector {relay} ('lab relay')" in r.out

    updated = _json(cli("connector", "update", "other relay", "--port", "2525", "--json"))
    assert updated["connector"]["id"] == other and updated["connector"]["port"] == 2525

    changed = _json(cli("connector", "change-auth", "other relay", "--auth-mechanism", "none", "--wait", "--json"))
    assert changed["connector"]["id"] == other

    dom = _json(cli("domain", "set-default", DOMAIN, "other relay", "--json"))
    assert dom["sendConnectorIdDefault"] == other
    assert _json(cli("domain", "set-default", DOMAIN, "--reset", "--json"))["sendConnectorIdDefault"] in (0, None)

    # An id still works, and wins over a name.
    assert _json(cli("connector", "show", str(other), "--json"))["displayName"] == "other relay"

    deleted = _json(cli("connector", "delete", "other relay", "--wait", "--json"))
    assert deleted["connector"]["id"] == other and deleted["deleted"] is True
    ids = [c["id"] for c in _json(cli("connector", "list", "--json"))]
    assert ids == [relay]


def test_a_number_that_is_an_id_and_a_name_is_refused(emulator, cli):
    relay = _create(cli, "relay")
    named_like_an_id = _create(cli, str(relay), "smtp.two.test")
    r = cli("account", "attach", NEWSLETTER, str(relay))
    assert r.rc == ExitCode.USAGE
    line = one_sentence(r.err)
    assert f"2 send connectors match, by id or by name, '{relay}'" in line
    assert f"{relay} ('relay', smtp.relay.test)" in line
    assert f"{named_like_an_id} ('{relay}', smtp.two.test)" in line
    # Nothing was attached.
    assert not _json(cli("account", "show", NEWSLETTER, "--json"))["account"]["sendConnectorId"]
    # A name only one has works.
    _ok(cli("account", "attach", NEWSLETTER, "relay"))
    assert _json(cli("account", "show", NEWSLETTER, "--json"))["account"]["sendConnectorId"] == relay


def test_a_name_shared_by_two_connectors_is_refused(tmp_path, routes, clean_env, cli):
    """The emulator refuses duplicate names, as the API is believed to; a state that has them anyway
    (written by another tool, or an API that allows them) is still handled."""
    state_dir = tmp_path / "api"
    emu = ApiEmulator(state_dir, task_delay=0.05, route_hook=routes).start_in_thread()
    try:
        for key, value in emu.environment().items():
            clean_env.setenv(key, value)
        first = _create(cli, "dup", "smtp.one.test")
        second = _create(cli, "dup two", "smtp.two.test")
    finally:
        emu.stop_thread()
    store = StateStore(state_dir)
    data = json.loads(store.path.read_text())
    for conn in data["organizations"][ORG]["services"][SERVICE]["connectors"].values():
        if conn["displayName"] == "dup two":
            conn["displayName"] = "dup"
    store.save(data)
    emu = ApiEmulator(state_dir, task_delay=0.05, route_hook=routes).start_in_thread()
    try:
        for key, value in emu.environment().items():
            clean_env.setenv(key, value)
        r = cli("connector", "delete", "dup")
        assert r.rc == ExitCode.USAGE
        line = one_sentence(r.err)
        assert "2 send connectors are named 'dup'" in line
        assert f"{first} ('dup', smtp.one.test)" in line and f"{second} ('dup', smtp.two.test)" in line
        assert len(_json(cli("connector", "list", "--json"))) == 2  # nothing deleted
    finally:
        emu.stop_thread()


def test_unknown_name_lists_the_connectors(emulator, cli):
    relay = _create(cli, "lab relay")
    r = cli("connector", "show", "no such relay")
    assert r.rc == ExitCode.API
    line = one_sentence(r.err)
    assert "'no such relay'" in line and f"{relay} ('lab relay', smtp.relay.test)" in line


# --------------------------------------------------------------------------- tables


def test_lists_are_tables_with_a_header_for_every_column(emulator, cli):
    assert cli("connector", "list").out.strip() == f"No send connector on {SERVICE}."
    relay = _create(cli, "lab relay")
    _create(cli, "a much longer connector name", "smtp.long-name.relay.test")
    _ok(cli("account", "attach", NEWSLETTER, str(relay)))

    names, rows = _columns(_ok(cli("connector", "list")).out)
    assert names == ["ID", "NAME", "SMARTHOST", "PORT", "TLS", "AUTH", "MAX MB", "STATE"]
    assert rows[0] == {
        "ID": str(relay), "NAME": "lab relay", "SMARTHOST": "smtp.relay.test", "PORT": "25",
        "TLS": "optional", "AUTH": "none", "MAX MB": "100", "STATE": "ok",
    } or rows[0]["NAME"] == "lab relay"
    assert rows[1]["NAME"] == "a much longer connector name"
    assert rows[1]["SMARTHOST"] == "smtp.long-name.relay.test"
    assert all(all(v for v in row.values()) for row in rows)

    names, rows = _columns(_ok(cli("account", "list")).out)
    assert names == ["ADDRESS", "STATE", "CONNECTOR", "CONNECTOR NAME", "SENDS THROUGH", "TASK"]
    by_address = {row["ADDRESS"]: row for row in rows}
    assert by_address[NEWSLETTER]["CONNECTOR"] == str(relay)
    assert by_address[NEWSLETTER]["CONNECTOR NAME"] == "lab relay"
    assert by_address[NEWSLETTER]["SENDS THROUGH"].startswith("smtp.relay.test:")
    assert by_address[CONTACT]["CONNECTOR"] == "-"
    assert by_address[CONTACT]["SENDS THROUGH"] == "platform outbound"

    _ok(cli("domain", "set-default", DOMAIN, "lab relay"))
    names, rows = _columns(_ok(cli("domain", "list")).out)
    assert names == ["DOMAIN", "STATE", "DEFAULT CONNECTOR", "CONNECTOR NAME", "TASK"]
    assert rows == [
        {"DOMAIN": DOMAIN, "STATE": "ok", "DEFAULT CONNECTOR": str(relay), "CONNECTOR NAME": "lab relay", "TASK": "-"}
    ]

    # --json stays the machine form.
    assert [c["displayName"] for c in _json(cli("connector", "list", "--json"))] == [
        "lab relay", "a much longer connector name",
    ]


def test_connector_list_row_values(emulator, cli, password_file):
    _ok(cli(
        "connector", "create", "--name", "tls relay", "--smarthost", "smtp.relay.test", "--port", "587",
        "--require-tls", "--user", "u@relay.test", "--password-file", str(password_file),
        "--max-send-size", "25", "--wait",
    ))
    _names, rows = _columns(_ok(cli("connector", "list")).out)
    assert rows == [{
        "ID": "1", "NAME": "tls relay", "SMARTHOST": "smtp.relay.test", "PORT": "587",
        "TLS": "required", "AUTH": "basicAuth", "MAX MB": "25", "STATE": "ok",
    }]


# --------------------------------------------------------------------------- choices


def test_auth_mechanism_choices_checked_before_any_api_call(emulator, cli, caplog):
    help_text = cli("connector", "create", "--help").out
    assert "{basicAuth,basicAuthRequireTLS,none}" in help_text
    assert "{basicAuth,basicAuthRequireTLS,none}" in cli("connector", "change-auth", "--help").out
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="verifier.lab.api"):
        r = cli("connector", "create", "--name", "x", "--smarthost", "h.test", "--auth-mechanism", "Basic")
        r2 = cli("connector", "change-auth", "1", "--auth-mechanism", "plain")
    assert r.rc == r2.rc == ExitCode.USAGE
    assert "invalid choice: 'Basic'" in r.err and "'basicAuthRequireTLS'" in r.err
    assert "invalid choice: 'plain'" in r2.err
    assert [rec for rec in caplog.records if rec.name == "verifier.lab.api"] == []  # not one request


# --------------------------------------------------------------------------- services and 404s


@pytest.fixture
def two_orgs(tmp_path: Path, routes, clean_env) -> Iterator[ApiEmulator]:
    """The emulator with a second organisation holding two services."""
    data = seed_state()
    org = data["organizations"][ORG]
    template = org["services"][SERVICE]
    second = copy.deepcopy(template)
    data["organizations"][SECOND_ORG] = {
        "services": {SECOND_ORG: copy.deepcopy(second), SECOND_SERVICE: copy.deepcopy(second)}
    }
    for name, svc in data["organizations"][SECOND_ORG]["services"].items():
        svc["service"]["displayName"] = f"Second ({name})"
    (tmp_path / "api").mkdir(mode=0o700)
    StateStore(tmp_path / "api").save(data)
    emu = ApiEmulator(tmp_path / "api", task_delay=0.05, route_hook=routes).start_in_thread()
    for key, value in emu.environment().items():
        clean_env.setenv(key, value)
    try:
        yield emu
    finally:
        emu.stop_thread()


def test_service_list(two_orgs, cli):
    names, rows = _columns(_ok(cli("service", "list")).out)
    assert names == ["ORGANIZATION", "SERVICE", "DISPLAY NAME", "OFFER", "HOSTNAME", "STATE"]
    expected = sorted([(ORG, SERVICE), (SECOND_ORG, SECOND_ORG), (SECOND_ORG, SECOND_SERVICE)])
    assert [(r["ORGANIZATION"], r["SERVICE"]) for r in rows] == expected
    assert rows[expected.index((SECOND_ORG, SECOND_SERVICE))]["DISPLAY NAME"] == f"Second ({SECOND_SERVICE})"
    data = _json(cli("service", "list", "--json"))
    assert [(d["organization"], d["service"]) for d in data] == expected
    # With several organisations, the others say which to choose.
    r = cli("connector", "list")
    assert r.rc == ExitCode.USAGE and "--organization" in one_sentence(r.err)


def test_unknown_organisation_or_service_names_those_that_exist(two_orgs, cli):
    r = cli("connector", "list", "--organization", "private-nope-1", "--service", SERVICE)
    assert r.rc == ExitCode.API
    line = one_sentence(r.err)
    assert "'private-nope-1'" in line and ", ".join(sorted([ORG, SECOND_ORG])) in line
    assert "verifier service list" in r.err  # the hint

    r = cli("account", "show", NEWSLETTER, "--organization", SECOND_ORG, "--service", "nope")
    assert r.rc == ExitCode.API
    line = one_sentence(r.err)
    assert "'nope'" in line and f"{SECOND_ORG}, {SECOND_SERVICE}" in line

    # Only the organisation given: the same, before any service is chosen.
    r = cli("domain", "list", "--organization", "private-nope-2", "--json")
    assert r.rc == ExitCode.API
    obj = json.loads(r.out)
    assert "'private-nope-2'" in obj["message"] and ", ".join(sorted([ORG, SECOND_ORG])) in obj["message"]
    assert "verifier service list" in obj["hint"]

    # A 404 about the object itself stays as it was.
    r = cli("account", "show", "nobody@mydomain.test", "--organization", ORG, "--service", SERVICE)
    assert r.rc == ExitCode.API and "nobody@mydomain.test" in one_sentence(r.err)


# --------------------------------------------------------------------------- JSON errors


@pytest.mark.parametrize(
    "argv, code",
    [
        (("connector", "show", "99", "--json"), ExitCode.API),
        (("account", "attach", NEWSLETTER, "nope", "--json"), ExitCode.API),
        (("account", "show", "nobody@mydomain.test", "--json"), ExitCode.API),
        (("domain", "show", "nope.test", "--json"), ExitCode.API),
        (("connector", "create", "--name", "x", "--json"), ExitCode.USAGE),
        (("connector", "create", "--name", "x", "--smarthost", "h", "--auth-mechanism", "x", "--json"), ExitCode.USAGE),
        (("connector", "update", "1", "--json"), ExitCode.USAGE),
        (("connector", "list", "--json", "--organization", "nope", "--service", "nope"), ExitCode.API),
        (("connector", "list", "--json", "--endpoint", "nowhere"), ExitCode.CONFIG),
    ],
)
def test_failures_print_a_json_error_object(emulator, cli, argv, code):
    r = cli(*argv)
    assert r.rc == code
    obj = json.loads(r.out)
    assert set(obj) <= {"error", "message", "exit_code", "hint", "details"}
    assert obj["exit_code"] == code
    assert obj["error"] == code.name.lower().replace("_", "-")
    assert obj["message"] and obj["message"].endswith(".")
    # The same sentence is on stderr.
    assert obj["message"].rstrip(".") in r.err


def test_json_error_for_missing_credentials_and_task_failure(emulator, cli, clean_env, password_file):
    emulator.fail_next_tasks(1)
    r = cli("connector", "create", "--name", "f", "--smarthost", "smtp.relay.test", "--wait", "--json")
    assert r.rc == ExitCode.TASK
    # stdout holds exactly one JSON document: the error.
    obj = json.loads(r.out)
    assert obj["error"] == "task" and "ended in status error" in obj["message"]

    clean_env.delenv("OVH_CONSUMER_KEY")
    r = cli("service", "list", "--json")
    assert r.rc == ExitCode.CREDENTIALS
    obj = json.loads(r.out)
    assert obj["error"] == "credentials" and "consumer key" in obj["message"]


def test_without_json_stdout_stays_empty_on_failure(emulator, cli):
    r = cli("connector", "show", "99")
    assert r.rc == ExitCode.API and r.out == ""


# --------------------------------------------------------------------------- wording


def test_attach_and_detach_say_the_same_thing_the_same_way(emulator, cli):
    relay = _create(cli, "lab relay")
    other = _create(cli, "other", "smtp.other.test")
    pattern = re.compile(r"^(\S+) now sends through (.+) \(was (.+)\)\.$", re.M)

    a = pattern.search(_ok(cli("account", "attach", NEWSLETTER, "lab relay")).out)
    assert a and a.groups() == (NEWSLETTER, f"send connector {relay} ('lab relay')", "the platform's own outbound")

    b = pattern.search(_ok(cli("account", "attach", NEWSLETTER, str(other))).out)
    assert b and b.groups() == (NEWSLETTER, f"send connector {other} ('other')", f"send connector {relay} ('lab relay')")

    d = pattern.search(_ok(cli("account", "detach", NEWSLETTER)).out)
    assert d and d.groups() == (NEWSLETTER, "the platform's own outbound", f"send connector {other} ('other')")

    r = cli("account", "detach", NEWSLETTER, "--json")
    assert pattern.search(r.err).groups()[1:] == ("the platform's own outbound", "the platform's own outbound")


def test_smart_host_spelling_is_a_hidden_alias(emulator, cli):
    help_text = cli("connector", "create", "--help").out
    assert "--smarthost HOST" in help_text and "--smart-host" not in help_text
    created = _json(cli("connector", "create", "--name", "old", "--smart-host", "smtp.relay.test", "--json"))
    assert created["connector"]["smartHost"] == "smtp.relay.test"


def test_ctrl_c_while_waiting_says_the_task_goes_on(emulator, cli, monkeypatch):
    """Ctrl-C (raised at the first progress report) stops the wait, not the task."""
    from verifier.commands import _common

    def interrupt(self, task, elapsed):  # noqa: ARG001
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(_common.TaskProgress, "__call__", interrupt)
        r = cli("connector", "create", "--name", "slow", "--smarthost", "smtp.relay.test", "--wait", "--json")
    assert r.rc == 130
    m = re.search(r"stopped waiting; task (\d+) goes on in the API\.", r.err)
    assert m
    obj = json.loads(r.out)
    assert obj == {"error": "interrupted", "message": "interrupted.", "exit_code": 130}
    # The task went on: the connector is there.
    assert [c["displayName"] for c in _json(cli("connector", "list", "--json"))] == ["slow"]


def test_messages_keep_the_display_name_as_written(emulator, cli):
    r = _ok(cli("connector", "create", "--name", "Lab Relay EU", "--smarthost", "smtp.relay.test", "--wait"))
    assert "Send connector 1 ('Lab Relay EU') created" in r.out
    r = _ok(cli("connector", "update", "Lab Relay EU", "--port", "2525"))
    assert "Send connector 1 ('Lab Relay EU') updated (port)" in r.out
    r = _ok(cli("connector", "delete", "Lab Relay EU"))
    assert "Deletion of send connector 1 ('Lab Relay EU') requested as task" in r.out
