"""Free TCP ports on 127.0.0.1 for the demos, their tests and the benchmarks."""

from __future__ import annotations

from pathlib import Path
import random
import socket

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive ports nobody listens on or has bound.

    Chosen below the kernel's ephemeral range: a port from it (what binding to
    port 0 gives) can be taken meanwhile as the local end of any outgoing
    connection, a demo's own included. RuntimeError if no block is found.
    """
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    for _ in range(100):
        first = random.randrange(10000, low - count)
        if all(_bindable(port) for port in range(first, first + count)):
            return first
    raise RuntimeError("no block of free ports")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return not listening(port)


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0
