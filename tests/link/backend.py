"""An in-memory appliance backend: the test double of the MCU side, not of the protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity

AC_DECLARATION: dict[str, Any] = {
    "schema": 1,
    "type": "room_air_conditioner",
    "manufacturer": "Liuzhou",
    "model": "LZ-AC35",
    "capabilities": {
        "target_temperature": {"min": 16, "max": 30, "step": 0.5},
        "humidity": {},
        "swing": {"options": ["off", "vertical"]},
    },
}

WASHER_DECLARATION: dict[str, Any] = {
    "schema": 1,
    "type": "laundry_washer",
    "manufacturer": "Liuzhou",
    "model": "LZ-W8",
    "max_delay_s": 86400,
    "programmes": [
        {"id": "cotton", "duration_s": 7200, "energy_kwh": 1.0, "profile": [[7200, 500]]},
        {"id": "quick", "duration_s": 1800, "energy_kwh": 0.2, "profile": [[1800, 400]]},
    ],
}

AC_STATE: dict[str, Value] = {
    "power": 0.0,
    "energy": 12.5,
    "faults": [],
    "on": False,
    "mode": "cool",
    "target_temperature": 24.0,
    "temperature": 27.5,
    "humidity": 60,
    "fan_speed": "auto",
    "swing": "off",
}

AC_IDENTITY = ApplianceIdentity(
    "lz-ac-3f2a9c01", Declaration.from_dict(AC_DECLARATION).type, "LZ-AC35", "1.4.2"
)


class MemoryBackend:
    """Holds values, applies validated writes, records commands, notifies listeners."""

    def __init__(
        self,
        declaration: Mapping[str, Any] = AC_DECLARATION,
        state: Mapping[str, Value] | None = None,
    ) -> None:
        self._declaration = Declaration.from_dict(dict(declaration))
        self.values: dict[str, Value] = dict(AC_STATE if state is None else state)
        self.commands: list[tuple[str, dict[str, int]]] = []
        self.writes: list[dict[str, Value]] = []
        self.write_delay = 0.0
        self.fail_with: Exception | None = None
        self._listeners: list[Callable[[Mapping[str, Value]], None]] = []

    @property
    def declaration(self) -> Declaration:
        return self._declaration

    def snapshot(self) -> dict[str, Value]:
        return dict(self.values)

    async def write(self, values: Mapping[str, Value]) -> None:
        if self.write_delay:
            await asyncio.sleep(self.write_delay)
        if self.fail_with is not None:
            raise self.fail_with
        if values.get("mode") == "heat" and self.values.get("on") is False:
            raise LinkError(ErrorCode.INVALID_STATE, "switch the unit on first")
        self.writes.append(dict(values))
        self.change(values)

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.commands.append((name, dict(args)))

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def change(self, values: Mapping[str, Value]) -> None:
        """The MCU reports new values."""
        self.values.update(values)
        for listener in list(self._listeners):
            listener(dict(values))
