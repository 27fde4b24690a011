"""Stage 4 of the Received reader: the protocol, TLS and authentication.

``with`` names the protocol (RFC 5321 §4.4, RFC 3848 registers ESMTPS, ESMTPA,
ESMTPSA and the LMTP/UTF8 forms); TLS details and authentication are also read
from the comments, in the shapes each MTA writes them (named at each branch).
A protocol in the plain list means no TLS (``tls`` False); one the reader does not
know leaves it unknown (None).
"""

from __future__ import annotations

from verifier.parsers.received.tokens import BRACKET, COMMENT, WORD, Tok

# RFC 3848 protocol types (and the common lower-case/legacy spellings).
_TLS_PROTOS = frozenset(
    {"ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA",
     "SMTPS", "HTTPS", "SMTPSA"}
)  # fmt: skip
_PLAIN_PROTOS = frozenset(
    {"SMTP", "ESMTP", "LMTP", "ESMTPA", "LMTPA", "UTF8SMTP", "UTF8SMTPA", "UTF8LMTP", "UTF8LMTPA",
     "ASMTP"}  # Exim's older name for authenticated SMTP without TLS
)  # fmt: skip
_AUTH_PROTOS = frozenset(
    {"ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA", "UTF8SMTPA", "UTF8SMTPSA", "UTF8LMTPA", "UTF8LMTPSA",
     "SMTPSA", "ASMTP"}
)  # fmt: skip
_KNOWN_PROTOS = (
    _TLS_PROTOS
    | _PLAIN_PROTOS
    | _AUTH_PROTOS
    | frozenset(
        {
            "HTTP",
            "HTTPU",
            "HTTPREST",
            "LOCAL",
            "IMAP",
            "POP3",
            "MAPI",
            "TCP",
            "QMQP",
            "ECSTREAM",
            "UUCP",
            "TLS",
        }
    )
)


def detect_tls(
    with_toks: list[Tok], all_comments: list[str], proto: str | None
) -> tuple[bool | None, str | None]:
    detail: str | None = None
    # Postfix: "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) ...)"
    for c in all_comments:
        lc = c.lower()
        if lc.startswith("using tls") or lc.startswith("using ssl"):
            cut = c.find("(")
            return True, c[6 : cut if cut != -1 else len(c)].strip()
        # Microsoft Exchange / Sendmail: "(version=TLS1_2, cipher=...)", "(version=TLSv1/SSLv3 cipher=...)"
        if lc.startswith("version=") and ("tls" in lc or "ssl" in lc):
            return True, c.strip()
        # Courier: "(AUTH: LOGIN x, SSL: TLSv1/SSLv3,128bits,RC4-MD5)"
        if "ssl: " in lc or "tls: " in lc:
            idx = lc.find("ssl: ") if "ssl: " in lc else lc.find("tls: ")
            return True, c[idx + 5 :].strip()
    # Tokens of the with clause: qmail's TLS patch writes "with AES256-GCM-SHA384 encrypted SMTP"
    # or "with (DHE-RSA-AES256-SHA encrypted) SMTP"; Exim 4.92+ "with esmtps (TLS1.3) tls CIPHER";
    # older Exim "with esmtps (TLSv1:AES256-SHA:256)"; Exchange 2010 "(TLS)".
    words: list[str] = []
    for t in with_toks:
        if t.kind == COMMENT:
            lc = t.text.lower().strip()
            if lc.endswith(" encrypted"):
                return True, t.text.strip()[: -len(" encrypted")]
            if lc.startswith(("tls", "ssl")) and "exim" not in lc:
                detail = detail or t.text.strip()
        elif t.kind == WORD:
            words.append(t.text)
    for i, w in enumerate(words):
        if w.lower() == "encrypted" and i > 0:
            return True, words[i - 1]
        if w.lower() == "tls" and i + 1 < len(words) and i > 0:
            extra = words[i + 1]
            detail = f"{detail} {extra}" if detail else extra
    p = (proto or "").upper()
    if detail:
        return True, detail
    if p in _TLS_PROTOS:
        return True, proto
    if p in _PLAIN_PROTOS:
        return False, None
    return None, None


def detect_auth(proto: str | None, all_comments: list[str]) -> bool:
    if proto and proto.upper() in _AUTH_PROTOS:
        return True
    for c in all_comments:
        lc = c.lower()
        if (
            "authenticated sender:" in lc  # Postfix
            or "authenticated bits" in lc  # Sendmail
            or lc.startswith("authenticated (")  # Sendmail (older)
            or lc.startswith("auth: ")  # Courier
            or "authenticated as" in lc  # CriticalPath, qmail-smtpd-auth
            or "authenticated user" in lc  # SquirrelMail, NaSMail
            or lc.startswith("account ")  # CommuniGate Pro
        ):
            return True
    return False


def protocol(with_toks: list[Tok]) -> str | None:
    """The protocol named by the with clause."""
    words: list[str] = []
    for t in with_toks:
        if t.kind == WORD:
            w = t.text.rstrip(";,")
            if w.lower() == "encrypted":
                words = []  # qmail TLS patch: "with CIPHER encrypted SMTP"
                continue
            if words and w.lower() == "tls":
                break
            words.append(w)
            if len(words) == 1 and w.upper() in _KNOWN_PROTOS:
                break
            if len(words) >= 6:
                break
        elif t.kind == BRACKET:  # XMail: "with [XMail 1.20 ESMTP Server]"
            if not words:
                return t.text.strip() or None
            break
        elif t.kind == COMMENT:
            if words:
                break
    return " ".join(words) or None
