"""A local history of probe runs (JSON Lines), to say when a route changed.

One line per run: when, the profile, and each leg's verdict and expectation.
The file is only appended to; a damaged line is skipped, never fatal.
"""

from __future__ import annotations

import json
import os

from verifier.errors import ConfigError


def last_entry(path: str, profile: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"Cannot read the probe history {path}: {exc.strerror or exc}.") from None
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("profile") == profile:
            return entry
    return None


def entry_for(result_json: dict) -> dict:
    return {
        "profile": result_json["profile"],
        "started": result_json["started"],
        "ok": result_json["ok"],
        "legs": {leg["role"]: {"verdict": leg["verdict"], "expected": leg["expected"]} for leg in result_json["legs"]},
    }


def changes(previous: dict | None, current: dict) -> list[dict]:
    """Each leg whose verdict differs from the previous run's."""
    if not previous:
        return []
    out = []
    for role, now in current["legs"].items():
        before = previous.get("legs", {}).get(role)
        if before and before.get("verdict") != now["verdict"]:
            out.append({"role": role, "before": before.get("verdict"), "after": now["verdict"], "since": previous.get("started")})
    return out


def append(path: str, entry: dict) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, separators=(",", ":")) + "\n")
    except OSError as exc:
        raise ConfigError(f"Cannot write the probe history {path}: {exc.strerror or exc}.") from None
