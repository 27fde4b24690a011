"""Snapshot ``verifier analyze --json`` over every header fixture and corpus file, and
compare two snapshots byte for byte.

A refactoring of the analysis must leave the output unchanged; this is how that is
shown. Take a snapshot on the tree before the change, another after, and compare:

    .venv/bin/python bench/json_snapshot.py write /tmp/before     # on the old tree
    .venv/bin/python bench/json_snapshot.py write /tmp/after      # on the new tree
    .venv/bin/python bench/json_snapshot.py compare /tmp/before /tmp/after

``--format text`` (or ``html``) snapshots that report instead of the JSON one.

Each fixture in fixtures/headers is run with the ``args`` of its expectation file;
each corpus file (``--corpus``, default ../shared/corpus/headers or ../../shared/corpus/headers) is run twice: with
no option, and with ``--smarthost`` naming a provider so that the smarthost rules are
exercised too. The exit code is kept with the output. ``compare`` prints every name
that differs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
FIXTURES = os.path.join(ROOT, "fixtures", "headers")
# The shared corpus sits beside the repository (or beside the directory of worktrees).
_CANDIDATES = [os.path.normpath(os.path.join(ROOT, *[".."] * up, "shared", "corpus", "headers")) for up in (1, 2)]
DEFAULT_CORPUS = next((c for c in _CANDIDATES if os.path.isdir(c)), _CANDIDATES[0])
SMARTHOST_ARGS = ["--smarthost", "*.mailjet.com,*.sendgrid.net,*.amazonses.com,*.google.com,*.outlook.com"]


def cases(corpus: str) -> list[tuple[str, list[str], str]]:
    out = []
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".json") or name.startswith(".") or not name.endswith((".txt", ".eml")):
            continue
        stem = name.rsplit(".", 1)[0]
        args: list[str] = []
        exp = os.path.join(FIXTURES, stem + ".expected.json")
        if os.path.exists(exp):
            with open(exp, encoding="utf-8") as fh:
                spec = json.load(fh)
            first = spec[0] if isinstance(spec, list) and spec else spec
            if isinstance(first, dict):
                args = list(first.get("args", []))
        out.append((f"fixture-{stem}", args, os.path.join(FIXTURES, name)))
    if os.path.isdir(corpus):
        for name in sorted(os.listdir(corpus)):
            if name.endswith(".hdr"):
                path = os.path.join(corpus, name)
                out.append((f"corpus-{name}", [], path))
                out.append((f"corpus-smarthost-{name}", SMARTHOST_ARGS, path))
    return out


# What each output format adds to ``verifier analyze``.
FORMATS = {"json": ["--json"], "text": ["--color", "never"], "html": ["--html"]}


def run_one(args: list[str], path: str, fmt: str = "json") -> str:
    from verifier.cli import main

    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        rc = main(["analyze", *FORMATS[fmt], *args, path])
    return f"exit {rc}\n{buf.getvalue()}"


def write(target: str, corpus: str, fmt: str = "json") -> int:
    os.makedirs(target, exist_ok=True)
    n = 0
    for name, args, path in cases(corpus):
        with open(os.path.join(target, name + ".out"), "w", encoding="utf-8") as fh:
            fh.write(run_one(args, path, fmt))
        n += 1
    print(f"{n} outputs written to {target}")
    return 0


def compare(a: str, b: str) -> int:
    names = sorted(set(os.listdir(a)) | set(os.listdir(b)))
    differ = []
    for name in names:
        pa, pb = os.path.join(a, name), os.path.join(b, name)
        if not (os.path.exists(pa) and os.path.exists(pb)):
            differ.append(f"{name}: only in {'the first' if os.path.exists(pa) else 'the second'}")
            continue
        with open(pa, "rb") as fa, open(pb, "rb") as fb:
            if fa.read() != fb.read():
                differ.append(f"{name}: differs")
    for line in differ:
        print(line)
    print(f"{len(names)} outputs compared, {len(differ)} differ")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("target")
    w.add_argument("--corpus", default=DEFAULT_CORPUS)
    w.add_argument("--format", choices=sorted(FORMATS), default="json", help="the report to snapshot (default json)")
    c = sub.add_parser("compare")
    c.add_argument("first")
    c.add_argument("second")
    args = ap.parse_args(argv)
    if args.cmd == "write":
        return write(args.target, args.corpus, args.format)
    return compare(args.first, args.second)


if __name__ == "__main__":
    sys.exit(main())
