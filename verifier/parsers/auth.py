"""Received-SPF (RFC 7208 §9.1) and Authentication-Results / ARC-Authentication-Results (RFC 8601).

Authentication-Results: the ``authres`` package (a recursive-descent RFC 8601
parser) is tried first. Measured on our samples it reads conformant headers
(Postfix/OpenDKIM, Gmail, ``mx.microsoft.com 1;``) correctly, but it

- rejects Microsoft's header without an authserv-id
  (``spf=pass (sender IP is ...) ...;compauth=pass reason=100``),
- rejects the ``i=N;`` prefix of ARC-Authentication-Results,
- drops every comment (``result_comment`` stays None), and with them the client
  address Microsoft and Google write there, and drops ``action=``.

So each header is also read by a lenient reader written here. When authres
accepts the header, its methods, results, reasons and properties are used and the
lenient reader only adds the comments and the non-standard properties it saw
(``action``...); ``strict`` is True. When authres rejects it, the lenient reading
is used, ``strict`` is False and a Defect ``auth.non-conformant`` says why.

Defects (``AuthResults.defects``): ``auth.non-conformant`` (only the lenient reader
could read it), ``auth.no-authserv-id``, ``auth.no-instance`` (an ARC header without
``i=``), ``auth.malformed`` (a part that is not ``method=result``),
``auth.unbalanced`` (a ``(`` that nothing closes), ``auth.truncated``.

Cost: authres takes about 0.4 ms for a typical header, several times the lenient
reader; it is skipped when the header does not start with an authserv-id (it
would reject it anyway), and when the header is in a plain subset of the RFC 8601
grammar (``_CONFORMS``: one-word values, unnested comments, no "none") that authres
is known to accept and to read as the lenient reader does; then its reading is
derived from the lenient one (two thirds of the corpus headers take this path).

Bounds: one pass over the value by the parsers' shared lexer
(:mod:`verifier.parsers.lexer`: parentheses matched with an explicit stack);
at most :data:`MAX_RESINFO` method results and :data:`MAX_PROPS` properties per
result are kept (``auth.truncated``). Header values longer than
:data:`MAX_STRICT_CHARS` skip the authres pass (about 5 ms per 1,000
characters there, linear but slow; such a header is read leniently and flagged).
"""

from __future__ import annotations

import re

from verifier.model import AuthResults, Defect, MethodResult, SpfResult
from verifier.parsers.ip import parse_ip
from verifier.parsers.lexer import COMMENT, QUOTED, WORD, lex, lex_plain, unquote

__all__ = [
    "parse_received_spf",
    "parse_authentication_results",
    "spf_results_from_ar",
    "MAX_RESINFO",
    "MAX_PROPS",
    "MAX_STRICT_CHARS",
]

MAX_RESINFO = 64
MAX_PROPS = 32
MAX_STRICT_CHARS = 8192

_SPF_RESULTS = frozenset(
    {
        "pass",
        "fail",
        "softfail",
        "neutral",
        "none",
        "temperror",
        "permerror",
        "error",
        "unknown",
        "policy",
    }
)
_IP_IN_COMMENT = [
    re.compile(r"designates\s+([0-9A-Fa-f:.]{2,64})\s+as\s+permitted", re.IGNORECASE),
    re.compile(r"sender\s+ip\s+is\s+([0-9A-Fa-f:.]{2,64})", re.IGNORECASE),
    re.compile(r"client-ip[=:\s]{1,3}([0-9A-Fa-f:.]{2,64})", re.IGNORECASE),
    re.compile(r"(?:from|by|of)\s+\[?([0-9]{1,3}(?:\.[0-9]{1,3}){3})\]?", re.IGNORECASE),
]
_DOMAIN_IN_COMMENT = re.compile(
    r"domain\s+of\s+(?:[^\s@()]{1,256}@)?([A-Za-z0-9][A-Za-z0-9.\-]{0,252})"
    r"|:\s+([A-Za-z0-9][A-Za-z0-9.\-]{0,252}\.[A-Za-z]{2,63})\s+does\s+not\s+designate",
    re.IGNORECASE,
)
_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,64}")
_AAR_PREFIX = re.compile(r"\s*i\s*=\s*([0-9]{1,6})\s*;")

# A plain-shaped Authentication-Results value (RFC 8601 §2.2, a conservative subset of
# its grammar): every header matching it is accepted by authres, which reads it exactly
# as the lenient reader does, so authres need not run (tests/parsers/test_auth_fast.py
# checks the agreement). Comments are not nested and hold no quoted-pair, and at most
# one stands between two tokens (authres's CFWS loop stops after one comment once it
# has consumed white space), none before the authserv-id; values are single words;
# "none", method versions and folding are left to authres; at most MAX_RESINFO results
# of at most MAX_PROPS - 1 properties each, so that neither reader truncates. Linear:
# each repeated part starts with a character the part before it cannot end with, so
# there is one way to match at each position.
_C_WSP = r"[ \t]*(?:\([ \x21-\x27\x2a-\x5b\x5d-\x7e]*\)[ \t]*)?"
_C_END = r"(?=[ \t;(]|\Z)"
_C_PTEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]"
_C_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_C_QUOTED = r'"[\x21\x23-\x27\x2a-\x5b\x5d-\x7e](?:[ \x21\x23-\x27\x2a-\x5b\x5d-\x7e]*[\x21\x23-\x27\x2a-\x5b\x5d-\x7e])?"'
# authres keeps a quoted property value only when it ends its resinfo.
_C_PVALUE = (
    rf"(?:@{_C_ATEXT}+(?:\.{_C_ATEXT}+)*{_C_END}|[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{_C_PTEXT}*{_C_END}"
    rf"|{_C_QUOTED}(?={_C_WSP}(?:;|\Z)))"
)
# RFC 8601 puts white space between a reason and the properties after it.
_C_REASON = r"reason=(?:[A-Za-z0-9!#$%&'*+.^_`{|}~-]+|" + _C_QUOTED + ")" + _C_END
_C_PROP = (
    r"(?:(?i:smtp|header|body|policy)\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
    r"|(?!(?i:smtp|header|body|policy|reason))[A-Za-z][A-Za-z0-9_-]*)=" + _C_PVALUE
)
_C_RESINFO = (
    r"(?!(?i:none))(?!(?i:smime)=)[A-Za-z][A-Za-z0-9_-]{0,63}=[A-Za-z0-9_-]+"
    + _C_END
    + "(?:"
    + _C_WSP
    + _C_REASON
    + ")?"
    + "(?:"
    + _C_WSP
    + _C_PROP
    + ")"
    + f"{{0,{MAX_PROPS - 1}}}"
)
_CONFORMS = re.compile(
    r"[ \t]*[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
    + _C_END
    + r"(?:"
    + _C_WSP
    + r"1"
    + _C_END
    + r")?"
    + r"(?:"
    + _C_WSP
    + r";"
    + _C_WSP
    + _C_RESINFO
    + r")"
    + f"{{1,{MAX_RESINFO}}}"
    + _C_WSP
)
_STRICT_PTYPES = ("smtp.", "header.", "body.", "policy.")


# ------------------------------------------------------------------ segments


def _segments(value: str) -> tuple[list[list[tuple[str, str]]], bool]:
    """Split into ``;``-separated segments of (kind, text) tokens.

    kind is "w" (a word; a quoted string is part of the word it touches, its quotes
    removed and its quoted-pairs resolved) or "c" (comment text). Returns the
    segments and whether a ``(`` was left unclosed. The shared lexer
    (:mod:`verifier.parsers.lexer`) reads the value, with ``[ ] < >`` as ordinary
    characters; its rules for an unmatched ``(`` (an ordinary character), a stray
    ``)`` (dropped) and backslashes apply.
    """
    plain = lex_plain(value)
    if plain is not None:
        # no quotes and no stray ")": every word is whole, nothing is left open
        psegs: list[list[tuple[str, str]]] = [[]]
        pseg = psegs[0]
        for kind, text in plain:
            if kind == WORD:
                pseg.append(("w", text))
            elif kind == COMMENT:
                pseg.append(("c", text.strip()))
            else:
                pseg = []
                psegs.append(pseg)
        return [s for s in psegs if s], False
    toks, _depth, _cut = lex(value, brackets=False)
    segs: list[list[tuple[str, str]]] = [[]]
    seg = segs[0]
    buf: list[str] = []
    prev_end = -1
    unbalanced = False
    for t in toks:
        kind = t.kind
        if kind == WORD or kind == QUOTED:
            start = t.start
            # a word part joins the one before it when nothing but stray ")" stands between
            if buf and prev_end != start and value.count(")", prev_end, start) != start - prev_end:
                seg.append(("w", "".join(buf)))
                buf.clear()
            text = t.text
            if kind == QUOTED:
                buf.append(unquote(text) if "\\" in text else text)
            else:
                if text[0] == "(":
                    unbalanced = True
                buf.append(text)
            prev_end = t.end
            continue
        if buf:
            seg.append(("w", "".join(buf)))
            buf.clear()
        if kind == COMMENT:
            seg.append(("c", t.text.strip()))
        else:  # SEMI
            seg = []
            segs.append(seg)
    if buf:
        seg.append(("w", "".join(buf)))
    return [s for s in segs if s], unbalanced


def _split_kv(word: str) -> tuple[str, str] | None:
    if "=" not in word:
        return None
    k, v = word.split("=", 1)
    k = k.strip()
    if not k:
        return None
    return k, v.strip()


# ------------------------------------------------------------------ Received-SPF


def parse_received_spf(value: str, header_index: int) -> SpfResult:
    """Read a Received-SPF value. Never raises.

    ``domain`` is the envelope-from's domain; without one, the domain the comment
    names ("domain of example.com designates ..."), and only then the HELO name.
    """
    segs, _unb = _segments(value)
    result: str | None = None
    comment: str | None = None
    pairs: dict[str, str] = {}
    for seg in segs:
        for kind, text in seg:
            if kind == "c":
                if comment is None:
                    comment = text
                continue
            kv = _split_kv(text)
            if kv is not None:
                pairs.setdefault(kv[0].lower(), kv[1])
            elif result is None:
                result = text.lower()
    result = result or "none"
    client_ip = pairs.get("client-ip") or None
    if client_ip is None and comment:
        client_ip = _ip_from_comment(comment)
    envelope_from = pairs.get("envelope-from") or None
    if envelope_from is not None:
        envelope_from = envelope_from.strip("<>") or None
    helo = pairs.get("helo") or None
    identity = pairs.get("identity") or None
    domain = _domain_of(envelope_from)
    if domain is None and comment and (identity or "").lower() != "helo":
        # Microsoft and Google name the checked domain only in the comment:
        # "(protection.outlook.com: domain of example.com designates 192.0.2.1 as ...)"
        m = _DOMAIN_IN_COMMENT.search(comment[:1024])
        if m:
            domain = (m.group(1) or m.group(2)).lower().rstrip(".")
    if domain is None and helo:
        domain = helo.lower().rstrip(".")
    return SpfResult(
        header_index=header_index,
        source="received-spf",
        result=result,
        client_ip=client_ip,
        domain=domain,
        envelope_from=envelope_from,
        helo=helo,
        receiver=pairs.get("receiver") or None,
        identity=identity.lower() if identity else None,
    )


def _domain_of(addr: str | None) -> str | None:
    if not addr:
        return None
    if "@" in addr:
        d = addr.rsplit("@", 1)[1]
    else:
        d = addr
    d = d.strip().strip("<>").rstrip(".").lower()
    return d or None


def _ip_from_comment(comment: str) -> str | None:
    text = comment[:1024]
    for rx in _IP_IN_COMMENT:
        m = rx.search(text)
        if m:
            ip, _valid = parse_ip(m.group(1).rstrip("."))
            if ip is not None:
                return ip
    return None


# ------------------------------------------------------------------ Authentication-Results


def _lenient(
    value: str, header_index: int, defects: list[Defect]
) -> tuple[str | None, str | None, list[MethodResult]]:
    segs, unbalanced = _segments(value)
    if unbalanced:
        defects.append(
            Defect("auth.unbalanced", "A comment in the header is not closed.", header_index)
        )
    authserv_id: str | None = None
    version: str | None = None
    results: list[MethodResult] = []
    if not segs:
        return None, None, []
    first = segs[0]
    words = [t for k, t in first if k == "w"]
    if words and "=" not in words[0]:
        authserv_id = words[0]
        if len(words) > 1 and words[1].isdigit():
            version = words[1]
        segs = segs[1:]
    truncated = False
    for seg in segs:
        if len(results) >= MAX_RESINFO:
            truncated = True
            break
        ws = [(k, t) for k, t in seg]
        if not ws:
            continue
        if len(ws) == 1 and ws[0] == ("w", "none"):
            continue
        if len(ws) == 1 and ws[0][0] == "w" and "=" not in ws[0][1] and "." in ws[0][1]:
            # Microsoft (Exchange Online, older format) writes its authserv-id after
            # the first result: "spf=pass (...) smtp.mailfrom=x; tenant.example; dkim=..."
            if authserv_id is None:
                authserv_id = ws[0][1]
            continue
        method = result = None
        reason: str | None = None
        props: dict[str, str] = {}
        comments: list[str] = []
        for kind, text in ws:
            if kind == "c":
                comments.append(text)
                continue
            kv = _split_kv(text)
            if kv is None:
                continue
            k, v = kv
            if method is None:
                method = k.split("/", 1)[0].lower()
                result = v.lower()
                continue
            if k.lower() == "reason":
                reason = v
                continue
            if len(props) < MAX_PROPS:
                props[k.lower()] = v
            else:
                truncated = True
        if method is None or not _KEY_RE.fullmatch(method):
            defects.append(
                Defect(
                    "auth.malformed",
                    f"A part of the header could not be read: {_seg_text(ws)[:80]!r}.",
                    header_index,
                )
            )
            continue
        results.append(
            MethodResult(
                method=method,
                result=result or "",
                reason=reason,
                properties=props,
                comment="; ".join(comments) if comments else None,
            )
        )
    if authserv_id is None and results:
        defects.append(
            Defect(
                "auth.no-authserv-id",
                "The header does not start with the name of the server that wrote it (authserv-id).",
                header_index,
            )
        )
    if truncated:
        defects.append(
            Defect(
                "auth.truncated",
                "The header is too long; only its first results were kept.",
                header_index,
            )
        )
    return authserv_id, version, results


def _seg_text(ws: list[tuple[str, str]]) -> str:
    return " ".join(f"({t})" if k == "c" else t for k, t in ws)


def _strict(value: str) -> tuple[str | None, str | None, list[MethodResult]] | str:
    """Parse with authres; returns (authserv_id, version, results) or an error sentence."""
    if len(value) > MAX_STRICT_CHARS:
        return "the header is too long for the strict parser"
    try:
        import authres  # type: ignore[import-untyped]

        parsed = authres.all_features().parse_value(value)
    except Exception as exc:  # authres raises SyntaxError and others on bad input
        msg = str(exc).split(" at:", 1)[0].strip()
        return msg or type(exc).__name__
    out: list[MethodResult] = []
    for r in getattr(parsed, "results", [])[:MAX_RESINFO]:
        if not hasattr(r, "method"):
            # authres reads "none" after real results as a no-result entry; RFC 8601 allows
            # "none" only alone, so such a header is not conformant.
            return "'none' stands among results"
        props: dict[str, str] = {}
        for p in getattr(r, "properties", [])[:MAX_PROPS]:
            props[f"{p.type}.{p.name}".lower()] = "" if p.value is None else str(p.value)
        out.append(
            MethodResult(
                method=str(r.method).lower(),
                result=str(r.result).lower() if r.result is not None else "",
                reason=str(r.reason) if r.reason is not None else None,
                properties=props,
                comment=None,
            )
        )
    version = getattr(parsed, "version", None)
    return getattr(parsed, "authserv_id", None), str(version) if version is not None else None, out


def _plain_conformant(body: str) -> bool:
    """True when ``body`` is in the plain subset of RFC 8601 that authres reads as the
    lenient reader does (see :data:`_CONFORMS`); False says nothing either way."""
    return len(body) <= MAX_STRICT_CHARS and _CONFORMS.fullmatch(body) is not None


def _strict_from_lenient(
    l_id: str, l_version: str | None, l_results: list[MethodResult]
) -> tuple[str, str | None, list[MethodResult]]:
    """What authres returns for a header :func:`_plain_conformant` accepts: the lenient
    reading with the authserv-id lower-cased, only ``ptype.property`` properties (in
    header order) and no comments."""
    out = [
        MethodResult(
            method=r.method,
            result=r.result,
            reason=r.reason,
            properties={k: v for k, v in r.properties.items() if k.startswith(_STRICT_PTYPES)},
            comment=None,
        )
        for r in l_results
    ]
    return l_id.lower(), l_version, out


def parse_authentication_results(
    value: str, header_index: int, kind: str = "authentication-results"
) -> AuthResults:
    """Read an Authentication-Results or ARC-Authentication-Results value. Never raises."""
    defects: list[Defect] = []
    arc_instance: int | None = None
    body = value
    if kind == "arc-authentication-results":
        m = _AAR_PREFIX.match(value)
        if m:
            arc_instance = int(m.group(1))
            body = value[m.end() :]
        else:
            defects.append(
                Defect(
                    "auth.no-instance", "The ARC header has no i= instance number.", header_index
                )
            )
    lenient_defects: list[Defect] = []
    l_id, l_version, l_results = _lenient(body, header_index, lenient_defects)
    # RFC 8601 requires the authserv-id first; when the lenient reader found none there,
    # authres would reject the header too, so its (costly) pass is skipped.
    first_word = body.lstrip().split(None, 1)[0] if body.strip() else ""
    if l_id is None or "=" in first_word.split(";", 1)[0]:
        strict: tuple[str | None, str | None, list[MethodResult]] | str = "no authserv-id first"
    elif _plain_conformant(body):
        strict = _strict_from_lenient(l_id, l_version, l_results)
    else:
        strict = _strict(body)
    if isinstance(strict, str):
        defects.extend(lenient_defects)
        defects.append(
            Defect(
                "auth.non-conformant",
                f"The header does not follow RFC 8601 ({strict}); it was read leniently.",
                header_index,
            )
        )
        return AuthResults(
            header_index=header_index,
            kind=kind,
            authserv_id=l_id,
            results=tuple(l_results),
            version=l_version,
            arc_instance=arc_instance,
            strict=False,
            defects=tuple(defects),
        )
    s_id, s_version, s_results = strict
    merged: list[MethodResult] = []
    for idx, r in enumerate(s_results):
        lr = l_results[idx] if idx < len(l_results) and l_results[idx].method == r.method else None
        if lr is not None:
            props = dict(r.properties)
            for k, v in lr.properties.items():
                props.setdefault(k, v)
            merged.append(
                MethodResult(
                    method=r.method,
                    result=r.result,
                    reason=r.reason if r.reason is not None else lr.reason,
                    properties=props,
                    comment=lr.comment,
                )
            )
        else:
            merged.append(r)
    defects.extend(d for d in lenient_defects if d.code != "auth.unbalanced")
    return AuthResults(
        header_index=header_index,
        kind=kind,
        authserv_id=s_id or l_id,
        results=tuple(merged),
        version=s_version or l_version,
        arc_instance=arc_instance,
        strict=True,
        defects=tuple(defects),
    )


def spf_results_from_ar(ar: AuthResults) -> list[SpfResult]:
    """The spf= results of one Authentication-Results header, as SpfResult."""
    iprev_ip: str | None = None
    for r in ar.results:
        if r.method == "iprev":
            v = r.properties.get("policy.iprev") or r.properties.get("smtp.remote-ip")
            if v:
                ip, _valid = parse_ip(v)
                iprev_ip = ip or v
    out: list[SpfResult] = []
    for r in ar.results:
        if r.method != "spf":
            continue
        mailfrom = r.properties.get("smtp.mailfrom") or None
        helo = r.properties.get("smtp.helo") or None
        client_ip = None
        for key in ("smtp.client-ip", "smtp.remote-ip", "policy.client-ip"):
            if r.properties.get(key):
                client_ip = r.properties[key]
                break
        if client_ip is None and r.comment:
            client_ip = _ip_from_comment(r.comment)
        if client_ip is None:
            client_ip = iprev_ip
        if mailfrom and mailfrom.strip("<>"):
            domain = _domain_of(mailfrom)
            identity = "mailfrom"
        elif helo:
            domain = _domain_of(helo)
            identity = "helo"
        else:
            domain, identity = None, None
        out.append(
            SpfResult(
                header_index=ar.header_index,
                source="authentication-results",
                result=r.result,
                client_ip=client_ip,
                domain=domain,
                envelope_from=mailfrom.strip("<>") if mailfrom else None,
                helo=helo,
                receiver=None,
                identity=identity,
                authserv_id=ar.authserv_id,
            )
        )
    return out
