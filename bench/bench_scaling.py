"""How parse_headers scales with input size, against the stdlib header parser.

Run from the repository root:

    .venv/bin/python bench/bench_scaling.py            # full run
    .venv/bin/python bench/bench_scaling.py --quick    # fewer repetitions

For each series of synthetic inputs of growing size it prints the best time of a
few runs, the time per unit of size normalised to the smallest input (1.00 all the
way down means linear growth; quadratic growth doubles it at each doubling), and
the same two figures for ``email.parser.BytesHeaderParser(policy=compat32)`` on the
same bytes, measured in the same run, as a baseline.
"""

from __future__ import annotations

import argparse
import email.policy
import gc
import sys
import time
from collections.abc import Callable
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verifier.parsers import parse_headers  # noqa: E402

DATE = "Mon, 1 Jan 2024 10:00:00 +0000"
# A mix of Received forms (written for this benchmark, documentation addresses).
RECEIVED_FORMS = [
    "from mx{i}.sender.example (mx{i}.sender.example [192.0.2.{o}]) by mx.rcpt.example (Postfix) "
    "with ESMTPS id 4AbC{i} for <a@rcpt.example>; " + DATE,
    "from host{i}.isp.example ([198.51.100.{o}]:5{o} helo=pc{i}.local) by relay.rcpt.example "
    "with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <b@sender.example>) "
    "id 1qAb-{i}-Xy for c@rcpt.example; " + DATE,
    "from unknown (HELO out{i}.sender.example) (203.0.113.{o}) by mx.rcpt.example with SMTP; "
    + DATE,
    "from DB9PR01MB{i}.eurprd01.prod.exchangelabs.com (2603:10a6:10:1a2::{o:x}) by "
    "AM0PR02MB5678.eurprd02.prod.exchangelabs.com (2603:10a6:208:3b::20) with Microsoft SMTP Server "
    "(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6565.21 via Frontend "
    "Transport; " + DATE,
    "by 2002:a05:6a10:9b0c:b0:4b1:2a3c:{o:x} with SMTP id ab{i}csp123456pxb; " + DATE,
]
OTHER_FIELDS = (
    "Authentication-Results: mx.rcpt.example; spf=pass (sender IP is 192.0.2.1) "
    "smtp.mailfrom=sender.example; dkim=pass header.d=sender.example header.s=s1; "
    "dmarc=pass header.from=sender.example\n"
    "Received-SPF: pass (mx.rcpt.example: domain of b@sender.example designates 192.0.2.1 as "
    "permitted sender) client-ip=192.0.2.1; envelope-from=b@sender.example; helo=mx.sender.example;\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=s1;\n"
    "\th=from:to:subject:date; bh=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg=;\n"
    "\tb=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=\n"
    "From: Sender <b@sender.example>\n"
    "Subject: a subject line\n"
    "X-Filler: " + "z" * 400 + "\n"
)


def received_lines(count: int) -> bytes:
    out = []
    for i in range(count):
        form = RECEIVED_FORMS[i % len(RECEIVED_FORMS)]
        out.append("Received: " + form.format(i=i, o=i % 250 + 1) + "\n")
    return "".join(out).encode()


def block_of_size(target: int) -> bytes:
    unit = received_lines(5) + OTHER_FIELDS.encode()
    reps = max(1, target // len(unit))
    return unit * reps


def parens(count: int) -> bytes:
    return (
        "Received: from a.example " + "(" * count + " by b.example with SMTP; " + DATE + "\n"
    ).encode()


def long_token(count: int) -> bytes:
    return (
        "Received: from " + "a" * count + " ([192.0.2.1]) by b.example; " + DATE + "\n"
    ).encode()


def name_like_line(count: int) -> bytes:
    """A line of name characters without a colon under a field: not a field, not a fold."""
    return ("Subject: x\n" + "a" * count + "\nTo: y\n").encode()


def best_time(fn: Callable[[bytes], object], data: bytes, repeat: int) -> float:
    """Best wall time of ``repeat`` calls, with the garbage collector paused while timing."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn(data)
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best


def run_series(
    title: str, unit: str, sizes: list[int], make: Callable[[int], bytes], repeat: int
) -> None:
    stdlib = BytesHeaderParser(policy=email.policy.compat32)
    print(f"\n{title}")
    print(
        f"{unit:>12} {'bytes':>10} {'verifier s':>11} {'per-size':>9} "
        f"{'stdlib s':>10} {'per-size':>9} {'verifier/stdlib':>16}"
    )
    base_ours = base_std = None
    for size in sizes:
        data = make(size)
        ours = best_time(parse_headers, data, repeat)
        std = best_time(stdlib.parsebytes, data, repeat)
        per_ours, per_std = ours / size, std / size
        if base_ours is None:
            base_ours, base_std = per_ours, per_std
        print(
            f"{size:>12,} {len(data):>10,} {ours:>11.4f} {per_ours / base_ours:>9.2f} "
            f"{std:>10.4f} {per_std / base_std:>9.2f} {ours / std:>16.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="one repetition per input instead of three"
    )
    args = ap.parse_args(argv)
    repeat = 1 if args.quick else 5
    parse_headers(block_of_size(10_000))  # warm up: imports and regex compilation happen once
    print(
        f"Python {sys.version.split()[0]}; best of {repeat}; 'per-size' = (time/size) / (time/size of the first row)"
    )
    run_series(
        "Received lines", "Received", [1000, 2000, 4000, 8000, 10000], received_lines, repeat
    )
    run_series(
        "Header block size",
        "target B",
        [125_000, 250_000, 500_000, 1_000_000],
        block_of_size,
        repeat,
    )
    run_series(
        "Unmatched '(' in one Received",
        "'(' count",
        [6_250, 12_500, 25_000, 50_000],
        parens,
        repeat,
    )
    run_series("One long token", "chars", [6_250, 12_500, 25_000, 50_000], long_token, repeat)
    run_series(
        "A long line of name characters", "chars", [125_000, 250_000, 500_000, 1_000_000], name_like_line, repeat
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
