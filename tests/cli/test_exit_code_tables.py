"""The exit codes in every --help, in README.md and in docs/platform.md are the code's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import verifier.errors as errors
from verifier.cli import build_parser, walk_parsers
from verifier.errors import EXIT_CODE_MEANINGS, ExitCode, exit_code_meaning

ROOT = Path(__file__).resolve().parents[2]


def _parsers():
    return list(walk_parsers(build_parser()))


def _exit_section(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("exit codes"))
    out = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        out.append(line)
    return out


@pytest.mark.parametrize("path, parser", _parsers(), ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_every_help_lists_its_exit_codes(path, parser) -> None:
    text = parser.format_help()
    assert "exit codes" in text, path
    section = _exit_section(text)
    assert section, path
    valid = {int(c) for c in ExitCode}
    if not getattr(parser, "exit_codes_generated", False):
        # The command wrote its own section, with its own wording (analyze, probe): every
        # code it names must still be one of the code's.
        for line in section:
            m = re.match(r"\s+(\d+)[\s/]", line)
            if m:
                assert int(m.group(1)) in valid, (path, line)
        return
    declared = parser._defaults.get("exit_codes") or tuple(ExitCode)
    listed = []
    for line in section:
        m = re.fullmatch(r"  (\d+)\s+(.+)", line)
        assert m, (path, line)
        code = int(m.group(1))
        assert code in valid, (path, line)
        assert m.group(2) == exit_code_meaning(code).replace("`", ""), (path, line)
        listed.append(code)
    assert listed == sorted({int(c) for c in declared})


def test_own_sections_are_only_where_commands_wrote_them() -> None:
    own = {path for path, p in _parsers() if not getattr(p, "exit_codes_generated", False)}
    assert ("analyze",) in own and ("probe",) in own
    assert not any(path and path[0] in ("connector", "account", "domain", "service", "lab", "completion")
                   for path in own)


def test_api_commands_declare_what_they_can_end_with() -> None:
    by_path = {" ".join(path): p for path, p in _parsers()}
    for name in ("connector create", "connector update", "connector delete", "connector change-auth",
                 "account attach", "account detach"):
        assert ExitCode.TASK in by_path[name]._defaults["exit_codes"], name
    assert ExitCode.CHECK_FAILED in by_path["connector test"]._defaults["exit_codes"]
    for name in ("connector create", "connector change-auth", "connector test"):
        assert ExitCode.INPUT in by_path[name]._defaults["exit_codes"], name  # password files
    assert ExitCode.LAB in by_path["lab status"]._defaults["exit_codes"]


def _markdown_rows(text: str, heading: str) -> list[list[str]]:
    start = text.index(heading)
    table_start = text.index("\n|", start) + 1
    rows = []
    for line in text[table_start:].splitlines():
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("code", "---") or set(cells[0]) <= {"-"}:
            continue
        rows.append(cells)
    return rows


def test_readme_table_is_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = _markdown_rows(readme, "### Exit codes")
    table = {int(code): meaning for code, meaning in rows}
    assert sorted(table) == sorted(int(c) for c in ExitCode)
    for code in ExitCode:
        if code in EXIT_CODE_MEANINGS:
            assert table[int(code)] == EXIT_CODE_MEANINGS[code], code


def test_platform_doc_table_is_the_code() -> None:
    doc = (ROOT / "docs" / "platform.md").read_text(encoding="utf-8")
    rows = _markdown_rows(doc, "## Errors and exit codes")
    assert rows
    for cells in rows:
        code = int(cells[0])
        assert code in {int(c) for c in ExitCode}
        for name in re.findall(r"[A-Z][A-Za-z]+Error", cells[1]):
            cls = getattr(errors, name)
            assert errors.exit_code_for(cls("x")) == code, (name, code)
    documented = {int(cells[0]) for cells in rows}
    # Every code an API command can end with is in the doc's table.
    for path, p in _parsers():
        if path and path[0] in ("connector", "account", "domain", "service"):
            assert set(p._defaults.get("exit_codes", ())) <= documented, path
