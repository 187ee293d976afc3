"""The TCP transport under a client's channel, for tests that write raw bytes to it."""

from __future__ import annotations

from custom_components.liuzhou_appliances.link.transport import FrameTransport, TcpTransport


def tcp(transport: FrameTransport) -> TcpTransport:
    """``transport`` as the TCP transport it is in these tests (AssertionError otherwise)."""
    assert isinstance(transport, TcpTransport)
    return transport
