"""The compiled build: which modules run, the pure-Python ones or their mypyc builds.

``scripts/build_compiled.py`` compiles ``verifier/parsers/`` and ``verifier/analysis/``
with mypyc, from the same source files, into extension modules next to them, and writes
:data:`MANIFEST`: the SHA-256 of each source it compiled. Python imports an extension
module in preference to its source, so before anything under the package is imported,
:func:`choose` decides:

* no extension module there: the pure-Python build, nothing to do;
* ``VERIFIER_PURE_PYTHON=1`` in the environment: the pure-Python build, by request (the
  test that proves both builds give the same output uses it);
* a compiled source changed since the build (an edit, a checkout, a mutation-testing
  copy) or no manifest: the pure-Python build, with one line on standard error, so an
  edited source is never shadowed by the old build of it;
* otherwise the compiled build.

The pure-Python build is forced by a path hook that gives the package's directories a
finder without the extension-module loader. See docs/compiled.md.
"""

from __future__ import annotations

import hashlib
import importlib.machinery as machinery
import json
import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
COMPILED_DIRS = ("parsers", "analysis")  # under verifier/
MANIFEST = PACKAGE_DIR / "compiled-sources.json"
ENV_PURE = "VERIFIER_PURE_PYTHON"

# "pure" (nothing built), "compiled", "pure-requested", "pure-stale"; set by choose()
build = "pure"


def compiled_sources() -> list[Path]:
    """The source files the build depends on (the manifest's), sorted."""
    return sorted(p for d in COMPILED_DIRS for p in (PACKAGE_DIR / d).rglob("*.py"))


# Modules left interpreted, with why: ``analysis/options.py``'s frozen ``Options`` is
# pickled to the paste page's worker processes, and a frozen dataclass mypyc compiles
# cannot be unpickled (its state is restored through the frozen ``__setattr__``).
INTERPRETED = ("analysis/options.py",)


def modules_to_compile() -> list[Path]:
    """The sources that are compiled, sorted: every module but :data:`INTERPRETED` and the
    packages' ``__init__`` (a package compiled into a shared runtime that lives inside the
    package gets a wrong ``__path__``)."""
    return [p for p in compiled_sources()
            if p.name != "__init__.py" and p.relative_to(PACKAGE_DIR).as_posix() not in INTERPRETED]


def extension_modules() -> list[Path]:
    """The extension modules built next to those sources (and the build's shared runtime)."""
    found = [p for d in COMPILED_DIRS for p in (PACKAGE_DIR / d).rglob("*.so")]
    return sorted(found + list(PACKAGE_DIR.glob("*__mypyc*.so")))


def digests() -> dict[str, str]:
    """Each covered source's SHA-256, by its path under the package."""
    return {str(p.relative_to(PACKAGE_DIR)): hashlib.sha256(p.read_bytes()).hexdigest() for p in compiled_sources()}


def _stale() -> str | None:
    """Why the compiled build does not match the sources, or None when it does."""
    try:
        recorded = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return "it has no manifest"
    if recorded != digests():
        return "a source changed since it was built"
    return None


def _force_pure() -> None:
    root = str(PACKAGE_DIR)
    loaders = ((machinery.SourceFileLoader, machinery.SOURCE_SUFFIXES),
               (machinery.SourcelessFileLoader, machinery.BYTECODE_SUFFIXES))

    def hook(path: str) -> machinery.FileFinder:
        full = os.path.abspath(path)
        if full == root or full.startswith(root + os.sep):
            return machinery.FileFinder(path, *loaders)
        raise ImportError  # not ours: the next hook

    sys.path_hooks.insert(0, hook)
    for cached in list(sys.path_importer_cache):
        full = os.path.abspath(cached)
        if full == root or full.startswith(root + os.sep):
            del sys.path_importer_cache[cached]


def choose() -> str:
    """Pick the build (see the module docstring) and return its name."""
    global build
    if not extension_modules():
        build = "pure"
        return build
    if os.environ.get(ENV_PURE, "") not in ("", "0"):
        _force_pure()
        build = "pure-requested"
        return build
    why = _stale()
    if why is not None:
        _force_pure()
        sys.stderr.write(f"verifier: not using the compiled modules, {why}; running as pure Python "
                         "(rebuild with scripts/build_compiled.py).\n")
        build = "pure-stale"
        return build
    build = "compiled"
    return build
