"""These tests ask the package index (PyPI) about Home Assistant releases.

Home Assistant's test plugin allows sockets to 127.0.0.1 only; the index lookups
here are the one deliberate exception, so they are let through for this folder.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def package_index_reachable() -> Iterator[None]:
    pytest_socket.enable_socket()
    pytest_socket._remove_restrictions()  # the plugin has no public name for it
    yield
    pytest_socket.socket_allow_hosts(["127.0.0.1"])
    pytest_socket.disable_socket(allow_unix_socket=True)
