"""ARC (RFC 8617): is the chain of ARC sets well formed? Each instance 1 to n has one
ARC-Seal, one ARC-Message-Signature and one ARC-Authentication-Results; the first
seal says cv=none and the later ones cv=pass. Signatures are not verified here.

Instance numbers come from the header, so they are checked against the RFC's range
(1 to 50) before anything is done with them: an instance outside it is a finding,
and the largest instance that bounds the gap check is at most 50.
"""

from __future__ import annotations

import re

from verifier.analysis import findings as F
from verifier.model import Headers

# RFC 8617 section 4.2.1: an instance number is 1*2DIGIT, from 1 to 50.
ARC_MAX_INSTANCE = 50
_ARC_INSTANCE_RE = re.compile(r"[0-9]{1,2}")


def arc_instance(text: object) -> int | None:
    """The instance number an ARC header gives, or None unless it is 1 to 50.

    Read from the text without converting an arbitrary digit string, so neither a huge
    number nor a long one costs anything."""
    t = str(text).strip() if text is not None else ""
    if not _ARC_INSTANCE_RE.fullmatch(t):
        return None
    i = int(t)
    return i if 1 <= i <= ARC_MAX_INSTANCE else None


def arc_findings(headers: Headers, out: list[F.Finding]) -> None:
    seals = headers.arc_seals
    amss = headers.arc_message_signatures
    aars = [ar for ar in headers.auth_results if ar.kind == "arc-authentication-results"]
    if not (seals or amss or aars):
        return
    by_i: dict[int, dict[str, int]] = {}
    problems: list[str] = []
    refs: list[int] = []

    def add(i_text, kind, idx):
        t = str(i_text).strip() if i_text is not None else ""
        if not t or not (t.isascii() and t.lstrip("-").isdigit()):
            problems.append(f"a {kind} without a valid instance i=")
            refs.append(idx)
            return
        i = arc_instance(t)
        if i is None:
            shown = t if len(t) <= 20 else t[:20] + "..."
            problems.append(f"a {kind} with instance i={shown}, outside 1 to {ARC_MAX_INSTANCE}")
            refs.append(idx)
            return
        slot = by_i.setdefault(i, {})
        if kind in slot:
            problems.append(f"two {kind} headers for i={i}")
            refs.append(idx)
        slot[kind] = idx

    for s in seals:
        add(s.i, "ARC-Seal", s.header_index)
    for s in amss:
        add(s.i, "ARC-Message-Signature", s.header_index)
    for a in aars:
        add(a.arc_instance, "ARC-Authentication-Results", a.header_index)
    if by_i:
        n = max(by_i)  # at most ARC_MAX_INSTANCE: arc_instance() admits nothing larger
        for i in range(1, n + 1):
            slot = by_i.get(i)
            if not slot:
                problems.append(f"no ARC set for i={i}")
                continue
            for kind in ("ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"):
                if kind not in slot:
                    problems.append(f"no {kind} for i={i}")
        cvs = {inst: (s.tags.get("cv") or "").lower() for s in seals if (inst := arc_instance(s.i)) is not None}
        for i, cv in sorted(cvs.items()):
            if cv == "fail":
                problems.append(f"the seal of i={i} says cv=fail")
            elif i == 1 and cv and cv != "none":
                problems.append(f"the seal of i=1 says cv={cv} instead of none")
            elif i > 1 and cv and cv != "pass":
                problems.append(f"the seal of i={i} says cv={cv}")
        last_cv = cvs.get(n)
        all_refs = sorted(v for slot in by_i.values() for v in slot.values())
        out.append(F.say("arc.chain", all_refs, count=n, cv=last_cv or "?"))
    if problems:
        out.append(F.say("arc.broken", refs or [x for slot in by_i.values() for x in slot.values()], problems="; ".join(problems[:5])))
