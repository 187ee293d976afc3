"""The broker's certificates (scripts/broker_tls.py): made once, kept while valid, renewed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import stat

from cryptography import x509
import pytest

from scripts import broker_tls
from scripts.broker_tls import DEMO, Lifetimes, ensure_certificates

from .broker import MosquittoBroker


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_made_once_then_kept(tmp_path: Path) -> None:
    assert ensure_certificates(tmp_path) == "made"
    ca, server = _cert(tmp_path / "ca.pem"), _cert(tmp_path / "server.pem")
    server.verify_directly_issued_by(ca)
    assert ca.not_valid_after_utc - datetime.now(UTC) > timedelta(days=3000)
    assert server.not_valid_after_utc - datetime.now(UTC) > timedelta(days=360)
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tmp_path / key).stat().st_mode) == 0o600
    before = {name: (tmp_path / name).read_bytes() for name in ("ca.pem", "server.pem")}
    assert ensure_certificates(tmp_path) == "kept"
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


def test_server_certificate_renewed_from_the_same_ca(tmp_path: Path) -> None:
    ensure_certificates(tmp_path)
    ca = (tmp_path / "ca.pem").read_bytes()
    old = (tmp_path / "server.pem").read_bytes()
    # Due within the renewal window (it expires in a year; renew within 400 days).
    soon = Lifetimes(DEMO.ca, DEMO.server, timedelta(days=400))
    assert ensure_certificates(tmp_path, soon) == "renewed"
    assert (tmp_path / "ca.pem").read_bytes() == ca  # hubs that trust the CA keep working
    assert (tmp_path / "server.pem").read_bytes() != old
    _cert(tmp_path / "server.pem").verify_directly_issued_by(_cert(tmp_path / "ca.pem"))


@pytest.mark.parametrize("broken", ["ca.key", "ca.pem"])
def test_a_new_ca_when_the_old_one_is_unusable(tmp_path: Path, broken: str) -> None:
    ensure_certificates(tmp_path)
    ca = (tmp_path / "ca.pem").read_bytes()
    (tmp_path / broken).write_text("not PEM\n")
    assert ensure_certificates(tmp_path) == "made"
    assert (tmp_path / "ca.pem").read_bytes() != ca
    assert ensure_certificates(tmp_path) == "kept"


def test_a_server_certificate_from_another_ca_is_replaced(tmp_path: Path) -> None:
    ensure_certificates(tmp_path)
    other = tmp_path / "other"
    broker_tls.write_certificates(other)
    (tmp_path / "server.pem").write_bytes((other / "server.pem").read_bytes())
    (tmp_path / "server.key").write_bytes((other / "server.key").read_bytes())
    assert ensure_certificates(tmp_path) == "renewed"
    _cert(tmp_path / "server.pem").verify_directly_issued_by(_cert(tmp_path / "ca.pem"))


def test_the_estate_tests_broker_serves_them(broker: MosquittoBroker) -> None:
    """The tests' broker made its certificates here: a CA and a server certificate for it."""
    _cert(broker.directory / "server.pem").verify_directly_issued_by(_cert(broker.ca))
