"""The demo talks to Home Assistant and the simulated appliances on 127.0.0.1."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Real sockets; Home Assistant's test plugin still limits them to 127.0.0.1."""
