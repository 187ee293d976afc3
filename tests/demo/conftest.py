"""The demo talks to Home Assistant and the simulated appliances on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import warnings

import pytest


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Real sockets; Home Assistant's test plugin still limits them to 127.0.0.1."""


@pytest.fixture(autouse=True)
def _main_thread_keeps_its_event_loop() -> Iterator[None]:
    """Give the main thread its event loop back after a test that runs ``demo.main`` in-process.

    ``asyncio.run`` ends by setting the thread's event loop to None, and from Home
    Assistant 2026.2 the test plugin asks for the current loop before every test
    (``asyncio.get_event_loop()``), so every later test would fail at setup.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "There is no current event loop"
        loop = asyncio.get_event_loop()
    yield
    asyncio.set_event_loop(loop)
