"""The platform layer on its own: task waiting, service choice, models, progress display."""

from __future__ import annotations

import io

import pytest
from vplatform_support import one_sentence

from verifier.commands._common import TaskProgress
from verifier.errors import ApiError, NotFoundError, TaskFailedError, TaskTimeoutError, UsageError
from verifier.platform import Account, ExchangeApi, SendConnector, Task, pick_service
from verifier.platform.client import api_errors


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


class ScriptedClient:
    """Answers GET .../task/{id} from a script of statuses (or exceptions)."""

    def __init__(self, statuses):
        self.statuses = list(statuses)

    def get(self, path, **_kw):
        item = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if isinstance(item, Exception):
            raise item
        return {"id": 7, "function": "addSendConnector", "status": item, "todoDate": "t", "finishDate": None}


def _api(statuses) -> ExchangeApi:
    return ExchangeApi(ScriptedClient(statuses), "org", "svc")


def test_wait_task_follows_to_done_with_growing_interval():
    clock = FakeClock()
    seen = []
    task = _api(["todo", "todo", "doing", "doing", "done"]).wait_task(
        7, sleep=clock.sleep, clock=clock, progress=lambda t, e: seen.append(t.status)
    )
    assert task.status == "done"
    assert seen == ["todo", "todo", "doing", "doing", "done"]
    assert clock.sleeps == sorted(clock.sleeps) and clock.sleeps[0] == 0.5 and clock.sleeps[-1] > 1.0


def test_wait_task_interval_is_capped():
    clock = FakeClock()
    with pytest.raises(TaskTimeoutError):
        _api(["doing"]).wait_task(7, timeout=200, max_interval=15, sleep=clock.sleep, clock=clock)
    assert max(clock.sleeps) <= 15
    assert clock.now == pytest.approx(200)  # it stopped at the bound, not after


@pytest.mark.parametrize("final", ["error", "cancelled"])
def test_wait_task_failure_states(final):
    clock = FakeClock()
    with pytest.raises(TaskFailedError) as info:
        _api(["todo", final]).wait_task(7, sleep=clock.sleep, clock=clock)
    assert f"status {final}" in str(info.value)
    assert not isinstance(info.value, TaskTimeoutError)


def test_wait_task_vanished_after_seen_counts_as_done():
    clock = FakeClock()
    missing = NotFoundError("gone.")
    task = _api(["doing", missing]).wait_task(7, sleep=clock.sleep, clock=clock)
    assert task.status == "done" and task.vanished
    assert task.to_dict()["vanished"] is True


def test_wait_task_never_seen_is_not_found():
    with pytest.raises(NotFoundError):
        _api([NotFoundError("gone.")]).wait_task(7, sleep=lambda s: None)


def test_wait_task_unknown_status():
    with pytest.raises(ApiError):
        _api(["paused"]).wait_task(7, sleep=lambda s: None)


class ListClient:
    def __init__(self, orgs, services):
        self.orgs, self.services = orgs, services

    def get(self, path, **_kw):
        return self.orgs if path == "/email/exchange" else self.services


def test_pick_service_defaults_to_the_only_one():
    assert pick_service(ListClient(["o"], ["s"]), None, None) == ("o", "s")
    assert pick_service(ListClient(["o", "p"], ["s"]), "p", None) == ("p", "s")


def test_pick_service_asks_when_ambiguous():
    with pytest.raises(UsageError) as info:
        pick_service(ListClient(["b-org", "a-org"], ["s"]), None, None)
    assert "a-org, b-org" in str(info.value) and "--organization" in str(info.value)
    with pytest.raises(UsageError) as info:
        pick_service(ListClient(["o"], ["s1", "s2"]), None, None)
    assert "--service" in str(info.value)
    with pytest.raises(NotFoundError):
        pick_service(ListClient([], []), None, None)


def test_organization_from_environment(emulator, cli, clean_env):
    clean_env.setenv("VERIFIER_OVH_ORGANIZATION", "private-zz999999-9")
    r = cli("connector", "list")
    assert r.rc == 6
    assert "private-zz999999-9" in one_sentence(r.err)
    clean_env.setenv("VERIFIER_OVH_ORGANIZATION", "private-zz111111-1")
    clean_env.setenv("VERIFIER_OVH_SERVICE", "private-zz111111-1")
    assert cli("connector", "list").rc == 0
    r = cli("connector", "list", "--service", "other-service")
    assert r.rc == 6


def test_path_segments_are_checked():
    api = ExchangeApi(ListClient([], []), "o", "s")
    with pytest.raises(UsageError):
        api.account("../sendConnector")


def test_api_errors_pass_through_unrelated_bugs():
    with pytest.raises(ZeroDivisionError), api_errors("do nothing"):
        1 / 0  # noqa: B018


def test_models_round_trip():
    data = {
        "id": 29, "displayName": "testconnector", "smartHost": "smtp-relay.example.com", "port": 587,
        "maxSendSize": 100, "requireTLS": True, "smartHostAuthMechanism": "basicAuthRequireTLS",
        "state": "ok", "creationDate": "2023-09-25T14:06:02+02:00", "lastUpdateDate": None, "taskPendingId": 0,
    }
    assert SendConnector.from_api(data).to_dict() == data
    acc = Account.from_api({"primaryEmailAddress": "a@b.test", "sendConnectorId": 0, "quota": 50,
                            "spamAndVirusConfiguration": {"deleteVirus": False}})
    assert acc.connector_id is None and acc.extra == {"quota": 50}
    assert acc.to_dict()["quota"] == 50
    assert Task.from_api({"id": 1, "function": "f", "status": "cancelled"}).failed


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_rewrites_one_line():
    stream = TtyStream()
    p = TaskProgress(stream)
    for status in ("todo", "todo", "doing", "done"):
        p(Task(id=1, function="addSendConnector", status=status), 1.0)
    p.close()
    text = stream.getvalue()
    assert text.count("\r\033[K") == 4 and text.count("\n") == 1 and text.endswith("done, 1 s\n")


def test_progress_elsewhere_prints_state_changes_only():
    stream = io.StringIO()
    p = TaskProgress(stream)
    for status in ("todo", "todo", "doing", "doing", "done"):
        p(Task(id=1, function="addSendConnector", status=status), 1.0)
    p.close()
    assert stream.getvalue().splitlines() == [
        "task 1 (addSendConnector): todo",
        "task 1 (addSendConnector): doing",
        "task 1 (addSendConnector): done",
    ]


def test_follow_a_task_known_only_by_id_reports_state_on_timeout(capsys):
    import sys

    from verifier.platform.procedures import Waiting, follow

    progress = TaskProgress(sys.stderr)
    with pytest.raises(TaskTimeoutError) as info:
        follow(_api(["doing"]), 7, Waiting(True, 0, progress), lambda: "account a@b.test has sendConnectorId 3 in state ok")
    assert str(info.value).endswith("was left running; account a@b.test has sendConnectorId 3 in state ok.")
    assert "7" in info.value.hint
    assert "task 7 (addSendConnector): doing" in capsys.readouterr().err
