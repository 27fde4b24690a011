"""Helpers shared by the checks tests: paths to ../shared, an event loop, generated DKIM keys."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import dkim
import nacl.signing
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PEER_GOLDEN = SHARED / "corpus" / "peer-golden"


def need_shared(path: Path) -> Path:
    """Skip the calling test, with a sentence, when the shared corpus is not beside the repository."""
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not beside this checkout, so this golden test cannot run.")
    return path


def run(coro):
    return asyncio.run(coro)


def ed25519_key() -> tuple[bytes, str]:
    """A new Ed25519 key: (private seed, base64, as dkimpy signs with it; the DKIM TXT record)."""
    sk = nacl.signing.SigningKey.generate()
    seed = base64.b64encode(bytes(sk))
    pub = base64.b64encode(bytes(sk.verify_key)).decode()
    return seed, f"v=DKIM1; k=ed25519; p={pub}"


def sign(message: bytes, selector: str, domain: str, private: bytes, *, algorithm: bytes = b"ed25519-sha256", headers=None) -> bytes:
    """The message with a DKIM-Signature prepended (relaxed/relaxed)."""
    sig = dkim.sign(
        message,
        selector.encode(),
        domain.encode(),
        private,
        signature_algorithm=algorithm,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=headers,
        linesep=b"\r\n",
    )
    return sig + message


MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: checks test\r\n"
    b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <checks-1@example.com>\r\n"
    b"\r\n"
    b"Hello Bob.\r\n"
)


def rsa_key(bits: int = 2048) -> tuple[bytes, str]:
    """A new RSA key made with the openssl command: (PEM private key; the DKIM TXT record)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("The openssl command is not installed, so no RSA key can be generated for this test.")
    pem = subprocess.run(["openssl", "genrsa", str(bits)], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem, check=True, capture_output=True).stdout
    return pem, f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
