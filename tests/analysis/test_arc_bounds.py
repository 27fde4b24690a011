"""ARC instance numbers are read from the header: they are checked against RFC 8617's
range (1 to 50) and never drive a loop or an allocation.

The hostile cases run in a child process under a memory limit and a time limit, so a
version of the engine that loops up to the header's own number fails the test instead
of exhausting the machine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

from verifier.analysis.engine import analyze_bytes

MEMORY_LIMIT = 1 << 30  # 1 GiB of address space for the child
TIME_LIMIT = 60  # seconds; the analysis itself takes milliseconds

CHILD = r"""
import json, sys
from verifier.analysis.engine import analyze_bytes
a = analyze_bytes(sys.stdin.buffer.read())
print(json.dumps([[f.code, f.message] for f in a.findings]))
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _analyse_in_child(data: bytes) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=data,
        capture_output=True,
        timeout=TIME_LIMIT,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return {code: message for code, message in json.loads(proc.stdout)}


RECEIVED = b"Received: from mx.a.example (mx.a.example [203.0.113.1]) by mx.b.example with ESMTPS id 2; Fri, 27 Nov 2026 20:00:01 +0000\nFrom: x@a.example\n"


@pytest.mark.parametrize(
    "seal",
    [
        b"ARC-Seal: i=99999999999999; cv=none\n",
        b"ARC-Seal: i=" + b"9" * 5000 + b"; cv=none\n",
        b"ARC-Seal: i=51; cv=none\n",
        b"ARC-Seal: i=0; cv=none\n",
        b"ARC-Seal: i=-3; cv=none\n",
        "ARC-Seal: i=\u00b2; cv=none\n".encode(),
        b"ARC-Message-Signature: i=4000000000; d=a.example; s=s; b=x\n",
    ],
    ids=["huge", "5000-digits", "51", "zero", "negative", "superscript-digit", "ams-huge"],
)
def test_out_of_range_instance_is_a_finding_not_work(seal: bytes) -> None:
    findings = _analyse_in_child(seal + RECEIVED)
    assert "arc.broken" in findings
    assert "outside" in findings["arc.broken"] or "valid instance" in findings["arc.broken"]


def test_instance_fifty_is_in_range_and_its_gaps_are_named() -> None:
    a = analyze_bytes(b"ARC-Seal: i=50; cv=pass\n" + RECEIVED)
    broken = next(f for f in a.findings if f.code == "arc.broken")
    assert "outside" not in broken.message
    assert "no ARC set for i=1" in broken.message
    chain = next(f for f in a.findings if f.code == "arc.chain")
    assert "50 instance(s)" in chain.message


def test_valid_instances_beside_a_hostile_one_are_still_checked() -> None:
    data = (
        b"ARC-Seal: i=1; cv=none; d=a.example; s=s; b=x\n"
        b"ARC-Message-Signature: i=1; d=a.example; s=s; h=from; bh=x; b=x\n"
        b"ARC-Authentication-Results: i=1; mx.a.example; spf=pass smtp.mailfrom=a.example\n"
        b"ARC-Seal: i=99999999999999; cv=pass\n" + RECEIVED
    )
    findings = _analyse_in_child(data)
    assert "outside" in findings["arc.broken"] and "99999999999999" in findings["arc.broken"]
    assert "1 instance(s)" in findings["arc.chain"] and "cv=none" in findings["arc.chain"]
