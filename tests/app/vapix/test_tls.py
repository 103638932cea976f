"""HTTPS to a camera: the user pins the self-signed certificate they saw, or trusts a CA, and a camera that
presents anything else is refused during the handshake, before the client sends a single credential."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.vapix.errors import ConnectionFailed, TlsError
from app.vapix.tls import (
    TlsTrust,
    TrustMode,
    fetch_certificate,
    fingerprint_of_pem,
    format_fingerprint,
    normalise_fingerprint,
)
from app.vapix.transport import Endpoint, RetryPolicy, VapixTransport
from app.vapix.usergroup import Role, user_groups
from tests.support.device_process import ADMIN, DEFAULT_USERS, SERIAL, VIEWER, RunningDevice

pytestmark = pytest.mark.functional

FAST = RetryPolicy(backoff=0)


# -- certificates made for the test ----------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _builder(subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )


def self_signed(directory: Path, stem: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder("somebody-else", "somebody-else", key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    return _write(directory, stem, cert, key)


def ca_and_leaf(directory: Path, stem: str, san: x509.GeneralName) -> tuple[Path, Path, Path]:
    """A CA file, and a certificate with its key for the camera, issued by that CA for `san`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = f"{stem} Test CA"
    ca = (
        _builder(ca_subject, ca_subject, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _builder("camera", ca_subject, leaf_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / f"{stem}-ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path, key_path = _write(directory, stem, leaf, leaf_key)
    return ca_path, cert_path, key_path


LOCALHOST_IP = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


# -- cameras ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def https_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevice]:
    """A camera serving HTTPS with its own self-signed certificate, as a new camera does."""
    args = [arg for user in DEFAULT_USERS for arg in ("--user", user)] + ["--serial", SERIAL, "--tls"]
    device = RunningDevice(tmp_path_factory.mktemp("https-camera"), args).start()
    yield device
    device.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("certificates")


def https(device: RunningDevice, trust: TlsTrust) -> Endpoint:
    return Endpoint(device.host, device.http_port, https=True, trust=trust)


def record_traffic(transport: VapixTransport) -> tuple[list[httpx.Request], list[httpx.Response]]:
    """Requests the client tried to send, and responses it got back."""
    requests: list[httpx.Request] = []
    responses: list[httpx.Response] = []

    async def on_request(request: httpx.Request) -> None:
        requests.append(request)

    async def on_response(response: httpx.Response) -> None:
        responses.append(response)

    transport._client.event_hooks["request"].append(on_request)
    transport._client.event_hooks["response"].append(on_response)
    return requests, responses


def failed_verification(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def der_of(pem: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem)


# -- pinning the camera's own certificate ----------------------------------------------------------------------------


async def test_a_pinned_self_signed_certificate_lets_the_client_in(https_device):
    assert https_device.http_url.startswith("https://")
    pem = await fetch_certificate(https_device.host, https_device.http_port)
    served = (https_device.data_dir / "tls" / "cert.pem").read_text()
    assert der_of(pem) == der_of(served)

    fingerprint = format_fingerprint(fingerprint_of_pem(pem))  # as the user was shown it
    trust = TlsTrust(TrustMode.PINNED, pinned_pem=pem, fingerprint=fingerprint)
    async with VapixTransport(https(https_device, trust), *ADMIN, retry=FAST) as transport:
        groups = await user_groups(transport)
    assert (groups.user, groups.role) == ("root", Role.ADMIN)


async def test_a_fingerprint_that_is_not_the_pinned_certificates_is_refused_before_connecting(https_device):
    pem = await fetch_certificate(https_device.host, https_device.http_port)
    wrong = format_fingerprint(hashlib.sha256(b"some other certificate").hexdigest())
    with pytest.raises(TlsError):
        VapixTransport(https(https_device, TlsTrust(TrustMode.PINNED, pinned_pem=pem, fingerprint=wrong)), *ADMIN)
    with pytest.raises(TlsError):
        VapixTransport(https(https_device, TlsTrust(TrustMode.PINNED, pinned_pem=pem)), *ADMIN)
    with pytest.raises(TlsError):
        VapixTransport(https(https_device, TlsTrust(TrustMode.PINNED)), *ADMIN)


async def test_a_camera_presenting_another_certificate_than_the_pinned_one_gets_no_credentials(
    https_device, certificates
):
    other_pem = self_signed(certificates, "other")[0].read_text()
    trust = TlsTrust(TrustMode.PINNED, pinned_pem=other_pem, fingerprint=fingerprint_of_pem(other_pem))
    async with VapixTransport(https(https_device, trust), *ADMIN, retry=FAST) as transport:
        requests, responses = record_traffic(transport)
        with pytest.raises(TlsError, match=re.escape(f"{https_device.host}:{https_device.http_port}")) as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert failed_verification(caught.value)  # refused during the handshake, before any HTTP was written
    assert responses == []  # not even a 401: nothing reached the camera's HTTP server
    assert len(requests) == 1  # and a certificate failure is not retried


async def test_the_system_store_does_not_trust_a_self_signed_camera(https_device):
    async with VapixTransport(https(https_device, TlsTrust(TrustMode.SYSTEM)), *VIEWER, retry=FAST) as transport:
        requests, responses = record_traffic(transport)
        with pytest.raises(TlsError) as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert failed_verification(caught.value)
    assert (len(requests), responses) == (1, [])


async def test_plain_http_to_an_https_camera_is_not_mistaken_for_a_certificate_problem(https_device):
    endpoint = Endpoint(https_device.host, https_device.http_port)
    async with VapixTransport(endpoint, *VIEWER, retry=FAST) as transport:
        with pytest.raises(ConnectionFailed) as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert not isinstance(caught.value, TlsError)


async def test_fetching_the_certificate_of_a_closed_port_is_connection_failed():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionFailed):
        await fetch_certificate("127.0.0.1", port, timeout=5)


# -- trusting a CA ---------------------------------------------------------------------------------------------------


async def test_a_camera_with_a_certificate_from_a_trusted_ca_is_accepted(device_factory, certificates):
    ca, cert, key = ca_and_leaf(certificates, "site", LOCALHOST_IP)
    device = device_factory("--tls-cert", str(cert), "--tls-key", str(key))
    assert der_of(await fetch_certificate(device.host, device.http_port)) == der_of(cert.read_text())

    trust = TlsTrust(TrustMode.CA_FILE, ca_file=str(ca))
    async with VapixTransport(https(device, trust), *VIEWER, retry=FAST) as transport:
        groups = await user_groups(transport)
    assert (groups.user, groups.role) == ("view", Role.VIEWER)

    other_ca = ca_and_leaf(certificates, "elsewhere", LOCALHOST_IP)[0]
    async with VapixTransport(https(device, TlsTrust(TrustMode.CA_FILE, ca_file=str(other_ca))), *VIEWER) as other:
        with pytest.raises(TlsError):
            await other.get_text("/axis-cgi/usergroup.cgi")


async def test_a_ca_issued_certificate_for_another_address_is_refused(device_factory, certificates):
    ca, cert, key = ca_and_leaf(certificates, "misnamed", x509.DNSName("camera.example"))
    device = device_factory("--tls-cert", str(cert), "--tls-key", str(key))
    trust = TlsTrust(TrustMode.CA_FILE, ca_file=str(ca))
    async with VapixTransport(https(device, trust), *VIEWER, retry=FAST) as transport:
        with pytest.raises(TlsError) as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert failed_verification(caught.value)


def test_ca_mode_without_a_ca_file_is_refused_at_construction():
    with pytest.raises(TlsError):
        VapixTransport(Endpoint("127.0.0.1", 443, https=True, trust=TlsTrust(TrustMode.CA_FILE)), *VIEWER)


# -- fingerprints as the user sees them ------------------------------------------------------------------------------


def test_a_fingerprint_is_shown_as_colon_separated_upper_case_pairs_and_read_back_in_any_spelling(certificates):
    pem = self_signed(certificates, "shown")[0].read_text()
    digest = fingerprint_of_pem(pem)
    assert digest == x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256()).hex()
    shown = format_fingerprint(digest)
    assert len(shown) == 32 * 3 - 1
    assert shown == ":".join(digest[i : i + 2].upper() for i in range(0, 64, 2))
    assert normalise_fingerprint(shown) == digest
    assert format_fingerprint(shown) == shown
    assert normalise_fingerprint(shown.lower().replace(":", " ")) == digest
    assert normalise_fingerprint(digest.upper()) == digest


def test_pinning_accepts_the_fingerprint_in_any_spelling(certificates):
    pem = self_signed(certificates, "spelled")[0].read_text()
    digest = fingerprint_of_pem(pem)
    for spelling in (digest, digest.upper(), format_fingerprint(digest), format_fingerprint(digest).replace(":", " ")):
        assert isinstance(
            TlsTrust(TrustMode.PINNED, pinned_pem=pem, fingerprint=spelling).ssl_context(), ssl.SSLContext
        )
