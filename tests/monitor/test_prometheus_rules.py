"""contrib/prometheus/alerts.yml passes `promtool check rules`, and its unit tests pass `promtool test rules`.

promtool comes with Debian's `prometheus` package (scripts/install-monitor-packages.sh);
under CI a missing promtool fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "contrib" / "prometheus"


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (scripts/install-monitor-packages.sh installs Debian's prometheus)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def test_rules_pass_promtool_check() -> None:
    done = subprocess.run([_promtool(), "check", "rules", str(RULES / "alerts.yml")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


def test_rule_unit_tests_pass(tmp_path: Path) -> None:
    done = subprocess.run([_promtool(), "test", "rules", "alerts_test.yml"], cwd=RULES, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_expectation_is_caught(tmp_path: Path) -> None:
    """The unit tests can fail: the same file with one expected alert removed does not pass."""
    shutil.copy(RULES / "alerts.yml", tmp_path / "alerts.yml")
    text = (RULES / "alerts_test.yml").read_text()
    broken = text.replace("      - eval_time: 2m\n        alertname: VerifierRouteChanged\n        exp_alerts: []\n",
                          "      - eval_time: 2m\n        alertname: VerifierRouteChanged\n        exp_alerts:\n"
                          "          - exp_labels: {severity: critical}\n", 1)
    assert broken != text
    (tmp_path / "alerts_test.yml").write_text(broken)
    done = subprocess.run([_promtool(), "test", "rules", "alerts_test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
