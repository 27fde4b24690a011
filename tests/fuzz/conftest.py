"""Count the inputs the fuzz targets tried and append them to VERIFIER_FUZZ_REPORT (if set)."""

from __future__ import annotations

import json
import os


def pytest_terminal_summary(terminalreporter):
    from tests.fuzz.counts import TRIED

    if not TRIED:
        return
    total = sum(TRIED.values())
    terminalreporter.write_line(f"fuzz: {total} inputs tried ({', '.join(f'{k} {v}' for k, v in sorted(TRIED.items()))})")
    path = os.environ.get("VERIFIER_FUZZ_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"total": total, "targets": dict(TRIED)}) + "\n")
