"""A certificate authority and a server certificate for a Mosquitto on 127.0.0.1.

The one place the repository makes broker certificates: the property demo's
broker (scripts/property_broker.py) and the estate tests' (tests/estate/broker.py).
In ``directory``:

- ``ca.pem``, ``ca.key``: the CA (what clients verify the broker against);
- ``server.pem``, ``server.key``: the broker's certificate for 127.0.0.1 and
  localhost, signed by the CA.

Keys are EC P-256, written 0600. ``write_certificates`` always makes a new
set; ``ensure_certificates`` keeps a set that is still valid, renews only the
server certificate when the CA is still good (clients that trust the CA keep
working), and makes a new set otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT = "ca.pem"
CA_KEY = "ca.key"
SERVER_CERT = "server.pem"
SERVER_KEY = "server.key"
LOOPBACK = ipaddress.ip_address("127.0.0.1")
_BACKDATE = timedelta(minutes=5)  # tolerate a clock a little behind

type Outcome = Literal["made", "renewed", "kept"]


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long certificates last and when ``ensure_certificates`` replaces them."""

    ca: timedelta
    server: timedelta
    renew_within: timedelta  # replace a certificate that expires sooner than this


# The demo's: a CA for 10 years, the broker's certificate for a year, replaced
# in its last 30 days. The tests': a day, nothing to renew.
DEMO = Lifetimes(timedelta(days=3650), timedelta(days=365), timedelta(days=30))
TEST = Lifetimes(timedelta(days=1), timedelta(days=1), timedelta(0))
_DEMO_CA_NAME = "Liuzhou estate demo CA"


def write_certificates(
    directory: Path, lifetimes: Lifetimes = TEST, ca_name: str = "Estate test CA"
) -> None:
    """A new CA and a server certificate for 127.0.0.1 it signed (the four files)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    now = datetime.now(UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + lifetimes.ca)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(directory / CA_KEY, ca_key)
    (directory / CA_CERT).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _issue_server(directory, ca, ca_key, lifetimes.server)


def ensure_certificates(directory: Path, lifetimes: Lifetimes = DEMO) -> Outcome:
    """Keep the certificates in ``directory`` while valid; what was done.

    "kept": CA and server certificate are valid for longer than
    ``lifetimes.renew_within`` and belong together; "renewed": a new server
    certificate from the same CA; "made": a new CA and server certificate
    (none there, unreadable, or the CA about to expire).
    """
    limit = datetime.now(UTC) + lifetimes.renew_within
    try:
        ca = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
        ca_key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
    except (OSError, ValueError):
        write_certificates(directory, lifetimes, _DEMO_CA_NAME)
        return "made"
    if (
        not isinstance(ca_key, ec.EllipticCurvePrivateKey)
        or ca_key.public_key() != ca.public_key()
        or ca.not_valid_after_utc <= limit
    ):
        write_certificates(directory, lifetimes, _DEMO_CA_NAME)
        return "made"
    if _server_valid(directory, ca, limit):
        return "kept"
    _issue_server(directory, ca, ca_key, lifetimes.server)
    return "renewed"


def _server_valid(directory: Path, ca: x509.Certificate, limit: datetime) -> bool:
    try:
        server = x509.load_pem_x509_certificate((directory / SERVER_CERT).read_bytes())
        key = serialization.load_pem_private_key((directory / SERVER_KEY).read_bytes(), None)
        server.verify_directly_issued_by(ca)
        names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return (
        key.public_key() == server.public_key()
        and server.not_valid_after_utc > limit
        and LOOPBACK in names.get_values_for_type(x509.IPAddress)
    )


def _issue_server(
    directory: Path, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, lifetime: timedelta
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(LOOPBACK))]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        # Never beyond the CA: a client refuses a chain whose CA has expired.
        .not_valid_after(min(now + lifetime, ca.not_valid_after_utc))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(LOOPBACK), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(directory / SERVER_KEY, key)
    (directory / SERVER_CERT).write_bytes(server.public_bytes(serialization.Encoding.PEM))


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
