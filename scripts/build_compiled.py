"""Build (or remove) the compiled modules: verifier/parsers/ and verifier/analysis/ by mypyc.

Run:  .venv/bin/python scripts/build_compiled.py          build, unless up to date
      .venv/bin/python scripts/build_compiled.py --force  build again
      .venv/bin/python scripts/build_compiled.py --clean  remove the build (pure Python)

The extension modules are written next to their sources, with the build's shared runtime
as ``verifier/_native__mypyc*.so``, and ``verifier/compiled-sources.json`` records the
digest of every source compiled; ``verifier/_compiled.py`` uses the build only while the
sources still match it. Needs mypy (the ``compiled`` extra) and a C compiler with the
Python headers. Exit status: 0 built or up to date, 1 the build failed (the tree is left
pure Python), 2 the tools are missing. See docs/compiled.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROUP = "verifier._native"  # the shared runtime becomes verifier/_native__mypyc*.so


def _clean(compiled) -> int:
    removed = 0
    for path in compiled.extension_modules():
        path.unlink()
        removed += 1
    if compiled.MANIFEST.exists():
        compiled.MANIFEST.unlink()
    return removed


def _missing_tools() -> str | None:
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypy (with mypyc) is not installed: pip install -e '.[compiled]'"
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc}) on PATH"
    include = sysconfig.get_paths().get("include")
    if not include or not Path(include, "Python.h").exists():
        return f"the Python headers are missing (no Python.h in {include})"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="build even when the build matches the sources")
    ap.add_argument("--clean", action="store_true", help="remove the compiled modules and stop")
    ns = ap.parse_args(argv)
    os.environ["VERIFIER_PURE_PYTHON"] = "1"  # this process reads the sources, never the old build
    from verifier import _compiled as compiled

    if ns.clean:
        print(f"build_compiled: removed {_clean(compiled)} compiled module(s); verifier runs as pure Python.")
        return 0
    if not ns.force and compiled.extension_modules() and compiled._stale() is None:
        print("build_compiled: the compiled modules match the sources; nothing to do.")
        return 0
    why = _missing_tools()
    if why:
        print(f"build_compiled: not built, {why}; verifier runs as pure Python.", file=sys.stderr)
        return 2
    _clean(compiled)
    sources = [str(p.relative_to(ROOT)) for p in compiled.modules_to_compile()]
    digests = compiled.digests()
    started = time.monotonic()
    from mypyc.build import mypycify
    from setuptools import setup

    with tempfile.TemporaryDirectory(prefix="verifier-mypyc-") as tmp:
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            ext = mypycify(sources, opt_level="3", group_name=GROUP, target_dir=os.path.join(tmp, "c"))
            setup(name="verifier-compiled", ext_modules=ext,
                  script_args=["-q", "build_ext", "--inplace", "--build-temp", os.path.join(tmp, "t"),
                               "--build-lib", os.path.join(tmp, "lib")])
        except (SystemExit, Exception) as exc:  # noqa: BLE001 - report in one line, leave the tree pure
            _clean(compiled)
            print(f"build_compiled: the build failed ({type(exc).__name__}: {exc}); verifier runs as pure Python.",
                  file=sys.stderr)
            return 1
        finally:
            os.chdir(cwd)
    if compiled.digests() != digests:
        _clean(compiled)
        print("build_compiled: a source changed during the build; run it again.", file=sys.stderr)
        return 1
    compiled.MANIFEST.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"build_compiled: {len(sources)} modules compiled with mypyc in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
