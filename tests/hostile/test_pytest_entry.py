"""Plain `pytest` from the repository root imports the `tests` package like `python -m pytest`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_plain_pytest_imports_the_tests_package(tmp_path):
    pytest_exe = Path(sys.executable).with_name("pytest")
    assert pytest_exe.exists(), f"{pytest_exe} is installed with the test extras"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    # tests/parsers/test_paste.py does `from tests.parsers import samples`
    proc = subprocess.run(
        [str(pytest_exe), "--collect-only", "-q", "-p", "no:cacheprovider", "tests/parsers/test_paste.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ModuleNotFoundError" not in proc.stdout + proc.stderr
    assert "test_paste.py::" in proc.stdout
