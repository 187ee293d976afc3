"""The connection counters of one appliance, as diagnostics show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ConnectionStats:
    """Counters shown in diagnostics."""

    connect_attempts: int = 0
    connects: int = 0
    disconnects: int = 0
    pushes: int = 0
    writes: int = 0
    commands: int = 0
    rejected: int = 0
    last_connected: str | None = None
    last_disconnected: str | None = None
    last_error: str | None = None
    connect_duration_s: float | None = None
    # Switches from BLE back to the LAN while connected (an entry with both links).
    link_switches: int = 0
    # Idle on-demand BLE connections let go, and those opened again for a request.
    parks: int = 0
    on_demand_connects: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for diagnostics."""
        return dict(self.__dict__)
