"""How the client trusts a camera's HTTPS certificate: the system store, a CA file, or one pinned certificate.

Cameras mostly carry self-signed certificates. Pinning keeps the certificate itself (fetched once, when the user
accepted its fingerprint) as the only trust anchor, so the TLS handshake proves the camera holds its key before
any credentials are sent; comparing fingerprints after a request would be too late.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from dataclasses import dataclass
from enum import Enum

from app.vapix.errors import ConnectionFailed, TlsError


class TrustMode(Enum):
    SYSTEM = "system"
    CA_FILE = "ca"
    PINNED = "pinned"


@dataclass(frozen=True)
class TlsTrust:
    mode: TrustMode = TrustMode.SYSTEM
    ca_file: str | None = None
    pinned_pem: str | None = None  # the certificate the user accepted
    fingerprint: str | None = None  # its SHA-256, as the user saw it

    def ssl_context(self) -> ssl.SSLContext:
        if self.mode is TrustMode.CA_FILE:
            if not self.ca_file:
                raise TlsError("a CA file is needed to check this camera's certificate")
            return ssl.create_default_context(cafile=self.ca_file)
        if self.mode is TrustMode.PINNED:
            return pinned_context(self.pinned_pem or "", self.fingerprint or "")
        return ssl.create_default_context()


def normalise_fingerprint(text: str) -> str:
    return text.replace(":", "").replace(" ", "").lower()


def format_fingerprint(hex_digest: str) -> str:
    hex_digest = normalise_fingerprint(hex_digest).upper()
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2))


def fingerprint_of_pem(pem: str) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def pinned_context(pem: str, fingerprint: str) -> ssl.SSLContext:
    if not pem or fingerprint_of_pem(pem) != normalise_fingerprint(fingerprint):
        raise TlsError("the pinned certificate does not match its fingerprint")
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False  # the pin names the certificate; the host name adds nothing
    # Accept the pinned certificate itself as the trust anchor even when it is not a CA.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return context


async def fetch_certificate(host: str, port: int, timeout: float = 10.0) -> str:
    """The PEM certificate a server presents, unverified: for showing its fingerprint to the user."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can lose a cancellation
            _, writer = await asyncio.open_connection(host, port, ssl=context)
    except (OSError, TimeoutError) as exc:
        raise ConnectionFailed(f"cannot reach {host}:{port} over TLS: {exc}") from None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        if not der:
            raise TlsError(f"{host}:{port} presented no certificate")
        return ssl.DER_cert_to_PEM_cert(der)
    finally:
        writer.close()
