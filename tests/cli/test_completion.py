"""`verifier completion SHELL`: scripts generated from the parser, that a shell can use."""

from __future__ import annotations

import os
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


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        # scripts/install-completion-shells.sh installs it (setup as root, so always under CI)
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed: scripts/install-completion-shells.sh installs it")
        pytest.skip(f"{name} is not installed (scripts/install-completion-shells.sh, as root)")
    return path


def test_fish_completes_commands_and_options(tmp_path: Path) -> None:
    fish = _shell("fish")
    script = tmp_path / "verifier.fish"
    script.write_text(_script("fish"))
    bindir = Path(sys.executable).parent  # the venv's `verifier`, which the script completes

    def complete(line: str) -> list[str]:
        r = subprocess.run([fish, "--no-config", "-c", f"source {script}; complete -C '{line}'"],
                           capture_output=True, text=True, check=False,
                           env={**os.environ, "PATH": f"{bindir}:{os.environ.get('PATH', '')}"})
        assert r.returncode == 0, r.stderr
        return [row.split("\t")[0] for row in r.stdout.splitlines()]

    assert complete("verifier conn") == ["connector"]
    assert "--smarthost" in complete("verifier connector create --sm")
    assert complete("verifier completion f") == ["fish"]


def test_zsh_loads_the_script_as_a_completion_function(tmp_path: Path) -> None:
    zsh = _shell("zsh")
    fdir = tmp_path / "zfunc"
    fdir.mkdir()
    (fdir / "_verifier").write_text(_script("zsh"))  # as README installs it, in a directory on fpath
    program = (f"fpath=({fdir} $fpath); autoload -Uz compinit && compinit -u -d {tmp_path}/zcompdump; "
               "print -r -- ${_comps[verifier]}; autoload +X _verifier && print parsed")
    r = subprocess.run([zsh, "-f", "-c", program], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["_verifier", "parsed"], r.stdout + r.stderr


def test_unknown_shell_is_a_usage_error() -> None:
    r = subprocess.run([*VERIFIER, "completion", "csh"], capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert "invalid choice" in r.stderr and "Traceback" not in r.stderr
