"""verifier: prove where an email really went."""

from verifier import _compiled

__version__ = "0.1.0"

# Before anything under the package is imported: the mypyc build of the parsers and the
# analysis when it was built and matches their sources, the pure-Python modules otherwise.
_compiled.choose()
