"""Fixtures: a real Mosquitto broker (tests/estate/broker.py) and paho clients on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from fleet.estate_mqtt import BrokerSettings, connect

from .broker import USERS, MosquittoBroker


@pytest.fixture(autouse=True)
def _loopback(socket_enabled: None) -> None:
    """Allow real TCP to the broker on 127.0.0.1."""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A running broker with the estate's users and ACL; stopped after the test."""
    running = MosquittoBroker(tmp_path / "broker")
    running.configure()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def settings_for(broker: MosquittoBroker) -> Callable[..., BrokerSettings]:
    """Connection settings for one of the broker's users, TLS unless ``tls=False``."""

    def _settings(user: str, *, tls: bool = True, password: str | None = None) -> BrokerSettings:
        return BrokerSettings(
            host="127.0.0.1",
            port=broker.tls_port if tls else broker.port,
            tls=tls,
            ca=broker.ca if tls else None,
            username=user,
            password=USERS[user][0] if password is None else password,
        )

    return _settings


@pytest.fixture
def client_for(settings_for: Callable[..., BrokerSettings]) -> Iterator[Callable[..., mqtt.Client]]:
    """Connected paho clients for the broker's users; disconnected after the test."""
    clients: list[mqtt.Client] = []

    def _client(user: str, **kwargs: object) -> mqtt.Client:
        client = connect(settings_for(user, **kwargs))
        clients.append(client)
        return client

    yield _client
    for client in clients:
        client.loop_stop()
        client.disconnect()
