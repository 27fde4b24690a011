"""Where the shared corpus is: beside the repository, or beside its directory of
worktrees (the same search as bench/json_snapshot.py)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
_CANDIDATES = [ROOT.joinpath(*[".."] * up, "shared", "corpus") for up in (1, 2)]
SHARED = next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0])
CORPUS = SHARED / "headers"
