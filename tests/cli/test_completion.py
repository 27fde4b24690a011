"""`verifier completion SHELL`: scripts generated from the parser, that a shell can use."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verifier.cli import build_parser

VERIFIER = [sys.executable, "-m", "verifier.cli"]


def _script(shell: str) -> str:
    r = subprocess.run([*VERIFIER, "completion", shell], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _top_level_commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


def _complete_in_bash(script: Path, words: list[str]) -> list[str]:
    """Ask the generated bash function for completions of ``words`` (the last one partial)."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; COMP_LINE=\"{' '.join(words)}\"; "
        "COMP_POINT=${#COMP_LINE}\n"
        "_shtab_verifier\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    r = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return sorted(x.strip() for x in r.stdout.splitlines() if x.strip())


def test_bash_completes_commands_actions_and_options(tmp_path: Path) -> None:
    assert shutil.which("bash")
    script = tmp_path / "verifier.bash"
    script.write_text(_script("bash"))
    assert _complete_in_bash(script, ["verifier", "conn"]) == ["connector"]
    assert "completion" in _complete_in_bash(script, ["verifier", ""])
    assert set(_complete_in_bash(script, ["verifier", "connector", ""])) >= {
        "create", "list", "show", "update", "delete", "change-auth", "test",
    }
    assert "--smarthost" in _complete_in_bash(script, ["verifier", "connector", "create", "--sm"])
    assert _complete_in_bash(script, ["verifier", "completion", "f"]) == ["fish"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_every_command(shell: str) -> None:
    text = _script(shell)
    for name in _top_level_commands():
        assert name in text, name
    assert "change-auth" in text and "--wait-timeout" in text


def test_unknown_shell_is_a_usage_error() -> None:
    r = subprocess.run([*VERIFIER, "completion", "csh"], capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert "invalid choice" in r.stderr and "Traceback" not in r.stderr
