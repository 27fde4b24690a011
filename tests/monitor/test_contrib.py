"""The shipped dashboard and systemd units refer only to what the monitor really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from verifier.monitor.metrics import Metrics

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


def _exposed() -> set[str]:
    m = Metrics()
    m.declare("t", 60)
    m.smarthost_up.labels("t").set(1)
    return {s.name for f in text_string_to_metric_families(m.render().decode()) for s in f.samples}


def test_dashboard_queries_name_only_exposed_metrics() -> None:
    dash = json.loads((CONTRIB / "grafana" / "verifier.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    names = {n for e in exprs for n in re.findall(r"\bverifier_[a-z_]+", e)}
    names |= set(re.findall(r"\bverifier_[a-z_]+", dash["templating"]["list"][0]["query"]))
    assert names and names <= _exposed(), names - _exposed()


def test_alert_rules_name_only_exposed_metrics() -> None:
    text = (CONTRIB / "prometheus" / "alerts.yml").read_text()
    names = set(re.findall(r"\bverifier_[a-z_]+(?=[{\s\[)])", text))
    assert len(names) >= 6 and names <= _exposed(), names - _exposed()


def test_systemd_units_run_the_monitor() -> None:
    svc = (CONTRIB / "systemd" / "verifier-monitor.service").read_text()
    assert "ExecStart=/usr/local/bin/verifier monitor --config" in svc and "ExecReload=/bin/kill -HUP $MAINPID" in svc
    once = (CONTRIB / "systemd" / "verifier-monitor-once.service").read_text()
    assert "--once" in once and "--textfile" in once
    assert "OnCalendar=" in (CONTRIB / "systemd" / "verifier-monitor-once.timer").read_text()
