"""The lab session fixture: one lab for the whole session, in a temporary VERIFIER_LAB_DIR.

Without root or without the Debian packages the lab tests are skipped with the
reason; under CI (``CI`` set) the same sentence fails them instead, so a missing
install can never hide behind a skip there.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from verifier.errors import LabError  # noqa: E402
from verifier.lab import system  # noqa: E402
from verifier.lab import topology as t  # noqa: E402
from verifier.lab.control import Lab  # noqa: E402
from verifier.lab.layout import Layout  # noqa: E402

TIMINGS: dict[str, float] = {}
TEST_DIR_PREFIX = "verifier-lab-test-"


def _cannot_run() -> str | None:
    try:
        system.check_can_run()
    except LabError as exc:
        return str(exc)
    if not system.netns_pids():
        return None  # nothing there, or only the network a killed lab left: `up` removes that
    other = Lab.running_root()
    if other is not None and other.name.startswith(TEST_DIR_PREFIX) and (other / "lab.json").exists():
        # A lab an earlier test session started and could not stop (the session was killed):
        # stop it by the PIDs it recorded, as `verifier lab down` would.
        Lab(Layout(other)).down()
        shutil.rmtree(other, ignore_errors=True)
        return None
    return (f"The network namespace {t.NETNS} is already in use by a running lab; "
            "stop it with `verifier lab down` to run the lab tests.")


def _not_here(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"lab tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"lab tests skipped: {reason}")


@pytest.fixture(scope="session")
def lab_dir() -> Iterator[Path]:
    reason = _cannot_run()
    if reason:
        _not_here(reason)
    # Not pytest's tmp_path: its parents are 0700, and the daemons run as their own users.
    path = Path(tempfile.mkdtemp(prefix=TEST_DIR_PREFIX))
    os.chmod(path, 0o755)
    old = os.environ.get("VERIFIER_LAB_DIR")
    os.environ["VERIFIER_LAB_DIR"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("VERIFIER_LAB_DIR", None)
        else:
            os.environ["VERIFIER_LAB_DIR"] = old
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def lab(lab_dir: Path) -> Iterator[Lab]:
    the_lab = Lab(Layout(lab_dir))
    t0 = time.monotonic()
    try:
        the_lab.up()
    except LabError as exc:
        the_lab.down()
        pytest.fail(f"lab up failed: {exc}", pytrace=False)
    TIMINGS["up"] = time.monotonic() - t0
    try:
        yield the_lab
    finally:
        t0 = time.monotonic()
        the_lab.down()
        TIMINGS["down"] = time.monotonic() - t0
        for name, value in sorted(TIMINGS.items()):
            sys.stderr.write(f"\nlab timing {name}: {value:.3f} s")


LOG_TAIL_LINES = 30
_LOGS_SHOWN = {"syslog.log": "OpenDKIM and policyd-spf (syslog)", "postfix-mx.log": "the recipient MX",
               "postfix-platform.log": "the platform", "postfix-relay.log": "the smarthost"}


def _lab_log_tails(log_dir: Path) -> str:
    """The last lines of the lab's logs: what a failed lab test needs to be understood after
    the session's lab directory is gone."""
    parts = []
    for name, what in _LOGS_SHOWN.items():
        path = log_dir / name
        if not path.exists():
            parts.append(f"--- {name} ({what}): not written")
            continue
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - 64 * 1024))
            lines = fh.read().decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]
        parts.append(f"--- {name} ({what}), last {len(lines)} lines:\n" + "\n".join(lines))
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "lab" not in getattr(item, "fixturenames", ()):
        return
    root = os.environ.get("VERIFIER_LAB_DIR")
    if root:
        report.sections.append(("lab logs", _lab_log_tails(Layout(Path(root)).log)))
