"""Stage 3 of the Received reader: the from clause (client address, reverse name, HELO).

RFC 5321 §4.4 lets the receiver write, after ``from``, the name the client gave
in HELO/EHLO and then, in a comment ("TCP-info"), the address it connected from
and the name that address resolves to. Every MTA fills these positions its own
way. What each position means, per family (the authority is cited for each; the
example lines are written for this module, with documentation addresses):

Notation: **H** the name the client gave in HELO/EHLO/LHLO, **R** the name the
receiver found for the address by reverse DNS (its own lookup, not a claim), **A**
the client's address. A reverse name is only ever read from the position the MTA
reserves for it; an address literal standing there (``[192.0.2.1]``, or
``192.0.2.1``) is an address, never a reverse name. ``localhost`` written in the
R position is kept: the MTA looked it up (connections over loopback).

- **Postfix** (``src/smtpd/smtpd.c``, the Received header written at DATA; also
  ``postconf(5)`` ``smtpd_client_*``): ``from H (R [A])``. H falls back to R when
  the client sent no HELO; R is ``unknown`` when the lookup failed (read as no
  reverse name). Local submission through pickup(8): ``by host (Postfix, from
  userid N) id ...`` with no from clause: no connection.
  ``from helo.example (rdns.example [192.0.2.1]) by mx.example (Postfix) with ESMTPS id 4Ab...``
- **Exim** (the specification, chapter "Expansion variables", ``$sender_rcvhost``,
  and the default ``received_header_text``): ``from R ([A] helo=H)``; when there is
  no verified reverse name the first word is ``[A]`` itself and the port goes in
  the comment as ``port=N``; ``helo=`` is left out when H equals R or A (so the
  name is then both). ``ident=`` is the RFC 1413 answer. Without a remote host
  (``exim -t``, ``-bs`` from a local process) the header is ``from USER by host
  with local`` / ``local-esmtp``: the word after ``from`` is ``$sender_ident``, the
  submitting user: no connection; a HELO given over ``-bs`` is written as
  ``(helo=H)`` and kept. Captured: fixtures/headers/mta/exim/.
  ``from rdns.example ([192.0.2.1] helo=helo.example) by mx.example with esmtps ...``
- **Sendmail** (``cf/m4/proto.m4``, the ``HReceived:`` template, and the
  installation guide's macro table: ``$s`` the HELO name, ``$_`` the validated
  ``ident@R [A]``, with ``(may be forged)`` when R does not resolve back to A):
  ``from H (ident@R [A])``; when R is missing, ``from H ([A])``. Local submission
  by a user (the ``Submit`` configuration): ``(from user@localhost) by host
  (8.x/8.x/Submit) id ...``: the from clause is a comment holding ``$_``, a user
  name, no connection.
  ``from helo.example (user@rdns.example [192.0.2.1]) by mx.example (8.17.1/8.17.1) with ESMTP id ...``
- **OpenSMTPD** (``usr.sbin/smtpd/smtp_session.c``, where the message's Received
  line is begun): ``from H (R [A])``, R written ``<unknown>`` when the lookup found
  no name (read as no reverse name); for a message enqueued through the local
  socket A is the word ``local`` (``[local]``), which is no address. Captured:
  fixtures/headers/mta/opensmtpd/.
  ``from helo.example (rdns.example [192.0.2.1]) by mx.example (OpenSMTPD) with ESMTPS id 1a2b3c4d ...``
- **qmail** (``received.c`` of qmail 1.03, used by qmail-smtpd): ``from R (HELO H)
  (ident@A)``; R is ``$TCPREMOTEHOST`` (``unknown`` when tcpserver found none); the
  ``(HELO H)`` part is left out when H equals R. Local injection:
  ``(qmail N invoked by uid N)``, a comment alone: no connection.
  ``from rdns.example (HELO helo.example) (192.0.2.1) by mx.example with SMTP``
- **Microsoft** (Exchange Server / Exchange Online; no published grammar, the
  form is stable across the headers Microsoft's own message-trace documentation
  shows): ``from H (A) by ...`` or ``from H ([A])``: Exchange records no reverse
  name. ``with Microsoft SMTP Server`` identifies it.
  ``from helo.example (192.0.2.1) by mx.example (10.0.0.1) with Microsoft SMTP Server (version=TLS1_2, ...) id 15.20...``
- **Gmail** (no published grammar; every inbound hop of mx.google.com): ``from H
  (R. [A])``, R fully qualified with its final dot.
  ``from helo.example (rdns.example. [192.0.2.1]) by mx.google.com with ESMTPS id ...``
- **CommuniGate Pro** (no published grammar; the form its SMTP module writes, with
  the result of its DNS check of the client's name): ``from H ([A] verified)`` when the name was
  confirmed by DNS (then H is also the reverse name), ``([A] unverified)`` or
  ``([A] failed)`` otherwise (no reverse name).
  ``from helo.example ([192.0.2.1] verified) by mx.example (CommuniGate Pro SMTP 6.3) with ESMTPS id ...``
- **MDaemon** (no published grammar): ``from H by host (MDaemon ...) with ESMTP id
  md5...``: H only; the address goes to its own ``X-MDRemoteIP`` header, not read
  here, so the hop has no address.
  ``from helo.example by mx.example (MDaemon PRO v20) with ESMTPA id md50000000001.msg``
- **Haraka** (``connection.js``, the received header it builds: the HELO host, then
  ``remote.info``): ``from H (R [A])``, or ``from H ([A])`` without a reverse name.
  ``from helo.example (rdns.example [192.0.2.1]) by mx.example (Haraka/3.0.0) with ESMTPS id 1-2-3 ...``
- **Zimbra** (its MTA is Postfix, read as above; the mailbox server's LMTP handler,
  ``LmtpHandler``, writes ``from R (LHLO H) (A) by host with LMTP``, the qmail
  shape with LHLO): R is the remote host name the JVM resolved.
  ``from rdns.example (LHLO helo.example) (192.0.2.1) by mbox.example with LMTP``
- **dma** (DragonFly Mail Agent, ``mail.c``): ``from USER (uid N) (envelope-from
  ...) id ... by host (DragonFly Mail Agent ...)``: a local submission by a user,
  no connection.

A hop with no connection (the local submissions above) gets no client host from the
user's name (only a HELO the local client really gave, as with ``exim -bs``), no
address, no reverse name, and ``tls`` False: no connection was made, so none was
encrypted (:func:`no_connection`). Captures with the truth from each MTA's log:
fixtures/headers/mta/ (tests/parsers/test_mta_captures.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.model import Defect
from verifier.parsers.ip import V4_PORT_COLON as _V4_PORT_COLON
from verifier.parsers.ip import V4ISH as _V4ISH
from verifier.parsers.ip import looks_ip as _looks_ip
from verifier.parsers.ip import parse_ip
from verifier.parsers.received.tokens import BRACKET, COMMENT, QUOTED, WORD, Tok

# "NAME [a.b.c.d]" with NAME free of "@", ",", "=", brackets and parentheses, not a
# HELO keyword, and the address a canonical IPv4 one (what parse_ip returns unchanged)
_PLAIN_TCPINFO_RE = re.compile(
    r"(?!(?i:helo|ehlo|lhlo)\s)([^\s\[\]()@,=]{1,255}) \[((?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))\]"
)
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,253})")

# Words some MTAs put where the reverse name goes when there is none.
_NO_RDNS = frozenset({"unknown", "softdnserr", "harddnserr", "no-reverse-dns", "unverified"})


def _no_rdns(word: str) -> bool:
    """A word an MTA writes where the reverse name goes when it has none: ``unknown``
    (Postfix), ``<unknown>`` (OpenSMTPD), ``softdnserr``... (qmail variants)."""
    return word.lower().strip("<>") in _NO_RDNS


def _clean_host(word: str) -> str | None:
    w = word.strip().rstrip(";,")
    if w.endswith(".") and len(w) > 1:
        w = w[:-1]  # Gmail writes the reverse name fully qualified: "mail-x.google.com."
    return w or None


def _comment_words(text: str) -> list[str]:
    return text.split()


def _scan_helo(words: list[str]) -> tuple[bool, str | None, list[str]]:
    """Find ``HELO x``/``EHLO x``/``LHLO x``/``helo=x`` in comment words.

    Returns (found, value, remaining words). An empty HELO (qmail ``(HELO )``) is
    found with value None.
    """
    rest: list[str] = []
    found = False
    value: str | None = None
    i = 0
    while i < len(words):
        w = words[i]
        lw = w.lower()
        if lw in ("helo", "ehlo", "lhlo") and not found:
            found = True
            if i + 1 < len(words):
                value = words[i + 1].rstrip(",;") or None
                i += 2
            else:
                i += 1
            continue
        if lw.startswith("helo=") and not found:
            found = True
            value = w[5:].rstrip(",;") or None
            i += 1
            continue
        rest.append(w)
        i += 1
    return found, value, rest


@dataclass(slots=True)
class _FromInfo:
    host: str | None = None
    rdns: str | None = None
    ip: str | None = None
    ip_valid: bool | None = None
    ident: str | None = None


def analyse_from(
    toks: list[Tok], mta_hints: str, obtuse: bool, defects: list[Defect], header_index: int
) -> _FromInfo:
    """Interpret the tokens of the from clause (the keyword itself excluded)."""
    info = _FromInfo()
    name: str | None = None
    name_is_literal = False
    rest = toks
    if toks and toks[0].kind == WORD and toks[0].text not in (",", "("):
        name = toks[0].text.rstrip(",;")
        rest = toks[1:]
    elif toks and toks[0].kind == BRACKET:
        name = "[" + toks[0].text + "]"
        name_is_literal = True
        rest = toks[1:]

    helo_found = False
    helo: str | None = None
    # Candidate addresses, by priority: 0 bracketed in a comment, 1 bracketed after the
    # name, 2 unbracketed alone in a comment, 3 the name itself.
    cands: list[tuple[int, str, str, bool]] = []  # (priority, as written, address, valid)
    rdns_from_comment: str | None = None
    rdns_marker: str | None = None  # "verified", "helo=", "qmail"
    comment_count = 0
    exim3_helo: str | None = None
    claimed: str | None = None

    k = 0
    while k < len(rest):
        t = rest[k]
        if t.kind == COMMENT:
            comment_count += 1
            sm = _PLAIN_TCPINFO_RE.fullmatch(t.text)
            if sm is not None:
                # The commonest TCP-info, "(rdns.example [192.0.2.1])" (Postfix, OpenSMTPD,
                # Gmail, Haraka): what the general reading below gives for it.
                cand, inner = sm.groups()
                cands.append((0, inner, inner, True))
                if rdns_from_comment is None:
                    if not _no_rdns(cand) and not _looks_ip(cand):
                        rdns_from_comment = _clean_host(cand)
                    else:
                        rdns_from_comment = ""
                k += 1
                continue
            words = _comment_words(t.text)
            found, value, remain = _scan_helo(words)
            if found and not helo_found:
                helo_found, helo = True, value
                if any(w.lower().startswith("helo=") for w in words):
                    rdns_marker = rdns_marker or "helo="
            # bracketed address inside the comment (not the HELO value)
            joined = " ".join(remain)
            got_bracket = False
            pos = 0
            while True:
                a = joined.find("[", pos)
                if a == -1:
                    break
                b = joined.find("]", a + 1, a + 1 + 200)
                if b == -1:
                    break
                inner = joined[a + 1 : b]
                ip, valid = parse_ip(inner)
                if ip is not None:
                    cands.append((0, inner, ip, valid))
                    got_bracket = True
                    before = joined[:a].split()
                    if before and rdns_from_comment is None:
                        cand = before[-1]
                        if "@" in cand:  # Sendmail "(ident@host [ip])"
                            info.ident, cand = cand.rsplit("@", 1)
                        cand = cand.rstrip(",")
                        if not _no_rdns(cand) and not _looks_ip(cand) and cand:
                            rdns_from_comment = _clean_host(cand)
                        else:
                            rdns_from_comment = ""
                    after = joined[b + 1 :].lower()
                    # CommuniGate Pro: "([ip] verified)" means the name was checked.
                    if "unverified" in after or "failed" in after:
                        rdns_marker = "unverified"
                    elif "verified" in after and rdns_marker is None:
                        rdns_marker = "verified"
                    break
                pos = b + 1
            if not got_bracket and not found:
                stripped = t.text.strip()
                ip, valid = parse_ip(stripped) if " " not in stripped else (None, False)
                if ip is not None:
                    cands.append((2, stripped, ip, valid))
                    # qmail / CriticalPath write exactly "(ip)" or "(ident@ip)" after
                    # the reverse name; Scalix writes "( ip)" and XMail "(ip:port)".
                    if (
                        stripped == t.text
                        and _V4ISH.fullmatch(stripped.rsplit("@", 1)[-1])
                        and "microsoft" not in mta_hints
                    ):
                        rdns_marker = rdns_marker or "qmail"
                    elif _V4_PORT_COLON.fullmatch(stripped.rsplit("@", 1)[-1]):
                        rdns_marker = rdns_marker or "port"
                    if "@" in stripped:
                        info.ident = stripped.rsplit("@", 1)[0]
                elif (
                    # Exim 3: "from rdns (helo) [ip]": a comment holding one host name,
                    # followed by a bracketed literal outside it.
                    len(words) == 1
                    and _HOSTNAME_RE.fullmatch(words[0])
                    and k + 1 < len(rest)
                    and rest[k + 1].kind == BRACKET
                ):
                    exim3_helo = words[0]
            for w in remain:
                # Exim, RFC 1413 answer: "from rdns.example ([192.0.2.1] helo=x ident=alice)"
                if w.lower().startswith("ident="):
                    info.ident = w[6:].rstrip(",") or None
        elif t.kind == BRACKET:
            ip, valid = parse_ip(t.text)
            if ip is not None:
                cands.append((1, t.text, ip, valid))
        elif t.kind == WORD and t.text.lower() == "claiming":
            # Obtuse smtpd: 'from rdns(ip), claiming to be "helo" via SMTP by ...'
            j = k + 1
            while j < len(rest) and rest[j].kind == WORD and rest[j].text.lower() in ("to", "be"):
                j += 1
            if j < len(rest) and rest[j].kind in (QUOTED, WORD):
                claimed = rest[j].text.strip() or None
                k = j
        elif t.kind == WORD and t.text.lower().startswith("helo=") and not helo_found:
            helo_found, helo = True, t.text[5:] or None
        k += 1

    # The name itself as an address (bare IP or literal) when nothing better exists.
    name_ip: str | None = None
    if name is not None and (name_is_literal or ":" in name or _V4ISH.fullmatch(name)):
        ip, valid = parse_ip(name)
        if ip is not None:
            name_ip = name
            if not cands:
                cands.append((3, name_ip, ip, valid))

    best = min(cands, key=lambda c: c[0]) if cands else None
    if best is not None:
        ip, valid = best[2], best[3]
        info.ip = ip
        info.ip_valid = valid if ip is not None else None
        if ip is not None and not valid:
            defects.append(
                Defect(
                    "received.invalid-ip",
                    f"The client address {ip!r} is not a valid IP address; it is kept as written.",
                    header_index,
                )
            )

    # The name the client gave.
    if exim3_helo is not None and not helo_found:
        helo_found, helo = True, exim3_helo
    if claimed is not None and not helo_found:
        helo_found, helo = True, claimed
    if helo_found:
        info.host = helo
    elif name is not None and name.lower() != "unknown":
        if name_ip is not None and best is not None and best[1] == name_ip:
            # the name is the only address: an IP, not a HELO, unless it is an
            # address literal with no comment at all ("from [1.2.3.4] by ...").
            info.host = name if (name_is_literal and comment_count == 0) else None
        elif obtuse:
            info.host = None
        else:
            info.host = name
    # The reverse name the receiver recorded.
    name_is_host = (
        name is not None
        and not name_is_literal
        and name_ip is None
        and name.lower() not in _NO_RDNS
        and not name.startswith("[")
    )
    if rdns_from_comment is not None:
        info.rdns = rdns_from_comment or None
    elif name_is_host and (
        helo_found  # qmail/GMX "from rdns (HELO x)", Exim "from rdns ([ip] helo=x)"
        or rdns_marker in ("verified", "qmail")
        or obtuse
        or ("exim" in mta_hints and info.ip is not None)  # Exim omits helo= when it equals the name
    ):
        info.rdns = _clean_host(name) if name else None
    if rdns_marker == "unverified" and rdns_from_comment is None:
        # CommuniGate Pro: "from helo.example ([192.0.2.1] unverified) by ..."
        info.rdns = None
    if rdns_marker == "port" and not helo_found:
        # XMail: "from helo.example (192.0.2.1:4321) by ...": the name is the HELO only
        info.rdns = None
    return info


NO_FROM = _FromInfo()  # what analyse_from gives for an absent from clause; never changed


# ---------------------------------------------------------------- hops with no connection

# Postfix pickup(8): "by mx.example (Postfix, from userid 1000) id 4Ab..."
_USERID_RE = re.compile(r"(?:^|[\s,])from userid -?[0-9]{1,10}(?:$|[\s,])")
# dma: "from alice (uid 1000) (envelope-from alice@mx.example) id 1a.. by mx.example (...)"
_UID_RE = re.compile(r"uid -?[0-9]{1,10}")
# qmail-inject: "(qmail 4242 invoked by uid 1000)"
_QMAIL_UID_RE = re.compile(r"qmail [0-9]{1,10} invoked by uid -?[0-9]{1,10}")


def no_connection(
    proto: str | None, comments: list[str], from_toks: list[Tok], sendmail_local: bool
) -> bool:
    """True when the hop records a local submission: no network connection was made.

    By rule, from what each MTA writes for it (see the module docstring):
    Exim's ``with local`` / ``with local-esmtp`` (and the other ``local-*``
    protocols), Postfix pickup's ``(Postfix, from userid N)``, dma's ``(uid N)``
    after the user name, Sendmail's ``(from user@localhost)`` and qmail-inject's
    ``(qmail N invoked by uid N)``.
    """
    if sendmail_local:
        return True
    if proto is not None:
        p = proto.lower()
        if p == "local" or p.startswith("local-"):
            return True
    # the other marks are written in lower case and hold "userid" or "uid" (the from
    # clause's comments are among ``comments``)
    seen = False
    for c in comments:
        if "userid" in c:
            if _USERID_RE.search(c):
                return True
            continue
        if "uid" not in c:
            continue
        seen = True
        if c.startswith("qmail ") and _QMAIL_UID_RE.fullmatch(c.strip()):
            return True
    return seen and any(t.kind == COMMENT and _UID_RE.fullmatch(t.text.strip()) for t in from_toks)


def as_local(info: _FromInfo, from_toks: list[Tok]) -> _FromInfo:
    """The from clause of a hop with no connection: the word after ``from`` names
    the submitting user (Exim's ``$sender_ident``, dma's login name, Sendmail's
    ``user@localhost``), never a host, so it is dropped; a HELO the local client
    gave is kept (``exim -bs``: ``from alice (helo=ws.example)``). No address, no
    reverse name."""
    user = from_toks[0].text.rstrip(",;") if from_toks and from_toks[0].kind == WORD else None
    host = info.host if info.host != user else None
    return _FromInfo(host=host, rdns=None, ip=info.ip, ip_valid=info.ip_valid, ident=info.ident)
