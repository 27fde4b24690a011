"""Peak memory of `verifier analyze` against input size, with the stdlib parser as baseline.

Run from the repository root:

    .venv/bin/python bench/bench_memory.py                 # 1, 4, 16 and 60 MiB
    .venv/bin/python bench/bench_memory.py --sizes 1,4     # MiB, comma-separated

Every measurement runs in a child process of its own, which reports its peak resident
set size (``VmHWM`` of /proc/self/status, reset by exec) as it exits. The child of the baseline row
does the same work on one small real header block (a few KB); the ratio is the peak above that baseline,
divided by the input size. Three shapes of input are measured:

- ``real``: a real-looking header block (Received, Authentication-Results, ARC and DKIM
  fields of the fixtures) repeated to the size;
- ``long``: a few fields and one value as long as the input;
- ``tiny``: nothing but very short fields (``X-1: v``), the most fields per byte.

The commands measured: ``verifier analyze --json FILE`` and ``verifier analyze FILE``
(text report), each in the same child as the CLI would run them; and, in the same run,
the stdlib: ``email.parser.BytesParser(policy=email.policy.default)`` with
``headersonly=True`` reading the same bytes and every header value (``msg.items()``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
STDLIB_MAX_BYTES = 16 * MIB  # the stdlib baseline takes 100-350 times its input: not above this

# Each child reports its own high-water mark (VmHWM in /proc/self/status, reset by exec)
# as it exits, to the file named by its first argument.
HWM = (
    "import atexit, sys\n"
    "report = sys.argv.pop(1)\n"
    "def hwm():\n"
    "    with open('/proc/self/status') as fh:\n"
    "        kib = next(line.split()[1] for line in fh if line.startswith('VmHWM:'))\n"
    "    with open(report, 'w') as out:\n"
    "        out.write(kib)\n"
    "atexit.register(hwm)\n"
)
VERIFIER = HWM + "from verifier.cli import main\nraise SystemExit(main(['analyze', *sys.argv[1:]]))\n"
STDLIB = HWM + (
    "import email.parser, email.policy\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(data, headersonly=True)\n"
    "n = sum(len(str(v)) for _, v in msg.items())\n"
)


def _real_block() -> bytes:
    parts = []
    for name in ("arc-forwarded-complete.txt", "brevo-style-connector.txt", "ovh-bypassed-hosted.txt"):
        p = ROOT / "fixtures" / "headers" / name
        if p.exists():
            parts.append(p.read_bytes().split(b"\n\n")[0].rstrip(b"\n") + b"\n")
    return b"".join(parts)


def make_input(shape: str, size: int) -> bytes:
    if shape == "real":
        block = _real_block()
        data = block * (size // len(block) + 1)
    elif shape == "long":
        head = b"Received: from a.example by b.example; Mon, 2 Jun 2025 10:00:00 +0000\nSubject: "
        return head + b"x" * (size - len(head) - 1) + b"\n"
    elif shape == "tiny":
        data = b"".join(b"X-%d: v\n" % i for i in range(size // 6 + 1))
    else:
        raise ValueError(shape)
    data = data[:size]
    return data[: data.rfind(b"\n") + 1] if b"\n" in data else data


def peak_kib(code: str, *args: str) -> tuple[int, int]:
    """Run ``code`` in a child; return its peak RSS (KiB) and exit status."""
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(
            [sys.executable, "-c", code, report.name, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return int(report.read() or 0), proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,4,16,60", help="input sizes in MiB (default 1,4,16,60)")
    ap.add_argument("--shapes", default="real,long,tiny")
    ns = ap.parse_args()
    sizes = [float(s) for s in ns.sizes.split(",")]
    shapes = ns.shapes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.txt"
        one.write_bytes(_real_block())  # a few KB: the interpreter, the imports, the patterns
        base = {
            "json": peak_kib(VERIFIER, "--json", str(one))[0],
            "text": peak_kib(VERIFIER, str(one))[0],
            "stdlib": peak_kib(STDLIB, str(one))[0],
        }
        print("baseline peak RSS on one small real header block: " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in base.items()))
        print()
        print(f"{'shape':6} {'input':>9} {'fields':>9}  {'--json':>20}  {'text':>20}  {'stdlib email':>20}  {'json/stdlib':>11}")
        for shape in shapes:
            for mib in sizes:
                data = make_input(shape, int(mib * MIB))
                path = Path(tmp) / f"{shape}-{mib}.txt"
                path.write_bytes(data)
                fields = sum(1 for line in data.split(b"\n") if line[:1] not in (b" ", b"\t", b""))
                row = {}
                for key, code, args in (
                    ("json", VERIFIER, ("--json", str(path))),
                    ("text", VERIFIER, (str(path),)),
                    ("stdlib", STDLIB, (str(path),)),
                ):
                    if key == "stdlib" and len(data) > STDLIB_MAX_BYTES:
                        row[key] = (0, float("nan"), "-")  # it would need several GB
                        continue
                    kib, rc = peak_kib(code, *args)
                    ratio = (kib - base[key]) * 1024 / len(data)
                    row[key] = (kib, ratio, rc)
                cells = [f"{kib / 1024:7.0f} MiB {ratio:5.1f}x rc{rc}" for kib, ratio, rc in row.values()]
                rel = row["json"][1] / row["stdlib"][1] if row["stdlib"][1] > 0 else float("nan")  # nan > 0 is False
                print(f"{shape:6} {len(data) / MIB:6.1f} MiB {fields:9d}  {cells[0]:>20}  {cells[1]:>20}  {cells[2]:>20}  {rel:10.2f}x", flush=True)
                path.unlink()
    print()
    print("ratio: (peak RSS - baseline peak RSS) / input size; rc: the command's exit status")
    print("(3 = refused with one sentence, as over a limit). json/stdlib: the two ratios compared.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
