"""What was odd about the input: the repairs made before reading it (a finding), and
every defect the parsers noted in the paste or in one header field (``Analysis.defects``).
"""

from __future__ import annotations

from verifier.analysis import findings as F
from verifier.model import Defect, HeaderField, Headers
from verifier.parsers._construct import positional_constructor
from verifier.parsers.paste import MAX_FIELDS

NO_HEADER = "no email header found (expected lines such as 'Received: ...')."


def unread_reason(headers: Headers) -> str | None:
    """Why no header field was read (one clause, lower-case), or None when some were.
    The CLI and the paste page say the same."""
    if headers.block.fields:
        return None
    if any(d.code == "input.too-many-fields" for d in headers.block.defects):
        return f"it holds more than {MAX_FIELDS} header fields, far more than a real message; it was not read."
    return NO_HEADER


def input_findings(headers: Headers, out: list[F.Finding]) -> None:
    repairs = [d for d in headers.block.defects if d.code.startswith("input.")]
    if repairs:
        names = " ".join(d.message if d.message.endswith(".") else d.message + "." for d in repairs[:6])
        more = f" ({len(repairs) - 6} more repairs not listed.)" if len(repairs) > 6 else ""
        out.append(F.say("input.repaired", names=names, more=more))
    if not headers.block.fields:
        out.append(F.say("input.no-headers"))


# Every defect code the parsers report, with what it means. README.md carries the same
# table (a test checks that the two agree, that every code the parsers can write is
# here, and that each one here reaches Analysis.defects from some input).
DEFECT_SPECS: tuple[tuple[str, str], ...] = (
    # the paste as a whole (no header field of its own)
    ("input.nul", "NUL characters were removed from the input."),
    ("input.bom", "A byte-order mark at the start was removed."),
    ("input.html-escaped", "The input was HTML (entities such as &lt; or tags such as <pre>) and was decoded."),
    ("input.line-endings", "Line ends were CR-only or mixed, and were unified."),
    ("input.leading-junk", "Lines before the first header field were ignored."),
    ("input.no-header", "Nothing in the input looks like a header field."),
    ("input.binary", "The input is binary data, not text; no header field was read from it."),
    ("input.too-many-fields", "The input holds far more header fields than a real message; none was read, to keep memory bounded."),
    ("input.double-spaced", "Every line was followed by a blank line; the blank lines were removed."),
    ("input.indented", "Every line was indented or quoted with '>'; the indentation was removed."),
    ("input.misfolded", "Continuation lines had lost their indentation and were joined to the field above."),
    # any header field
    ("parser.internal", "A header's reader failed unexpectedly; that header was skipped, the others were read."),
    ("date.unparsed", "The Date header could not be read."),
    ("date.no-offset", "The Date header has no time-zone offset; it was read as UTC."),
    # Received
    ("received.invalid-ip", "The client address is not a valid IP address; it is kept as written."),
    ("received.html-escaped", "The Received header held HTML entities; they were decoded."),
    ("received.deep-nesting", "Comments are nested deeper than the reader follows; the deeper ones are kept as raw text."),
    ("received.truncated", "The Received header has too many parts; only the first ones were read."),
    ("received.no-date", "The Received header carries no date."),
    ("received.comment-only", "The Received header holds only comments: it names neither a sending nor a receiving host."),
    ("received.no-from-by", "The Received header names neither a sending nor a receiving host."),
    # Authentication-Results and ARC-Authentication-Results
    ("auth.unbalanced", "A comment in an Authentication-Results header is not closed."),
    ("auth.malformed", "A part of an Authentication-Results header is not method=result."),
    ("auth.no-authserv-id", "An Authentication-Results header does not start with the name of the server that wrote it."),
    ("auth.truncated", "An Authentication-Results header is too long; only its first results were kept."),
    ("auth.no-instance", "An ARC-Authentication-Results header has no i= instance number."),
    ("auth.non-conformant", "An Authentication-Results header does not follow RFC 8601 and was read leniently."),
    # DKIM-Signature, ARC-Seal, ARC-Message-Signature
    ("tags.malformed", "Parts of a signature header are not tag=value."),
    ("tags.duplicate", "A tag is given twice in a signature header; the first value is kept."),
    ("tags.truncated", "A signature header has too many tags; the rest were ignored."),
    ("tags.missing", "A signature header lacks a tag its RFC requires."),
)

DEFECT_CODES = frozenset(code for code, _ in DEFECT_SPECS)


def collect_defects(headers: Headers) -> tuple[Defect, ...]:
    """Every defect found in the input: the paste's first, then each header field's in
    header order, each with the name of the field it belongs to."""
    per_header: list[Defect] = list(headers.defects)
    for group in (headers.received, headers.auth_results, headers.dkim_signatures, headers.arc_seals, headers.arc_message_signatures):
        for parsed in group:
            if parsed.defects:  # most headers have none: nothing to copy
                per_header.extend(_owned(parsed.defects, parsed.header_index))
    per_header.sort(key=lambda d: d.header_index if d.header_index is not None else -1)

    if not per_header and not headers.block.defects:
        return ()
    fields = headers.block.fields

    def named(d: Defect) -> Defect:
        if d.header_name is None and d.header_index is not None:
            name = field_name(fields, d.header_index)
            if name is not None:
                return _new_defect(d.code, d.message, d.header_index, name)
        return d

    return tuple(named(d) for d in (*headers.block.defects, *per_header))


# Defect(code, message, header_index, header_name), every field given, without the frozen
# dataclass's keyword __init__ (or dataclasses.replace): the same object, cheaper.
_new_defect = positional_constructor(Defect)


def field_name(fields: tuple[HeaderField, ...], index: int) -> str | None:
    """The name of the field whose ``index`` is ``index``, as
    ``{f.index: f.name for f in fields}.get(index)`` gives it. Fields are numbered by
    their position, so the field at that position is looked at first; the search over
    all of them is only for a block numbered otherwise."""
    if 0 <= index < len(fields) and fields[index].index == index:
        return fields[index].name
    return {f.index: f.name for f in fields}.get(index)


def _owned(defects: tuple[Defect, ...], header_index: int) -> list[Defect]:
    return [d if d.header_index is not None else _new_defect(d.code, d.message, header_index, d.header_name) for d in defects]


def markdown_table() -> str:
    rows = ["| code | meaning |", "|---|---|"]
    rows.extend(f"| `{code}` | {meaning} |" for code, meaning in DEFECT_SPECS)
    return "\n".join(rows)
