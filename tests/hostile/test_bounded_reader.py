"""Every input goes through one bounded reader: FIFOs, devices, process substitution, stdin.

The commands run in a child process with a memory ceiling and a generous timeout, so a
reader that hangs or grows without bound fails the test instead of the machine."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from verifier import inputs
from verifier.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "headers" / "arc-broken.txt"
GUARD = 120  # seconds: only a hung reader ever reaches it


def _ceiling():
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))


def _verifier(code: str, *, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=GUARD,
        preexec_fn=_ceiling,
    )


def _analyze(*args: str, fifo_wait: float | None = None, stdin=None) -> subprocess.CompletedProcess:
    setup = f"import verifier.inputs as I; I.FIFO_WAIT_SECONDS = {fifo_wait!r}; " if fifo_wait is not None else ""
    return _verifier(f"{setup}from verifier.cli import main; raise SystemExit(main(['analyze', *{list(args)!r}]))", stdin=stdin)


def _one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_refused_at_the_limit(device):
    proc = _analyze(device)
    assert proc.returncode == 3, proc.stderr
    assert _one_sentence(proc.stderr) == f"verifier: cannot read {device}: it is over the 64 MiB limit."


def test_a_process_substitution_is_refused_at_the_limit():
    proc = subprocess.run(
        ["bash", "-c", f'exec {sys.executable} -m verifier analyze <(cat /dev/zero)'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=GUARD,
        preexec_fn=_ceiling,
    )
    assert proc.returncode == 3, proc.stderr
    assert _one_sentence(proc.stderr).endswith(": it is over the 64 MiB limit.")


def test_endless_standard_input_is_refused_at_the_limit():
    with open("/dev/zero", "rb") as zero:
        proc = _analyze("--json", "-", stdin=zero)
    assert proc.returncode == 3
    assert proc.stdout.strip() == '{"input": "<stdin>", "error": "cannot read standard input: it is over the 64 MiB limit."}'


def test_a_fifo_without_writer_is_refused_after_the_wait(tmp_path):
    fifo = tmp_path / "headers.fifo"
    os.mkfifo(fifo)
    proc = _analyze(str(fifo), fifo_wait=0.5)
    assert proc.returncode == 3, proc.stderr
    assert _one_sentence(proc.stderr) == (
        f"verifier: cannot read {fifo}: it is a FIFO that no program opened for writing within 0.5 seconds."
    )


def _writer(path: Path, data: bytes, *, endless: bool = False) -> threading.Thread:
    def run():
        try:
            with open(path, "wb") as fh:  # blocks until the reader has opened the FIFO
                fh.write(data)
                while endless:
                    fh.write(data)
        except BrokenPipeError:  # the reader stopped at its limit
            pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_fifo_with_a_writer_is_analysed(tmp_path, capsys):
    fifo = tmp_path / "headers.fifo"
    os.mkfifo(fifo)
    t = _writer(fifo, FIXTURE.read_bytes())
    rc = main(["analyze", "--json", str(fifo)])
    t.join(GUARD)
    out = capsys.readouterr().out
    assert rc == 0
    assert '"verdict": "inconclusive"' in out
    assert "fwd.alumni.example" in out


def test_an_endless_fifo_is_refused_at_the_limit(tmp_path):
    fifo = tmp_path / "endless.fifo"
    os.mkfifo(fifo)
    proc = _verifier(
        "import threading, verifier.inputs as I\n"
        "I.MAX_INPUT_BYTES = 1024 * 1024\n"
        "def write():\n"
        "    try:\n"
        f"        with open({str(fifo)!r}, 'wb') as fh:\n"
        "            while True:\n"
        "                fh.write(b'Subject: x\\n' * 4096)\n"
        "    except BrokenPipeError:\n"
        "        pass\n"
        "threading.Thread(target=write, daemon=True).start()\n"
        "from verifier.cli import main\n"
        f"raise SystemExit(main(['analyze', {str(fifo)!r}]))\n"
    )
    assert proc.returncode == 3, proc.stderr
    assert _one_sentence(proc.stderr) == f"verifier: cannot read {fifo}: it is over the 1 MiB limit."


def test_a_regular_file_over_the_limit_is_refused_without_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_INPUT_BYTES", 1024 * 1024)
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024 * 1024)  # sparse: nothing to read, only a size
    assert [m.error for m in inputs.iter_messages([str(big)])] == [f"cannot read {big}: it is 3 MiB, over the 1 MiB limit"]


def test_a_file_in_a_folder_goes_through_the_same_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_INPUT_BYTES", 100)
    (tmp_path / "a.txt").write_bytes(b"Subject: small\n")
    (tmp_path / "b.txt").write_bytes(b"Subject: " + b"x" * 200 + b"\n")
    got = [(m.name, m.error) for m in inputs.iter_messages([str(tmp_path)])]
    assert got == [(str(tmp_path / "a.txt"), None), (str(tmp_path / "b.txt"), f"cannot read {tmp_path / 'b.txt'}: it is 210 bytes, over the 100 bytes limit")]
