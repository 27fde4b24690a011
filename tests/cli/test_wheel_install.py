"""The sdist and wheel build, and the wheel works installed in a fresh venv outside the checkout.

Builds with ``python -m build`` (sdist, then the wheel from the sdist), installs the wheel with
its dependencies into a new venv in a temporary directory, and runs the installed `verifier`
from there: nothing of the checkout is on its path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import verifier

ROOT = Path(__file__).resolve().parents[2]
DIST_NAME = "mail-route-verifier"


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    return r


def _package_files() -> set[str]:
    """Every file of the package the checkout tracks or holds, except bytecode and the
    local compiled build (docs/compiled.md: built on each machine, never distributed)."""
    from verifier import _compiled

    local_build = {*_compiled.extension_modules(), _compiled.MANIFEST}
    out = set()
    for path in (ROOT / "verifier").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo") \
                and path not in local_build:
            out.add(path.relative_to(ROOT).as_posix())
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    r = _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels = list(out.glob("*.whl"))
    sdists = list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0], "dir": out}


def test_distribution_name_and_files(built) -> None:
    wheel, sdist = built["wheel"], built["sdist"]
    assert wheel.name.startswith(DIST_NAME.replace("-", "_") + "-" + verifier.__version__ + "-")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = zf.read(metadata).decode()
        entry_points = zf.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    assert f"Name: {DIST_NAME}\n" in meta
    assert "verifier = verifier.cli:main" in entry_points
    missing = _package_files() - names
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert "verifier/data/ovh-guide-sample.txt" in names
    assert not any(n.startswith(("tests/", "fixtures/", "bench/")) for n in names)
    with tarfile.open(sdist) as tf:
        top = tf.getnames()[0].split("/")[0]
        in_sdist = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert top == f"{DIST_NAME.replace('-', '_')}-{verifier.__version__}"
    missing = _package_files() - in_sdist
    assert not missing, f"the sdist lacks {sorted(missing)}"


def test_bundled_sample_is_the_fixture() -> None:
    bundled = ROOT / "verifier" / "data" / "ovh-guide-sample.txt"
    assert bundled.read_bytes() == (ROOT / "fixtures" / "headers" / "ovh-guide-sample.txt").read_bytes()


def test_installed_wheel_runs_outside_the_checkout(built, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    r = _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    r = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(built["wheel"])], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    exe = str(venv / "bin" / "verifier")
    work = tmp_path / "elsewhere"
    work.mkdir()

    # The package imported is the installed one, not the checkout.
    r = _run([str(venv / "bin" / "python"), "-c", "import verifier; print(verifier.__file__)"], cwd=work, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(venv)), r.stdout

    r = _run([exe, "--version"], cwd=work, env=env)
    assert r.returncode == 0 and r.stdout.strip() == f"verifier {verifier.__version__}", r.stdout + r.stderr

    find_sample = "import importlib.resources as r; print(r.files('verifier') / 'data' / 'ovh-guide-sample.txt')"
    r = _run([str(venv / "bin" / "python"), "-c", find_sample], cwd=work, env=env)
    sample = r.stdout.strip()
    assert sample.startswith(str(venv)) and Path(sample).is_file(), sample
    r = _run([exe, "analyze", "--smarthost", "smtp-relay.example.com", sample], cwd=work, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "VIA-CONNECTOR" in r.stdout
    r = _run([exe, "analyze", "--json", "--smarthost", "smtp-relay.example.com", sample], cwd=work, env=env)
    assert r.returncode == 0 and '"verdict": "via-connector"' in r.stdout, r.stderr

    r = _run([exe, "lab", "api", "--help"], cwd=work, env=env)
    assert r.returncode == 0 and "--listen" in r.stdout, r.stderr

    r = _run([exe, "completion", "bash"], cwd=work, env=env)
    assert r.returncode == 0 and "_shtab_verifier" in r.stdout, r.stderr
