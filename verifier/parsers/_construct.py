"""Positional constructors for the frozen, slotted dataclasses of verifier.model.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` and
takes keyword arguments; the parsers build thousands of them per second. The
constructor made here takes every field positionally, in declaration order, and
stores it through the slot's own descriptor: the same object, about half the cost.
No default is applied and no ``__post_init__`` runs, so it is only for classes
without ``__post_init__``, called with every field. A class whose fields are not slot
descriptors (a dataclass compiled by mypyc, see docs/compiled.md) is returned as it is.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from typing import Any


def positional_constructor(cls: type) -> Callable[..., Any]:
    """A function ``f(field1, field2, ...)`` returning a ``cls`` equal to ``cls(...)``."""
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__")
    names = [f.name for f in dataclasses.fields(cls)]
    if not all(isinstance(vars(cls).get(n), types.MemberDescriptorType) for n in names):
        # a class a compiled build made native (its fields are not slots of a Python class):
        # its own constructor takes the fields positionally and is already fast
        return cls
    args = [f"a{i}" for i in range(len(names))]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(args)}):", "    o = _new(_cls)"]
    for i, name in enumerate(names):
        env[f"_s{i}"] = cls.__dict__[name].__set__  # the slot's member descriptor
        lines.append(f"    _s{i}(o, a{i})")
    lines.append("    return o")
    exec("\n".join(lines), env)  # noqa: S102 - source built above from field positions only
    make = env["make"]
    make.__doc__ = f"{cls.__name__}({', '.join(names)}), positionally."
    return make
