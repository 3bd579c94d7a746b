"""The real SMTP server (``lawwatch.demo.smtp``, aiosmtpd) for tests, with TLS helpers and the pytest fixture.

``tls_files(tmp_path)`` writes a self-signed certificate for 127.0.0.1/localhost (with ``cryptography``) and
``client_context(cert)`` trusts it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from lawwatch.demo.smtp import ReceivedMail, SMTPServer

__all__ = ["ReceivedMail", "SMTPServer", "client_context", "server_context", "smtp_server_fixture", "tls_files"]


def tls_files(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``localhost``/``127.0.0.1``: ``(cert.pem, key.pem)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_context(cert: Path) -> ssl.SSLContext:
    """A client context that trusts only ``cert`` (hostname checked as usual)."""
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SMTPServer]:
    """A running plain ``SMTPServer`` (no TLS, no AUTH)."""
    with SMTPServer() as server:
        yield server
