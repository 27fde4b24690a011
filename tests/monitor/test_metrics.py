from __future__ import annotations

import os
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from verifier.monitor.metrics import Metrics, write_textfile

from .support import leg


def _families(m: Metrics) -> dict:
    return {f.name: f for f in text_string_to_metric_families(m.render().decode())}


def _value(m: Metrics, name: str, **labels) -> float:
    for f in text_string_to_metric_families(m.render().decode()):
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise KeyError(name, labels)


def test_every_series_exists_before_the_first_run() -> None:
    m = Metrics()
    m.declare("t", 120, ("sender", "control"))
    names = {s.name for f in _families(m).values() for s in f.samples}
    for name in ("verifier_probe_success", "verifier_probe_verdict", "verifier_probe_delivery_seconds_bucket",
                 "verifier_probe_phase_seconds_count", "verifier_probe_runs_total", "verifier_probe_failures_total",
                 "verifier_probe_last_run_timestamp_seconds", "verifier_probe_last_success_timestamp_seconds",
                 "verifier_probe_route_changes_total", "verifier_probe_connector_info", "verifier_monitor_up"):
        assert name in names, name
    assert _value(m, "verifier_probe_success", target="t", leg="control") == 0
    assert _value(m, "verifier_probe_failures_total", target="t", leg="sender", reason="lost") == 0
    assert _value(m, "verifier_probe_runs_total", target="t") == 0
    assert _value(m, "verifier_monitor_up") == 1
    assert _value(m, "verifier_monitor_imap_reconnects_total") == 0


def test_naming_conventions() -> None:
    m = Metrics()
    m.declare("t", 120)
    for f in text_string_to_metric_families(m.render().decode()):
        assert f.name.startswith(("verifier_probe_", "verifier_monitor_")), f.name
        for s in f.samples:
            if s.name.endswith("_total"):
                assert f.type == "counter", s.name
            assert not s.name.endswith("_created"), s.name


def test_recording_a_run() -> None:
    m = Metrics()
    m.declare("t", 120)
    m.record_leg("t", leg(), changed=False, finished=5000)
    m.record_leg("t", leg("control", verdict="via-connector", expected="bypassed", state="wrong-route"), changed=True, finished=5000)
    m.record_run("t", finished=5000, seconds=3, consecutive=1, smarthost_ok=True)
    assert _value(m, "verifier_probe_success", target="t", leg="sender") == 1
    assert _value(m, "verifier_probe_last_success_timestamp_seconds", target="t", leg="sender") == 5000
    assert _value(m, "verifier_probe_verdict", target="t", leg="control", verdict="via-connector") == 1
    assert _value(m, "verifier_probe_verdict", target="t", leg="control", verdict="bypassed") == 0
    assert _value(m, "verifier_probe_failures_total", target="t", leg="control", reason="wrong-route") == 1
    assert _value(m, "verifier_probe_route_changes_total", target="t", leg="control") == 1
    assert _value(m, "verifier_probe_delivery_seconds_count", target="t", leg="sender") == 1
    assert _value(m, "verifier_probe_phase_seconds_count", target="t", leg="sender", phase="submit") == 1
    assert _value(m, "verifier_probe_connector_info", target="t", leg="sender", connector_id="7", smart_host="smtp.relay.test") == 1
    assert _value(m, "verifier_probe_smarthost_up", target="t") == 1
    m.forget("t")
    assert "verifier_probe_success" not in {s.name for f in text_string_to_metric_families(m.render().decode()) for s in f.samples}


def test_textfile_is_replaced_atomically(tmp_path: Path) -> None:
    m = Metrics()
    m.declare("t", 120)
    path = write_textfile(str(tmp_path), m.render())
    assert Path(path).read_bytes() == m.render()
    assert os.listdir(tmp_path) == ["verifier_monitor.prom"]  # no temp file left behind
    write_textfile(str(tmp_path), b"# new\n")
    assert Path(path).read_bytes() == b"# new\n"
