"""DKIM (RFC 6376) and ARC (RFC 8617) verification with dkimpy, keys fetched through our resolver.

dkimpy asks for keys through a synchronous ``dnsfunc(name, timeout=5) -> bytes``.
We never let it reach the network: the key names of every signature (and of
every ARC-Seal and ARC-Message-Signature) are read from the message first, the
TXT records are fetched concurrently through the injected asynchronous resolver,
and dkimpy then verifies with a ``dnsfunc`` that only serves those prefetched
answers. The CPU-bound verification runs in a worker thread.

Every DKIM-Signature is verified, not only the first. Each gets one result:

* ``pass``: the body hash and the header signature verify;
* ``fail``: the body hash does not match, the signature does not verify, or it has expired;
* ``neutral``: the signature cannot be processed (tag syntax, a missing or
  invalid tag, an unsupported algorithm, an invalid d=), as RFC 8601 §2.7.1 says;
* ``permerror``: the key record is absent, malformed, revoked, unsuitable (an
  unknown k=, a key for TLS reports only) or too small;
* ``temperror``: the key could not be fetched because of a temporary DNS failure;
* ``header-only``: only the header was available, and the header signature
  (b=) verifies with the body hash (bh=) left unchecked. This is never a pass:
  the body may have been changed. dkimpy has no public call for this; we drop
  ``bh`` from the parsed tags before its internal ``verify_sig`` (the header
  hash still covers the signature header with its bh= value), which is why
  dkimpy is pinned to 1.1.x.

At most :data:`MAX_SIGNATURES` signatures are verified; the rest are reported as
``neutral`` without a lookup. A header block dkimpy cannot read gives one
``neutral`` result per DKIM-Signature field, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from verifier.checks.dns import DnsTemporaryError, Resolver, normalise_name
from verifier.errors import NetworkError

PASS, FAIL, NEUTRAL, PERMERROR, TEMPERROR, HEADER_ONLY = (
    "pass",
    "fail",
    "neutral",
    "permerror",
    "temperror",
    "header-only",
)
HEADER_ONLY_REASON = "header signature valid, body not checked"

#: Signatures beyond this many are reported, not verified: a message with
#: thousands of DKIM-Signature fields must not cost thousands of DNS lookups.
MAX_SIGNATURES = 50


@dataclass(frozen=True, slots=True)
class DkimVerification:
    """The verification of one DKIM-Signature; ``index`` 0 is the topmost signature."""

    index: int
    d: str | None
    s: str | None
    a: str | None
    result: str
    reason: str  # one sentence
    i: str | None = None
    body_checked: bool = True
    key_name: str | None = None

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "d": self.d,
            "s": self.s,
            "a": self.a,
            "i": self.i,
            "result": self.result,
            "reason": self.reason,
            "body_checked": self.body_checked,
            "key_name": self.key_name,
        }


@dataclass(frozen=True, slots=True)
class ArcInstance:
    instance: int
    ams_domain: str | None
    ams_selector: str | None
    ams_valid: bool
    as_domain: str | None
    as_selector: str | None
    as_valid: bool
    cv: str | None  # the cv= the seal claims


@dataclass(frozen=True, slots=True)
class ArcVerification:
    """The chain validation status of an ARC chain (RFC 8617 §5.2)."""

    cv: str  # none | pass | fail, as dkimpy computes it
    result: str  # cv, or temperror when a key lookup failed temporarily
    reason: str
    instances: tuple[ArcInstance, ...] = ()
    body_checked: bool = True

    def to_json(self) -> dict:
        return {
            "cv": self.cv,
            "result": self.result,
            "reason": self.reason,
            "body_checked": self.body_checked,
            "instances": [
                {
                    "instance": x.instance,
                    "ams": {"d": x.ams_domain, "s": x.ams_selector, "valid": x.ams_valid},
                    "as": {"d": x.as_domain, "s": x.as_selector, "valid": x.as_valid},
                    "cv": x.cv,
                }
                for x in self.instances
            ],
        }


# --------------------------------------------------------------------------- dkimpy glue


class _HeadersOnly:
    """Mixin: with ``headers_only`` set, verify b= without the body hash."""

    headers_only = False

    def verify_sig(self, sig, include_headers, sig_header, dnsfunc):
        if self.headers_only:
            sig = {k: v for k, v in sig.items() if k != b"bh"}
        return super().verify_sig(sig, include_headers, sig_header, dnsfunc)


class _DKIM(_HeadersOnly, dkim.DKIM):
    pass


class _ARC(_HeadersOnly, dkim.ARC):
    pass


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _logger() -> tuple[logging.Logger, _ListHandler]:
    """A logger of our own, not in the logging tree: dkimpy's errors become reasons, not output."""
    log = logging.Logger("verifier.checks.dkimpy")
    handler = _ListHandler()
    log.addHandler(handler)
    log.propagate = False
    return log, handler


class _Keys:
    """Prefetched TXT answers by key name, served to dkimpy synchronously."""

    def __init__(self) -> None:
        self.answers: dict[str, list[bytes]] = {}
        self.temporary: dict[str, str] = {}

    async def fetch(self, names: set[str], resolver: Resolver) -> None:
        todo = sorted(n for n in names if n not in self.answers and n not in self.temporary)

        async def one(name: str) -> None:
            try:
                self.answers[name] = list(await resolver.txt(name))
            except (DnsTemporaryError, NetworkError) as exc:
                self.temporary[name] = str(exc)

        await asyncio.gather(*(one(n) for n in todo))

    def record(self, name: str) -> bytes | None:
        """The key record at ``name``: the first TXT record that looks like a DKIM key."""
        answers = self.answers.get(normalise_name(name)) or []
        for a in answers:
            if a.lstrip().startswith(b"v=DKIM1"):
                return a
        return answers[0] if answers else None

    def dnsfunc(self, name, timeout=5):
        key = normalise_name(name)
        if key in self.temporary:
            raise dkim.DnsTimeoutError(self.temporary[key])
        return self.record(key)


def _text(b: bytes | None) -> str | None:
    if b is None:
        return None
    return re.sub(rb"\s+", b"", b).decode("ascii", "replace")


def _key_name(sig: dict) -> str | None:
    try:
        return normalise_name(sig[b"s"] + b"._domainkey." + sig[b"d"])
    except KeyError:
        return None


def _split(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    try:
        return dkim.rfc822_parse(message)
    except dkim.DKIMException:
        return [], b""


def has_body_separator(message: bytes) -> bool:
    """Does the message have the empty line that separates its header from its body?"""
    m = message.replace(b"\r\n", b"\n")
    return b"\n\n" in m or m.startswith(b"\n")


# --------------------------------------------------------------------------- DKIM


async def verify_dkim(message: bytes, resolver: Resolver, *, headers_only: bool | None = None) -> tuple[DkimVerification, ...]:
    """Verify every DKIM-Signature of ``message`` (bytes, LF or CRLF line ends).

    ``headers_only``: the message has no body to check; None means "when the
    message has no header/body separator".
    """
    if headers_only is None:
        headers_only = not has_body_separator(message)
    try:
        headers, _body = dkim.rfc822_parse(message)
    except dkim.DKIMException as exc:
        # dkimpy cannot read this header block at all: say so for every signature in it.
        count = len(re.findall(rb"(?im)^dkim-signature[ \t]*:", message.split(b"\n\n", 1)[0].replace(b"\r", b"")))
        why = f"The header cannot be read for DKIM verification ({exc})."
        return tuple(
            DkimVerification(index=i, d=None, s=None, a=None, result=NEUTRAL, reason=why, body_checked=not headers_only)
            for i in range(count)
        )
    sig_headers = [(n, v) for n, v in headers if n.lower() == b"dkim-signature"]
    parsed: list[tuple[dict | None, str | None]] = []
    names: set[str] = set()
    for n, (_n, v) in enumerate(sig_headers):
        if n >= MAX_SIGNATURES:
            parsed.append((None, f"Not verified: the message carries more than {MAX_SIGNATURES} DKIM signatures."))
            continue
        try:
            sig = parse_tag_value(v)
        except InvalidTagValueList as exc:
            parsed.append((None, f"The signature's tag list cannot be read ({exc})."))
            continue
        try:
            dkim.validate_signature_fields(sig)
        except dkim.ValidationError as exc:
            parsed.append((sig, str(exc)))
            continue
        parsed.append((sig, None))
        name = _key_name(sig)
        if name:
            names.add(name)
    keys = _Keys()
    await keys.fetch(names, resolver)
    return tuple(await asyncio.to_thread(_verify_all, message, parsed, keys, headers_only))


def _verify_all(message: bytes, parsed, keys: _Keys, headers_only: bool) -> list[DkimVerification]:
    return [_verify_one(message, idx, sig, problem, keys, headers_only) for idx, (sig, problem) in enumerate(parsed)]


def _verify_one(message: bytes, idx: int, sig: dict | None, problem: str | None, keys: _Keys, headers_only: bool) -> DkimVerification:
    def out(result: str, reason: str) -> DkimVerification:
        return DkimVerification(
            index=idx,
            d=_text(sig.get(b"d")) if sig else None,
            s=_text(sig.get(b"s")) if sig else None,
            a=_text(sig.get(b"a")) if sig else None,
            i=_text(sig.get(b"i")) if sig else None,
            result=result,
            reason=reason,
            body_checked=not headers_only,
            key_name=_key_name(sig) if sig else None,
        )

    if sig is None:
        return out(NEUTRAL, problem or "The signature cannot be read.")
    if problem is not None:
        if problem.startswith("x= value is past"):
            return out(FAIL, f"The signature has expired ({problem}).")
        return out(NEUTRAL, f"The signature cannot be processed: {problem}.")
    name = _key_name(sig)
    if name in keys.temporary:
        return out(TEMPERROR, f"The key {name} could not be fetched: {keys.temporary[name].rstrip('.')}.")
    record = keys.record(name)
    if record is None:
        return out(PERMERROR, f"No DKIM key is published at {name}.")
    try:
        _pk, _size, ktag, _tlsrpt = dkim.evaluate_pk(name, record)
    except dkim.NaClNotFoundError:
        return out(NEUTRAL, "The Ed25519 signature cannot be checked here: the PyNaCl package is not installed.")
    except dkim.DKIMException as exc:
        return out(PERMERROR, f"The key at {name} is unusable: {exc}.")
    except Exception as exc:  # binascii and ASN.1 errors from a corrupt p=
        return out(PERMERROR, f"The key at {name} cannot be decoded: {exc}.")
    if ktag is None:
        return out(PERMERROR, f"The key at {name} is not meant for email.")
    log, handler = _logger()
    d = _DKIM(message, logger=log)
    d.headers_only = headers_only
    try:
        ok = d.verify(idx=idx, dnsfunc=keys.dnsfunc)
    except dkim.KeyFormatError as exc:
        return out(PERMERROR, f"The key at {name} is unusable: {exc}.")
    except dkim.ValidationError as exc:
        text = str(exc)
        if "Service Type is tlsrpt" in text:
            return out(PERMERROR, f"The key at {name} is for TLS reports only (s=tlsrpt), not for email.")
        if text.startswith("body hash mismatch"):
            return out(FAIL, "The body hash does not match: the body was changed after signing.")
        return out(NEUTRAL, f"The signature cannot be processed: {text}.")
    except dkim.DKIMException as exc:
        return out(NEUTRAL, f"The signature cannot be processed: {exc}.")
    except Exception as exc:  # a corrupt key can surface as any decoding error inside dkimpy
        return out(PERMERROR, f"The key at {name} cannot be used: {exc}.")
    if ok:
        if headers_only:
            return out(HEADER_ONLY, f"{HEADER_ONLY_REASON[0].upper()}{HEADER_ONLY_REASON[1:]} (only the header was available).")
        return out(PASS, f"The signature verifies with the key at {name}.")
    if handler.messages:
        return out(PERMERROR, f"The key at {name} is unusable: {handler.messages[-1]}.")
    what = "header signature" if headers_only else "signature"
    return out(FAIL, f"The {what} does not verify with the key at {name}: a signed header was changed or the key does not match.")


# --------------------------------------------------------------------------- ARC


def _arc_key_names(headers: list[tuple[bytes, bytes]]) -> set[str]:
    names = set()
    for n, v in headers:
        if n.lower() in (b"arc-seal", b"arc-message-signature"):
            try:
                sig = parse_tag_value(v)
            except InvalidTagValueList:
                continue
            name = _key_name(sig)
            if name:
                names.add(name)
    return names


async def verify_arc(message: bytes, resolver: Resolver, *, headers_only: bool | None = None) -> ArcVerification:
    """Validate the ARC chain of ``message``: cv per RFC 8617 §5.2, with each instance's checks."""
    if headers_only is None:
        headers_only = not has_body_separator(message)
    headers, _body = _split(message)
    keys = _Keys()
    await keys.fetch(_arc_key_names(headers), resolver)
    return await asyncio.to_thread(_arc, message, keys, headers_only)


def _s(v) -> str | None:
    if v is None:
        return None
    return v.decode("ascii", "replace") if isinstance(v, bytes) else str(v)


def _arc(message: bytes, keys: _Keys, headers_only: bool) -> ArcVerification:
    log, _handler = _logger()
    try:
        a = _ARC(message, logger=log, minkey=1024)
        a.headers_only = headers_only
        cv, results, reason = a.verify(dnsfunc=keys.dnsfunc)
    except dkim.DKIMException as exc:
        cv, results, reason = dkim.CV_Fail, [], str(exc)
    except Exception as exc:  # a corrupt key or header can raise from inside dkimpy's parsers
        cv, results, reason = dkim.CV_Fail, [], f"{type(exc).__name__}: {exc}"
    cv_text = _s(cv) or "fail"  # None: a seal said cv=fail, so the chain ended in failure
    if cv is None:
        cv_text = "fail"
    instances = tuple(
        ArcInstance(
            instance=r.get("instance", 0),
            ams_domain=_s(r.get("ams-domain")),
            ams_selector=_s(r.get("ams-selector")),
            ams_valid=bool(r.get("ams-valid")),
            as_domain=_s(r.get("as-domain")),
            as_selector=_s(r.get("as-selector")),
            as_valid=bool(r.get("as-valid")),
            cv=_s(r.get("cv")),
        )
        for r in sorted(results, key=lambda r: r.get("instance", 0))
    )
    result = cv_text
    reason = _s(reason) or ""
    if cv_text == "fail" and keys.temporary:
        result = "temperror"
        reason = f"{reason}; a key could not be fetched: {next(iter(keys.temporary.values())).rstrip('.')}"
    if headers_only and cv_text == "pass":
        reason = "seals and message signatures valid over the header, body not checked"
    return ArcVerification(cv=cv_text, result=result, reason=_sentence(reason), instances=instances, body_checked=not headers_only)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."
