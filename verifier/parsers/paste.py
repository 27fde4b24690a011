"""Paste normalisation: turn whatever a person pasted (or a whole .eml) into header fields.

Written by hand because no library accepts what customers actually paste: the
stdlib ``email`` parser expects a well-formed message and silently turns a
mis-folded line into a defect-free body, and none of the header analysers we
studied decodes HTML-escaped pastes.

What is corrected, each time with a :class:`~verifier.model.Defect` of a stable code:

- ``input.not-utf8``: bytes that are not valid UTF-8 are read as latin-1, byte by byte;
- ``input.utf16``: UTF-16 text with a byte-order mark (Windows "Unicode" files) decoded;
- ``input.nul``: NUL characters removed;
- ``input.bom``: a byte-order mark removed;
- ``input.html-escaped``: ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` ``&apos;`` ``&nbsp;`` and
  numeric entities decoded (so the ``;`` of an entity can never be read as a date
  separator later), and HTML wrappers (``<pre>``, ``<code>``, ``<br>``...) removed;
- ``input.line-endings``: CR or mixed CR/LF/CRLF line ends (plain CRLF is normal for
  a message and is not reported);
- ``input.double-spaced``: a blank line after every line (CRLF turned into two line ends);
- ``input.leading-junk``: lines before the first header (blank lines, an
  "Internet headers:" caption, an mbox ``From `` line, the summary table of
  Gmail's "Show original" page);
- ``input.indented``: every line indented by the same amount (mail-client quoting),
  or quoted with ``>`` (leading no-break spaces count as spaces);
- ``input.misfolded``: a continuation line that lost its indentation, including the
  Outlook layout ``Name:<TAB><newline>value``;
- ``input.binary``: binary data (more than one character in twenty, up to the end of the
  header region, is a control character other than TAB): no field is read from it,
  whatever line in it happens to read ``Name:``;
- ``input.too-many-fields``: more than :data:`MAX_FIELDS` fields (real blocks have tens):
  none is read, so that memory stays bounded (see ARCHITECTURE.md, hostile input);
- ``input.no-header``: nothing that looks like a header field.

A line starts a new field only when it looks like ``Name:`` where the name starts
with a letter and holds letters, digits, ``-``, ``_`` or ``.``; so ``12:34:56`` (a
time that lost its fold) and ``2001:db8::1`` (an IPv6 address) are continuations.

Bounds: everything is one pass over the lines; no regular expression here has
nested quantifiers, and each is applied to one line or to a bounded window.

A clean block (valid UTF-8, LF or CRLF, every line a field or a continuation, nothing to
correct but an mbox ``From `` line) is read by a one-pass reader (``_normalise_fast``:
a handful of C-level scans over the text, then one compiled pattern whose repetitions
cannot cross a line end) instead of line by line; it gives the full reader's result,
which tests/parsers/test_paste_fast.py checks on every corpus file and fixture and on
generated input. Anything else goes to the full reader (``_normalise_full``).
"""

from __future__ import annotations

import re

from verifier.model import Defect, HeaderBlock, HeaderField
from verifier.parsers._construct import positional_constructor
from verifier.parsers.entities import decode_entities

# HeaderField(index, name, value, line) without the frozen dataclass's keyword __init__
_new_field = positional_constructor(HeaderField)

__all__ = ["normalise", "split_messages", "decode_bytes", "decode_words"]

# Surrogates produced by the "surrogateescape" error handler -> the latin-1 character.
_SURROGATE_TO_LATIN1 = {0xDC00 + b: chr(b) for b in range(0x80, 0x100)}

_FIELD_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]{0,200})[ \t]*:")
_HEX_ONLY = re.compile(r"[0-9A-Fa-f]{1,4}")
_CAPTION_RE = re.compile(
    r"(?:(?:internet|message|original|full|e-?mail|mail|raw|smtp) {1,4}){0,2}"
    r"(?:headers?|en-t[eê]tes?|kopfzeilen) {0,4}:?",
    re.IGNORECASE,
)
_HTML_BREAK_RE = re.compile(
    r"(?:<br[ \t]{0,8}/?>|</(?:p|div)>)[ \t]{0,64}(?:\r?\n)?", re.IGNORECASE
)
_HTML_TAG_RE = re.compile(
    r"</?(?:pre|code|br|p|div|span|tt|blockquote|html|body|samp|kbd)(?:[ \t][^<>\n]{0,300})?/?>",
    re.IGNORECASE,
)
_ESCAPE_HINT_RE = re.compile(r"&(?:lt|gt|quot|#[0-9]{1,7});")


def _head_end(text: str) -> int:
    """Where the header part probably ends: the first blank line, but never before 4 KB
    (a double-spaced paste has a blank line after every line). Entities in a message
    body (an HTML part) must not make us unescape the headers."""
    found = [i for i in (text.find("\n\n"), text.find("\n\r\n")) if i != -1]
    end = min(found) if found else len(text)
    return max(end, min(len(text), 4096))


def decode_bytes(data: bytes) -> tuple[str, bool]:
    """Decode as UTF-8; each byte that is not valid UTF-8 becomes its latin-1 character.

    Returns the text and whether any byte needed the fallback. Never raises.
    """
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="surrogateescape")
        return text.translate(_SURROGATE_TO_LATIN1), True


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (``=?UTF-8?B?...?=``); the value as written if that fails."""
    if "=?" not in value or len(value) > 16384:
        return value
    try:
        from email.header import decode_header, make_header

        return str(make_header(decode_header(value)))
    except Exception:  # unknown charset, bad base64...: keep what was written
        return value


def _looks_like_field(line: str) -> re.Match[str] | None:
    """``Name:`` at the start of a line (no leading whitespace), or None."""
    if not line or line[0] in " \t":
        return None
    m = _FIELD_RE.match(line)
    if m is None:
        return None
    name = m.group(1)
    # An IPv6 address at the start of a continuation line ("fe80:...", "2a01:...").
    if (
        len(name) <= 4
        and _HEX_ONLY.fullmatch(name)
        and m.end() < len(line)
        and line[m.end()] in "0123456789abcdefABCDEF:"
    ):
        return None
    return m


def _is_caption(line: str) -> bool:
    """An "Internet headers:" style caption (``line`` is stripped; captions are short)."""
    return len(line) <= 64 and _CAPTION_RE.fullmatch(line) is not None


def _split_lines(text: str) -> tuple[list[str], bool]:
    """Split on CRLF, LF or CR; report whether the line ends were unusual (CR or mixed)."""
    if "\r" not in text:
        lines = text.split("\n")
        if "\u00a0" in text:
            lines = [_nbsp_indent(line) if line[:1] == "\u00a0" else line for line in lines]
        return lines, False
    has_crlf = "\r\n" in text
    cr_total = text.count("\r")
    lf_total = text.count("\n")
    crlf = text.count("\r\n")
    odd = False
    if cr_total and cr_total != crlf:
        odd = True  # bare CR somewhere
    if has_crlf and lf_total != crlf:
        odd = True  # mixed CRLF and LF
    # "\r\r\n" (a CRLF that went through a CR->CRLF conversion) is one line end.
    if "\r\r\n" in text:
        text = text.replace("\r\r\n", "\n")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if "\u00a0" in text:
        # pasted from a rendered web page: indentation made of no-break spaces
        lines = [_nbsp_indent(line) if line[:1] == "\u00a0" else line for line in lines]
    return lines, odd


def _nbsp_indent(line: str) -> str:
    stripped = line.lstrip("\u00a0 \t")
    return " " * (len(line) - len(stripped)) + stripped


def _is_double_spaced(lines: list[str], start: int) -> bool:
    """True when, from ``start``, header lines alternate with blank lines (at least 3 pairs)."""
    pairs = 0
    i = start
    while i + 1 < len(lines) and pairs < 6:
        if not lines[i].strip():
            break
        if lines[i + 1].strip():
            return False
        pairs += 1
        i += 2
    return pairs >= 3


def normalise(data: bytes | str) -> HeaderBlock:
    """Read a pasted header block, a whole message or a fragment into header fields.

    Never raises; every correction is reported as a Defect. See the module docstring.
    A clean block (see :func:`_normalise_fast`) is read in one pass; anything else, or
    anything the fast reader is unsure of, goes through :func:`_normalise_full`.
    """
    block = _normalise_fast(data)
    if block is None:
        block = _normalise_full(data)
    return block


# A whole field of a clean block: ``Name:`` then the rest of its line and its
# continuation lines (each starting with a space or a tab), then a line end or the end.
# Groups: the name, the white space and colon after it, the value. Anchored at a line
# start, so that a scan over a line that is not a field fails at once at each position
# inside it. Every repetition is bounded by a line end it cannot cross: no backtracking.
_FAST_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]{0,200})([ \t]*:)([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)", re.M)
_NOT_SPACE_RE = re.compile(r"\S")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# the same characters as bytes, for bytes.translate (about five times the regex's speed)
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + b"\x7f"
_HEX_DIGITS = "0123456789abcdefABCDEF:"


def _normalise_fast(data: bytes | str) -> HeaderBlock | None:
    """The reading of a clean block, in one pass over its text, or None when it is not clean.

    Clean: valid UTF-8 (or text without surrogates), no NUL, no byte-order mark, no HTML,
    LF or CRLF line ends only, no no-break space, the first line a field, the header region
    ending at the first empty line with no line of white space inside it, no control
    character in it, and every line either a field (``Name:``, not an IPv6 address) or a
    continuation starting with a space or a tab, except for one mbox ``From `` line above
    the first field. Such a block needs no correction but that line's
    ``input.leading-junk``; for it :func:`_normalise_full` returns the same block (fields, line
    numbers, text and ``has_body``), which ``tests/parsers/test_paste_fast.py`` checks on
    every corpus file and fixture and on generated input. Returns None for anything else.
    """
    raw: bytes | None = None
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        text = str(data)
        if _has_surrogate(text):
            return None
    if not text or "\x00" in text or text[0] in "\ufeff \t\r\n<>" or "\u00a0" in text:
        return None
    if "&" in text and _ESCAPE_HINT_RE.search(text, 0, _head_end(text)) is not None:
        return None
    if text.count("\n") > MAX_FIELDS and _over_field_limit(text):
        return None  # refused by the full reader, with its defect
    head = text[:8192].lower()
    if "download original" in head or "copy to clipboard" in head:
        return None
    if "\r" in text:
        crlf = text.count("\r\n")
        if text.count("\r") != crlf or text.count("\n") != crlf:
            return None
        text = text.replace("\r\n", "\n")
    # header region: up to the first empty line
    stop = text.find("\n\n")
    if stop == -1:
        stop = len(text) - 1 if text[-1] == "\n" else len(text)
    # An mbox "From " line above the first field (a saved message): the one leading line
    # the full reader skips that is read here too.
    begin = 0
    defects: tuple[Defect, ...] = ()
    first_end = text.find("\n")
    if text.startswith("From ") and first_end != -1 and _looks_like_field(text[:first_end]) is None:
        begin = first_end + 1
        if begin >= stop:
            return None
        defects = (Defect("input.leading-junk", "1 line(s) before the first header were ignored."),)
        first_end = text.find("\n", begin)
    first = text[begin:] if first_end == -1 else text[begin:first_end]
    if _is_caption(first.strip()):
        return None
    if first_end != -1:
        second_end = text.find("\n", first_end + 1)
        if not text[first_end + 1 : len(text) if second_end == -1 else second_end].strip():
            return None  # a blank second line: double spacing, or one field and a body
    if raw is not None:
        # No control character in the whole header region, read on the bytes: a control
        # character is one byte in UTF-8, and the region (up to the first empty line, LF or
        # CRLF alike) is the text's. Stricter than the full reader's window, never looser:
        # a block refused here is read by the full reader.
        ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if i != -1]
        region = raw[: min(ends)] if ends else raw
        if len(region.translate(None, _CONTROL_BYTES)) != len(region):
            return None
    elif _CONTROL_RE.search(text, 0, min(stop, BINARY_WINDOW)) is not None:
        return None
    # Every field in one call. The fields cover the region without a gap (a line that is
    # neither a field nor a continuation would leave one) when their lengths, with one
    # line end after each but the last, add up to the region's.
    fields: list[HeaderField] = []
    line_no = 1
    covered = begin - 1
    names: dict[str, str] = {}  # one string per distinct name (a block repeats a few names)
    for i, (name, colon, value) in enumerate(_FAST_FIELD_RE.findall(text, begin, stop)):
        covered += len(name) + len(colon) + len(value) + 1
        name = names.setdefault(name, name)
        if len(name) <= 4 and value[:1] and value[0] in _HEX_DIGITS and _HEX_ONLY.fullmatch(name):
            return None  # may be an IPv6 address on a continuation line
        if "\n" in value:
            parts = [part.strip(" \t") for part in value.split("\n")]
            for part in parts[1:]:
                if not part or part.isspace():
                    # a continuation line of white space only: an obsolete fold or the end
                    # of the header region (every such line in the region is inside a
                    # value: it starts with a space or a tab); the full reader decides
                    return None
            fields.append(_new_field(i, name, " ".join(parts) if parts[0] else " ".join(parts[1:]), line_no))
            line_no += len(parts)
        else:
            fields.append(_new_field(i, name, value.strip(), line_no))
            line_no += 1
    if covered != stop or len(fields) > MAX_FIELDS:
        return None  # a line that lost its fold or not a field at all; or too many fields
    has_body = _NOT_SPACE_RE.search(text, stop) is not None
    # the region and its line end (the whole text itself when that is all there is)
    text_out = text[begin : stop + 1] if stop < len(text) else text[begin:] + "\n"
    return HeaderBlock(fields=tuple(fields), defects=defects, has_body=has_body, text=text_out)


def _normalise_full(data: bytes | str) -> HeaderBlock:
    """Every correction of the module docstring, each with its defect."""
    defects: list[Defect] = []

    def add(code: str, message: str) -> None:
        defects.append(Defect(code, message))

    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            # a file saved as "Unicode" by Windows Notepad and the like
            text, fallback = raw.decode("utf-16", errors="replace"), False
            add("input.utf16", "The input was UTF-16 text; it was decoded.")
        else:
            text, fallback = decode_bytes(raw)
        if fallback:
            add("input.not-utf8", "Some bytes were not valid UTF-8 and were read as Latin-1.")
    else:
        text, fallback = str(data), False
        if _has_surrogate(text):
            # lone surrogates cannot be encoded later; replace them
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
        add("input.nul", "NUL characters were removed from the input.")
    if text.startswith("\ufeff"):
        text = text[1:]
        add("input.bom", "A byte-order mark at the start was removed.")

    # HTML: a paste copied from a web page or a ticketing tool.
    html_wrapped = text.lstrip()[:1] == "<" and _HTML_TAG_RE.match(text.lstrip()) is not None
    escaped = "&" in text and _ESCAPE_HINT_RE.search(text, 0, _head_end(text)) is not None
    if html_wrapped or escaped:
        # line-breaking tags end a line (once: a newline right after them is theirs)
        text = _HTML_BREAK_RE.sub("\n", text)
        text = _HTML_TAG_RE.sub("", text)
        text = decode_entities(text)
        add(
            "input.html-escaped",
            "The input was HTML (escaped entities such as &lt; or tags such as <pre>); it was decoded.",
        )

    # Too many fields (see MAX_FIELDS below): found before the text is split into lines,
    # which is where the memory of such a block would go.
    if text.count("\n") > MAX_FIELDS and _over_field_limit(text):
        add("input.too-many-fields", f"The input holds more than {MAX_FIELDS} header fields; it was not read.")
        return HeaderBlock(fields=(), defects=tuple(defects), has_body=False, text="")

    lines, odd_endings = _split_lines(text)
    if odd_endings:
        add(
            "input.line-endings",
            "Line ends were CR-only or a mix of CR, LF and CRLF; they were unified.",
        )

    # Leading junk: skip to the first line that looks like a field (once dedented).
    start = 0
    n = len(lines)
    skipped_content = False
    # Gmail's "Show original" page puts a summary table (whose "From:", "To:", "SPF:"
    # rows look like fields) above the message, ending with "Download Original".
    head = text[:8192].lower()
    if "download original" in head or "copy to clipboard" in head:
        for k in range(min(n, 40)):
            if lines[k].lstrip().lower().startswith(("download original", "copy to clipboard")):
                start, skipped_content = k + 1, True
    while start < n:
        line = lines[start]
        stripped = line.strip()
        if not stripped:
            start += 1
            continue
        candidate = line.lstrip(" \t>")
        if _looks_like_field(candidate) and not _is_caption(stripped):
            break
        skipped_content = True
        start += 1
    if start > 0 and skipped_content:
        add("input.leading-junk", f"{start} line(s) before the first header were ignored.")
    if start >= n:
        add("input.no-header", "No header field was found in the input.")
        return HeaderBlock(fields=(), defects=tuple(defects), has_body=False, text="")

    # Double spacing (every line followed by a blank line).
    if _is_double_spaced(lines, start):
        kept: list[str] = []
        i = start
        while i < n:
            if not lines[i].strip():
                # a blank line ends the headers only if the next one is blank too
                if (
                    i + 1 < n
                    and lines[i + 1].strip()
                    and (
                        _looks_like_field(lines[i + 1].lstrip(" \t>")) or lines[i + 1][:1] in " \t"
                    )
                ):
                    i += 1
                    continue
                break
            kept.append(lines[i])
            i += 1
        body_lines = lines[i:]
        lines = lines[:start] + kept + body_lines
        n = len(lines)
        add(
            "input.double-spaced",
            "Every line was followed by a blank line; the blank lines were removed.",
        )

    # Header region: up to the first blank line. A line of only spaces or tabs that is
    # followed by a continuation line is part of a fold (obsolete syntax), not the end.
    end = start
    while end < n:
        line = lines[end]
        if line[:1] not in ("", " ", "\t") or line.strip():
            end += 1
        elif (
            lines[end]
            and end + 1 < n
            and lines[end + 1][:1] in (" ", "\t")
            and lines[end + 1].strip()
        ):
            end += 1
        else:
            break
    has_body = any(line.strip() for line in lines[end:])
    region = lines[start:end]

    # Binary data is not a header block, even where one of its lines happens to read
    # "Name:" (random bytes do, about once per 100 KB).
    if _is_binary(lines, end, fallback):
        add("input.binary", "The input is binary data, not text; no header field was read.")
        add("input.no-header", "No header field was found in the input.")
        return HeaderBlock(fields=(), defects=tuple(defects), has_body=False, text="")

    # Quoting with ">" on every line.
    if region and all(line.lstrip(" \t").startswith(">") for line in region):
        region = [_strip_quote(line) for line in region]
        add("input.indented", "Every line was quoted with '>'; the quoting was removed.")

    # Common indentation of every line (mail clients indent a pasted block).
    common = 0
    if region and region[0][:1] in (" ", "\t"):
        indents = [len(line) - len(line.lstrip(" \t")) for line in region if line.strip()]
        common = min(indents) if indents else 0
    if common > 0:
        region = [line[common:] for line in region]
        add(
            "input.indented",
            f"Every line was indented by {common} character(s); the indentation was removed.",
        )

    # A header block has tens of fields, a few hundred at most; each field read costs far
    # more memory than its bytes, so a block with more than MAX_FIELDS is not read at all.
    if len(region) > MAX_FIELDS and sum(1 for line in region if _looks_like_field(line)) > MAX_FIELDS:
        add("input.too-many-fields", f"The input holds more than {MAX_FIELDS} header fields; it was not read.")
        return HeaderBlock(fields=(), defects=tuple(defects), has_body=has_body, text="")

    # Fields: split where a line does not start with white space, then join back the
    # pieces that do not look like "Name:" (continuations that lost their indentation).
    fields: list[HeaderField] = []
    pieces: list[str] = []
    misfolded = 0
    line_no = 1
    cur_name: str | None = None
    cur_parts: list[str] = []  # joined once per field: repeated concatenation is quadratic
    cur_line = 0
    for chunk in _CHUNK_SPLIT_RE.split("\n".join(region)):
        m = _looks_like_field(chunk)
        if m is None:
            if cur_name is None:  # pragma: no cover - the region starts with a field
                line_no += chunk.count("\n") + 1
                continue
            misfolded += 1
            cur_parts.append(_unfold(chunk))
            pieces.append("\t" + chunk)
        else:
            if cur_name is not None:
                value = " ".join(filter(None, cur_parts))
                fields.append(_new_field(len(fields), cur_name, value, cur_line))
            cur_name = m.group(1)
            cur_parts = [_unfold(chunk[m.end() :])]
            cur_line = line_no
            pieces.append(chunk)
        line_no += chunk.count("\n") + 1
    if cur_name is not None:
        value = " ".join(filter(None, cur_parts))
        fields.append(_new_field(len(fields), cur_name, value, cur_line))
    if misfolded:
        add(
            "input.misfolded",
            f"{misfolded} continuation line(s) had lost their indentation and were joined to the field above.",
        )
    text_out = "\n".join(pieces) + ("\n" if pieces else "")
    return HeaderBlock(
        fields=tuple(fields), defects=tuple(defects), has_body=has_body, text=text_out
    )


_CHUNK_SPLIT_RE = re.compile(r"\n(?![ \t])")


def _over_field_limit(text: str) -> bool:
    """More than MAX_FIELDS lines that start like a field before the first blank line
    (counted without splitting the text into lines; stops at MAX_FIELDS + 1)."""
    first_blank = text.find("\n\n")
    stop = len(text) if first_blank == -1 else first_blank
    starts = 0
    for _ in _FIELD_START_RE.finditer(text, 0, stop):
        starts += 1
        if starts > MAX_FIELDS:
            return True
    return False

MAX_FIELDS = 20_000  # header fields in one block; real ones have tens
_FIELD_START_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,200}[ \t]*:", re.MULTILINE)

# C0 control characters other than TAB and the line ends, and DEL.
_CONTROL_CHARS = "".join(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + "\x7f"
_DELETE_CONTROLS = str.maketrans("", "", _CONTROL_CHARS)
BINARY_WINDOW = 65536  # characters of the header region examined
BINARY_MIN_CONTROLS = 32  # a few escape sequences in a value are text, not binary


def _is_binary(lines: list[str], end: int, not_utf8: bool) -> bool:
    """True when the text up to the end of the header region (its first ``BINARY_WINDOW``
    characters) is more than one twentieth control characters, with at least
    ``BINARY_MIN_CONTROLS`` of them (4 when the bytes were not UTF-8 either).

    Text never holds that many (a header with a terminal escape sequence in its value has a
    handful); random bytes hold about one in nine and are never valid UTF-8. Bounded: one
    window, one pass."""
    size = 0
    parts: list[str] = []
    for line in lines[:end]:
        parts.append(line)
        size += len(line) + 1
        if size >= BINARY_WINDOW:
            break
    window = "\n".join(parts)[:BINARY_WINDOW]
    controls = len(window) - len(window.translate(_DELETE_CONTROLS))
    least = 4 if not_utf8 else BINARY_MIN_CONTROLS
    return controls >= least and controls * 20 > len(window)


def _unfold(text: str) -> str:
    """Folded text to one line: each line break and the white space around it become one space.

    (Split and join rather than a regex: ``[ \t]*\n`` searched over a long run of
    spaces backtracks quadratically.)"""
    if "\n" not in text:
        return text.strip()
    return " ".join(filter(None, [part.strip(" \t") for part in text.split("\n")]))


_SURROGATE_RE = re.compile("[" + chr(0xD800) + "-" + chr(0xDFFF) + "]")  # a compiled build takes no surrogate literal


def _has_surrogate(text: str) -> bool:
    return _SURROGATE_RE.search(text) is not None


def _strip_quote(line: str) -> str:
    s = line.lstrip(" \t")
    s = s[1:]
    if s[:1] == " ":
        s = s[1:]
    return s


def split_messages(data: bytes) -> list[bytes]:
    """Split an mbox file into messages; anything else comes back as one item.

    A message starts at a ``From `` line at the start of the data or after a blank
    line, when the next line looks like a header field. The ``From `` line stays
    with its message (normalise() drops it as leading junk).
    """
    if not data:
        return [data]
    lines = data.splitlines(keepends=True)
    starts: list[int] = []
    offset = 0
    prev_blank = True
    for i, line in enumerate(lines):
        if line.startswith(b"From ") and prev_blank:
            nxt = lines[i + 1] if i + 1 < len(lines) else b""
            text_next = nxt.decode("latin-1")
            if _looks_like_field(text_next) is not None:
                starts.append(offset)
        prev_blank = not line.strip()
        offset += len(line)
    if len(starts) <= 1:
        return [data]
    if starts[0] != 0 and data[: starts[0]].strip():
        starts.insert(0, 0)
    out: list[bytes] = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(data)
        out.append(data[s:e])
    return out
