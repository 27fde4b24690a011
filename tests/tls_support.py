"""Local TLS servers for tests (aiosmtpd): a test certificate authority made with openssl, and a free port."""

from __future__ import annotations

import socket
import ssl
import subprocess
from pathlib import Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path) -> Path:
    """A self-signed CA in ``d`` (ca.pem, ca.key), valid for two days."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=verifier test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return d / "ca.pem"


def make_leaf(cwd: Path, name: str, san: str) -> tuple[Path, Path]:
    """A server certificate and key signed by the CA in ``cwd``, for ``san``."""
    (cwd / f"{name}.ext").write_text(
        f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=cwd)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext", cwd=cwd)
    return cwd / f"{name}.pem", cwd / f"{name}.key"


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def make_pki(d: Path, good_san: str) -> dict[str, Path]:
    """A CA in ``d`` and two server certificates: ``good`` for ``good_san``, ``wrong`` for another name."""
    make_ca(d)
    good, good_key = make_leaf(d, "good", good_san)
    wrong, wrong_key = make_leaf(d, "wrong", "DNS:other.example.test")
    return {"ca": d / "ca.pem", "good": good, "good_key": good_key, "wrong": wrong, "wrong_key": wrong_key}


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
