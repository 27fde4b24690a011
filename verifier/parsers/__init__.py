"""Pure parsers: bytes in, :class:`verifier.model.Headers` out. No I/O, no clock.

``parse_headers(data)`` normalises the paste (:mod:`.paste`), then reads every
Received, Authentication-Results, ARC-Authentication-Results, Received-SPF,
DKIM-Signature, ARC-Seal, ARC-Message-Signature, Return-Path, From, Message-ID,
Subject (RFC 2047 words decoded) and Date, and the SPF results the spf= methods
of Authentication-Results record (``Headers.ar_spf``), so analysis needs no parser. Failures are isolated per header: an
unexpected exception in one header's parser becomes a Defect ``parser.internal``
on that header and the others are still read (the parsers are written so that
this does not happen). A Date header that cannot be read, or has no offset, adds
``date.unparsed`` / ``date.no-offset`` to ``Headers.defects``.
"""

from __future__ import annotations

from verifier.parsers.addresses import parse_address
from verifier.parsers.auth import (
    parse_authentication_results,
    parse_received_spf,
    spf_results_from_ar,
)
from verifier.parsers.dates import parse_date
from verifier.parsers.headers import parse_headers
from verifier.parsers.paste import decode_words, normalise, split_messages
from verifier.parsers.received import parse_received
from verifier.parsers.tags import parse_tag_list

__all__ = [
    "parse_headers",
    "normalise",
    "split_messages",
    "parse_received",
    "parse_date",
    "parse_received_spf",
    "parse_authentication_results",
    "spf_results_from_ar",
    "parse_tag_list",
    "parse_address",
    "decode_words",
]
