"""The compiled build (mypyc, docs/compiled.md) and the pure-Python build are the same program.

`scripts/setup.sh` builds the compiled modules when it can, and the whole test suite then
runs on them; this file proves that the pure-Python modules, the same sources
interpreted, give byte-identical reports (JSON, text and HTML) on every fixture and every
corpus block, and that a stale build is never used. Under CI the compiled build must be
in use (a missing compiler is installed by setup, not skipped).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import verifier
from verifier import _compiled

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "bench" / "json_snapshot.py"


def _needs_compiled() -> None:
    if _compiled.build == "compiled":
        return
    reason = f"the compiled build is not in use (build: {_compiled.build}); scripts/build_compiled.py makes it"
    if os.environ.get("CI"):
        pytest.fail(f"under CI {reason}", pytrace=False)
    pytest.skip(reason)


def _snapshot(target: Path, fmt: str, pure: bool) -> None:
    env = dict(os.environ)
    env.pop("VERIFIER_PURE_PYTHON", None)
    if pure:
        env["VERIFIER_PURE_PYTHON"] = "1"
    done = subprocess.run([sys.executable, str(SNAPSHOT), "write", str(target), "--format", fmt],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not using the compiled modules" not in done.stderr, done.stderr


def test_under_ci_the_compiled_build_is_in_use() -> None:
    if not os.environ.get("CI"):
        pytest.skip("not under CI: the compiled build is optional on a user's machine")
    assert _compiled.build == "compiled", _compiled.build


@pytest.mark.parametrize("fmt", ["json", "text", "html"])
def test_compiled_and_pure_builds_write_identical_reports(tmp_path: Path, fmt: str) -> None:
    _needs_compiled()
    _snapshot(tmp_path / "pure", fmt, pure=True)
    _snapshot(tmp_path / "compiled", fmt, pure=False)
    pure = {p.name: p.read_bytes() for p in (tmp_path / "pure").iterdir()}
    compiled = {p.name: p.read_bytes() for p in (tmp_path / "compiled").iterdir()}
    assert len(pure) >= 50 and pure.keys() == compiled.keys()
    differ = sorted(name for name in pure if pure[name] != compiled[name])
    assert differ == [], differ[:10]


def test_each_build_is_the_one_it_says(tmp_path: Path) -> None:
    _needs_compiled()
    code = ("import verifier, verifier.parsers.paste as p, verifier.analysis.engine as e; "
            "print(verifier._compiled.build, p.__file__.endswith('.py'), e.__file__.endswith('.py'))")
    env = {k: v for k, v in os.environ.items() if k != "VERIFIER_PURE_PYTHON"}
    compiled = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    pure = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**env, "VERIFIER_PURE_PYTHON": "1"})
    assert compiled.stdout.split() == ["compiled", "False", "False"], compiled.stdout + compiled.stderr
    assert pure.stdout.split() == ["pure-requested", "True", "True"], pure.stdout + pure.stderr


def test_a_source_changed_after_the_build_is_read_from_its_source(tmp_path: Path) -> None:
    """An edit (or a mutation-testing copy) must never be shadowed by the old build of it:
    a copy of the package whose sources differ from the manifest runs as pure Python and
    says so in one line."""
    _needs_compiled()
    import shutil

    copy = tmp_path / "verifier"
    shutil.copytree(Path(verifier.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    paste = copy / "parsers" / "paste.py"
    paste.write_text(paste.read_text() + "\nEDITED_AFTER_THE_BUILD = True\n")
    code = ("import verifier, verifier.parsers.paste as p; "
            "print(verifier._compiled.build, getattr(p, 'EDITED_AFTER_THE_BUILD', False))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**{k: v for k, v in os.environ.items() if k != "VERIFIER_PURE_PYTHON"},
                               "PYTHONPATH": str(tmp_path)})
    assert done.stdout.split() == ["pure-stale", "True"], done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "a source changed since it was built" in done.stderr, done.stderr
