"""DKIM-Signature, ARC-Message-Signature and ARC-Seal tag lists (RFC 6376 §3.2).

Written by hand: dkimpy's tag-list reader is internal (``dkim.util.parse_tag_value``)
and raises on the first malformed tag, where a report must keep going.

``tag=value`` pairs separated by ``;``. Tag names are case-sensitive and kept as
written. Values have surrounding whitespace removed; in ``b=``, ``bh=`` (base64)
and ``h=``/``z=`` all folding whitespace inside is removed too, as the RFC allows.
A duplicate tag keeps its first value and adds ``tags.duplicate``; a part without
``=`` or with an invalid name adds ``tags.malformed``; a missing required tag adds
``tags.missing``. Never raises.

Bounds: one ``split`` over the value; at most :data:`MAX_TAGS` tags are kept
(``tags.truncated``).
"""

from __future__ import annotations

import re

from verifier.model import Defect, TagList

__all__ = ["parse_tag_list", "MAX_TAGS", "REQUIRED"]

MAX_TAGS = 64
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_NO_WS_TAGS = frozenset({"b", "bh", "h", "z"})
_WS_RE = re.compile(r"[ \t\r\n]+")

REQUIRED: dict[str, tuple[str, ...]] = {
    "dkim-signature": ("v", "a", "b", "bh", "d", "h", "s"),
    "arc-message-signature": ("i", "a", "b", "bh", "d", "h", "s"),
    "arc-seal": ("i", "a", "b", "cv", "d", "s"),
}


def parse_tag_list(value: str, header_index: int, kind: str = "dkim-signature") -> TagList:
    """Read one tag list. Never raises; problems are defects on the result."""
    tags: dict[str, str] = {}
    defects: list[Defect] = []
    parts = value.split(";")
    truncated = False
    malformed: list[str] = []
    duplicates: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        if len(tags) >= MAX_TAGS:
            truncated = True
            break
        if "=" not in part:
            malformed.append(part.strip()[:40])
            continue
        name, val = part.split("=", 1)
        name = name.strip()
        if not _NAME_RE.fullmatch(name):
            malformed.append(part.strip()[:40])
            continue
        val = _WS_RE.sub("", val) if name in _NO_WS_TAGS else _WS_RE.sub(" ", val.strip())
        if name in tags:
            duplicates.append(name)
            continue
        tags[name] = val
    if malformed:
        defects.append(
            Defect(
                "tags.malformed",
                f"{len(malformed)} part(s) are not tag=value: {malformed[0]!r}.",
                header_index,
            )
        )
    if duplicates:
        defects.append(
            Defect(
                "tags.duplicate",
                f"Tag(s) given twice, first value kept: {', '.join(sorted(set(duplicates)))}.",
                header_index,
            )
        )
    if truncated:
        defects.append(
            Defect(
                "tags.truncated", f"More than {MAX_TAGS} tags; the rest were ignored.", header_index
            )
        )
    missing = [t for t in REQUIRED.get(kind, ()) if t not in tags]
    if missing and not truncated:
        defects.append(
            Defect("tags.missing", f"Required tag(s) missing: {', '.join(missing)}.", header_index)
        )
    return TagList(header_index=header_index, kind=kind, tags=tags, defects=tuple(defects))
