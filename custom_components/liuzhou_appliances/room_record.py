"""What the hub keeps about one room (``RoomRecord``) and what it uses of an appliance's runtime.

``ApplianceParts`` is the part of an appliance entry's runtime data the rooms
use (the entry's ``ApplianceRuntimeData`` satisfies it), so the room modules
do not import the runtime data that holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .coordinator import LiuzhouCoordinator
from .energy_runtime import ApplianceEnergy
from .link.model import Value
from .room_occupancy import RoomState
from .voice_panel import VoicePanelBridge


class ApplianceParts(Protocol):
    """An appliance's connection, energy runtime and voice panel (None without one)."""

    @property
    def coordinator(self) -> LiuzhouCoordinator:
        """The appliance's connection."""

    @property
    def energy(self) -> ApplianceEnergy:
        """The appliance's energy runtime (planned runs, remembered setpoints)."""

    @property
    def panel(self) -> VoicePanelBridge | None:
        """The appliance's voice panel (its log), None without one."""


class RoomRecord:
    """One room's kept state: occupancy, since when, arrival, preferences, what is owed."""

    def __init__(self, raw: Mapping[str, Any] | None = None) -> None:
        """From the Store's JSON (None: a vacant room with nothing kept)."""
        raw = raw or {}
        try:
            self.state = RoomState(raw.get("state", RoomState.VACANT))
        except ValueError:
            self.state = RoomState.VACANT
        self.since: str | None = raw.get("since")
        self.arrival: str | None = raw.get("arrival")
        # appliance entry id -> the AC's start time (ISO) while waiting to pre-condition.
        self.scheduled: dict[str, str] = dict(raw.get("scheduled") or {})
        # appliance entry id -> {"writes": {...}, "cancel": bool}
        self.pending: dict[str, dict[str, Any]] = dict(raw.get("pending") or {})
        # appliance id -> {key: value the guest chose}
        self.preferences: dict[str, dict[str, Value]] = {
            key: dict(value) for key, value in (raw.get("preferences") or {}).items()
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for the Store."""
        return {
            "state": str(self.state),
            "since": self.since,
            "arrival": self.arrival,
            "scheduled": dict(self.scheduled),
            "pending": dict(self.pending),
            "preferences": {key: dict(value) for key, value in self.preferences.items()},
        }
