"""README's command table names only commands and actions the parser has."""

from __future__ import annotations

import re
from pathlib import Path

from verifier.cli import build_parser, walk_parsers

ROOT = Path(__file__).resolve().parents[2]


def test_readme_command_table_matches_the_parser() -> None:
    known = {path for path, _p in walk_parsers(build_parser())}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("| job | command | status |")
    rows = []
    for line in readme[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert rows
    checked = 0
    for row in rows:
        _job, command, status = (c.strip() for c in row.strip("|").split("|")[:3])
        if "not built" in status:
            continue
        for group, actions in re.findall(r"`verifier ([a-z-]+)(?: ([a-z][a-z/-]*))?", command):
            assert (group,) in known, group
            checked += 1
            for action in filter(None, actions.split("/")):
                assert (group, action) in known, (group, action)
                checked += 1
    assert checked >= 8


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = {path[0] for path, _p in walk_parsers(build_parser()) if len(path) == 1}
    assert {"connector", "account", "domain", "service", "completion", "lab"} <= commands
    for name in commands:
        assert f"`verifier {name}" in readme, name
