"""What was odd about the input itself: the repairs made before reading it."""

from __future__ import annotations

from verifier.analysis import findings as F
from verifier.model import Headers


def input_findings(headers: Headers, out: list[F.Finding]) -> None:
    repairs = [d for d in headers.block.defects if d.code.startswith("input.")]
    if repairs:
        names = " ".join(d.message if d.message.endswith(".") else d.message + "." for d in repairs[:6])
        more = f" ({len(repairs) - 6} more repairs not listed.)" if len(repairs) > 6 else ""
        out.append(F.say("input.repaired", names=names, more=more))
    if not headers.block.fields:
        out.append(F.say("input.no-headers"))
