"""Memory stays bounded: a header block with too many fields is refused, and the JSON
report of a large block is written without holding the whole document as one string.

Peak memory is read in child processes (``ru_maxrss`` from ``os.wait4``); the bound is a
ratio against the same command on a small input, not a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from verifier.cli import main
from verifier.parsers.paste import MAX_FIELDS, normalise

ROOT = Path(__file__).resolve().parents[2]
# The child reports its own high-water mark (VmHWM, reset by exec) as it exits: the rusage
# maximum would also count the pages of the parent at fork time.
CODE = (
    "import atexit, sys\n"
    "report = sys.argv.pop(1)\n"
    "def hwm():\n"
    "    with open('/proc/self/status') as fh:\n"
    "        kib = next(line.split()[1] for line in fh if line.startswith('VmHWM:'))\n"
    "    with open(report, 'w') as out:\n"
    "        out.write(kib)\n"
    "atexit.register(hwm)\n"
    "from verifier.cli import main\n"
    "raise SystemExit(main(['analyze', *sys.argv[1:]]))\n"
)


def _real_block() -> bytes:
    names = ("arc-forwarded-complete.txt", "brevo-style-connector.txt", "ovh-bypassed-hosted.txt")
    return b"".join((ROOT / "fixtures" / "headers" / n).read_bytes().split(b"\n\n")[0].rstrip(b"\n") + b"\n" for n in names)


def _peak_kib(tmp_path: Path, *args: str) -> int:
    report = tmp_path / "hwm"
    proc = subprocess.run([sys.executable, "-c", CODE, str(report), *args], cwd=ROOT, stdout=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0
    return int(report.read_text())


def test_json_report_of_a_large_block_stays_under_sixteen_times_its_size(tmp_path):
    block = _real_block()
    small = tmp_path / "small.txt"
    small.write_bytes(block)
    big = tmp_path / "big.txt"
    big.write_bytes(block * (1024 * 1024 // len(block)))  # about 1 MiB, under MAX_FIELDS
    assert len(normalise(big.read_bytes()).fields) > 5000
    extra = (_peak_kib(tmp_path, "--json", str(big)) - _peak_kib(tmp_path, "--json", str(small))) * 1024
    assert extra < 16 * big.stat().st_size, extra / big.stat().st_size


def test_a_block_with_too_many_fields_is_refused_with_one_sentence(tmp_path, capsys):
    path = tmp_path / "many.txt"
    path.write_bytes(b"".join(b"X-%d: v\n" % i for i in range(MAX_FIELDS + 1)))
    assert main(["analyze", str(path)]) == 3
    err = capsys.readouterr().err
    assert err == f"verifier: {path}: it holds more than {MAX_FIELDS} header fields, far more than a real message; it was not read.\n"


def test_a_block_at_the_field_limit_is_read():
    block = normalise(b"".join(b"X-%d: v\n" % i for i in range(MAX_FIELDS)))
    assert len(block.fields) == MAX_FIELDS


def test_too_many_fields_is_found_whatever_the_line_ends():
    for eol in (b"\n", b"\r\n", b"\r"):
        block = normalise(b"".join(b"X-%d: v" % i + eol for i in range(MAX_FIELDS + 1)))
        assert block.fields == ()
        assert "input.too-many-fields" in [d.code for d in block.defects], eol
