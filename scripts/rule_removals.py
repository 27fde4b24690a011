"""Remove each verdict rule and each border-evidence rule in turn, and show that the
tests notice.

Each removal is a textual edit of one rule in a copy of the ``verifier`` package; the
analysis and fixture tests then run in that copy (the working tree is never touched),
and a check inside the test run makes sure the copy is the package the tests import. A removal the tests do not notice is a rule nothing guards: the script
prints it and exits 1.

    .venv/bin/python scripts/rule_removals.py            # every removal
    .venv/bin/python scripts/rule_removals.py V1b B2a    # some of them
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TESTS = ["tests/test_fixtures.py", "tests/analysis", "--ignore=tests/analysis/test_paste_page.py"]
# What the copy holds: the package, the tests and what they read.
COPIED = ["verifier", "tests", "fixtures", "pyproject.toml", "README.md", "ARCHITECTURE.md", "docs"]

# name -> (what the rule says, file under verifier/analysis, text of the rule, text without it)
REMOVALS: dict[str, tuple[str, str, str, str]] = {
    "V0": ("no border -> inconclusive", "verdict.py",
           "        return VERDICT_INCONCLUSIVE\n\n    who = sender_text(b)",
           "        return VERDICT_BYPASSED\n\n    who = sender_text(b)"),
    "V1a": ("the border's sender is a platform server -> bypassed", "verdict.py",
            "if b.sender_zone == ZONE_PLATFORM or first_pf is not None:", "if first_pf is not None:"),
    "V1b": ("the platform handled the message again after the smarthost -> bypassed", "verdict.py",
            "if b.sender_zone == ZONE_PLATFORM or first_pf is not None:", "if b.sender_zone == ZONE_PLATFORM:"),
    "V2": ("no smarthost given -> inconclusive", "verdict.py",
           "    if not smarthost:\n        return VERDICT_INCONCLUSIVE\n", ""),
    "V3": ("the border's sender belongs to the smarthost -> via-connector", "verdict.py",
           "    if b.sender_zone == ZONE_SMARTHOST:\n        return VERDICT_VIA_CONNECTOR\n", ""),
    "V4": ("a smarthost hop on the sending side, nothing from the platform after it -> via-connector", "verdict.py",
           "    if sm_idx:\n        return VERDICT_VIA_CONNECTOR\n", ""),
    "V5": ("anything else -> inconclusive", "verdict.py",
           "        return VERDICT_VIA_CONNECTOR\n    return VERDICT_INCONCLUSIVE\n",
           "        return VERDICT_VIA_CONNECTOR\n    return VERDICT_VIA_CONNECTOR\n"),
    "B1": ("a trusted authserv-id locates the border", "border.py",
           "    if trusted_ids:\n", "    if False:\n"),
    "B1b": ("a trusted authserv-id naming no hop: the first Received below it", "border.py",
            "i = below[0] if below else None", "i = None"),
    "B2a": ("a Received-SPF client-ip locates the border", "border.py",
            'if s.source == "received-spf" and s.client_ip:', "if False:"),
    "B2b": ("an authserv-id equal to a hop's receiving host locates the border", "border.py",
            '        if i is not None:\n            evidence.append((ar.header_index, i, f"Authentication-Results authserv-id',
            '        if False:\n            evidence.append((ar.header_index, i, f"Authentication-Results authserv-id'),
    "B2c": ("an authserv-id naming the receiving hosts' domain", "border.py",
            "        if hit is None:  # an authserv-id", "        if False:  # an authserv-id"),
    "B2d": ("a client address recorded in Authentication-Results locates the border", "border.py",
            "for ip in ar_client_ips(ar, spf):", "for ip in []:"),
    "B2e": ("the topmost piece of evidence wins", "border.py",
            "        evidence.sort()\n", "        evidence.sort(reverse=True)\n"),
    "B2f": ("an SPF address naming the authserv-id server's client is preferred", "border.py",
            "        if not is_spf:\n            # An authserv-id", "        if False:\n            # An authserv-id"),
    "B2g": ("each piece of evidence points at the hop nearest to it", "border.py",
            "    return min(candidates, key=lambda i: (abs(rcv[i].header_index - header_index), i))",
            "    return candidates[-1]"),
    "B3": ("the topmost external address is only a guess, never proof", "../analysis/engine.py",
           "if found is not None and not found.strong:", "if False:"),
    "B4": ("the border moves down through the recipient's internal hand-offs", "border.py",
           "        if not (_local_handoff(r) and below_by):", "        if True:"),
    "B4b": ("a server re-injecting the message into itself is descended through", "border.py",
            "        if r.from_ip and below_by.rstrip", "        if False and below_by.rstrip"),
    "B5": ("a border found by SPF needs no descent", "border.py",
           "        if is_spf:\n            # SPF names", "        if False:\n            # SPF names"),
}


# Removals that cannot change any result, with the reason; reported, not counted as missed.
EQUIVALENT = {
    "V2": "without a smarthost no hop or border sender can be in the smarthost zone, so the "
    "two via-connector rules below it cannot fire and the last rule gives inconclusive anyway; "
    "the rule states the reason early and keeps the verdict independent of rule order",
}


def run(name: str) -> bool:
    """True when the tests fail with the rule removed (the rule is guarded)."""
    what, rel, old, new = REMOVALS[name]
    with tempfile.TemporaryDirectory(prefix="rule-removal-") as tmp:
        # The tests run from the copy too: pytest puts its rootdir on sys.path
        # (``pythonpath`` in pyproject.toml), which must be the copy, not this tree.
        for part in COPIED:
            src, dst = os.path.join(ROOT, part), os.path.join(tmp, part)
            if os.path.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            elif os.path.exists(src):
                shutil.copy2(src, dst)
        path = os.path.normpath(os.path.join(tmp, "verifier", "analysis", rel))
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if text.count(old) != 1:
            raise SystemExit(f"{name}: the rule's text is not found exactly once in {rel}; update REMOVALS")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text.replace(old, new))
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        # The same pytest, on one test that fails unless the copy is what it imports.
        probe = os.path.join(tmp, "tests", "test_copy_probe.py")
        with open(probe, "w", encoding="utf-8") as fh:
            fh.write("import os\nimport verifier\n\n\ndef test_copy():\n"
                     "    assert verifier.__file__.startswith(os.environ['RULE_REMOVAL_COPY']), verifier.__file__\n")
        env["RULE_REMOVAL_COPY"] = os.path.realpath(tmp)
        check = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_copy_probe.py"],
                               cwd=tmp, env=env, capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise SystemExit(f"{name}: the tests would not import the copy:\n{check.stdout[-2000:]}")
        os.remove(probe)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
            cwd=tmp, env=env, capture_output=True, text=True, check=False,
        )
    caught = proc.returncode != 0
    first = next((line for line in proc.stdout.splitlines() if line.startswith("FAILED")), "")
    print(f"{name:4} {'caught' if caught else 'NOT CAUGHT'}  {what}" + (f"\n       {first[:160]}" if first else ""), flush=True)
    return caught


def main(argv: list[str]) -> int:
    names = argv or list(REMOVALS)
    missed = [n for n in names if not run(n) and n not in EQUIVALENT]
    for n in names:
        if n in EQUIVALENT:
            print(f"{n}: equivalent: {EQUIVALENT[n]}")
    print(f"{len(names) - len(missed)} of {len(names)} removals caught or equivalent; missed: {' '.join(missed) or 'none'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
