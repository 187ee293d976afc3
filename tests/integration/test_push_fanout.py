"""A pushed change writes only the entities it concerns, and they show what a full update would.

The appliance is a real ApplianceServer with the reference declaration of
each type; its MCU side (the in-memory backend of the protocol tests) pushes
one changed capability at a time. Every entity write is seen as an event:
``state_changed`` when the state moved, ``state_reported`` when it was
written unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.liuzhou_appliances.coordinator import LiuzhouCoordinator
from custom_components.liuzhou_appliances.hub_limits import hub_limits
from custom_components.liuzhou_appliances.link.declaration import Capability, Declaration
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value, ValueKind
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
)
from firmware_bridge.simulators.base import load_declaration
from tests.link.backend import MemoryBackend

from .conftest import wait_until
from .memory_appliance import memory_appliance


def _two_values(capability: Capability, fault_codes: tuple[str, ...]) -> tuple[Value, Value]:
    """Two different values the capability allows: the first, and a change from it."""
    kind = capability.spec.kind
    if kind is ValueKind.BOOL:
        return False, True
    if kind is ValueKind.ENUM:
        return capability.options[0], capability.options[-1]
    if kind is ValueKind.FAULTS:
        return [], [fault_codes[0]]
    low = capability.minimum if capability.minimum is not None else 0
    step = capability.step or 1
    high = low + step
    if capability.maximum is not None:
        high = min(high, capability.maximum)
    if kind is ValueKind.DURATION:
        return int(low), int(high)
    return low, high


@dataclass
class Appliance:
    backend: MemoryBackend
    entry: MockConfigEntry
    changes: dict[str, tuple[Value, Value]]

    @property
    def coordinator(self) -> LiuzhouCoordinator:
        coordinator: LiuzhouCoordinator = self.entry.runtime_data.coordinator
        return coordinator


@pytest.fixture(params=list(ApplianceType), ids=str)
async def appliance(
    hass: HomeAssistant, request: pytest.FixtureRequest
) -> AsyncIterator[Appliance]:
    """An entry set up with an appliance of each type, every capability at its first value."""
    declaration: Declaration = load_declaration(request.param)
    fault_codes = declaration.type_spec.fault_codes
    changes = {
        key: _two_values(capability, fault_codes)
        for key, capability in declaration.capabilities.items()
    }
    backend = MemoryBackend(
        declaration.to_dict(), state={key: first for key, (first, _) in changes.items()}
    )
    identity = ApplianceIdentity(
        f"lz-fanout-{request.param}".replace("_", "-"), declaration.type, "LZ-TEST", "1.0.0"
    )
    async with memory_appliance(hass, backend, identity, "Fan-out") as (_, entry):
        yield Appliance(backend, entry, changes)


def _shown(hass: HomeAssistant, entity_ids: set[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    states: dict[str, State | None] = {e: hass.states.get(e) for e in entity_ids}
    return {e: (s.state, dict(s.attributes)) for e, s in states.items() if s is not None}


async def _push(hass: HomeAssistant, appliance: Appliance, values: dict[str, Value]) -> None:
    appliance.backend.change(values)
    await wait_until(
        hass,
        lambda: all(appliance.coordinator.values.get(k) == v for k, v in values.items()),
    )
    await hass.async_block_till_done()


async def test_a_push_writes_only_the_entities_it_concerns(
    hass: HomeAssistant, appliance: Appliance
) -> None:
    """Each capability changed alone: fewer writes than entities, and nothing a full update adds."""
    # Each push shown at once, however busy the machine running the tests is (pacing is
    # tested in test_pushed_values.py).
    hub_limits(hass).pacing.async_stop()
    registry = er.async_get(hass)
    entities = {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, appliance.entry.entry_id)
    }
    written: list[str] = []

    @callback
    def ours(event_data: Any) -> bool:
        return event_data["entity_id"] in entities

    @callback
    def note(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])

    hass.bus.async_listen(EVENT_STATE_CHANGED, note, event_filter=ours)
    hass.bus.async_listen(EVENT_STATE_REPORTED, note, event_filter=ours)
    # The first push reaches every entity (what they read when added is not known yet).
    first_key = next(iter(appliance.changes))
    await _push(hass, appliance, {first_key: appliance.changes[first_key][1]})

    writes_per_push: dict[str, set[str]] = {}
    for key, (first, second) in appliance.changes.items():
        now = appliance.coordinator.values.get(key)
        written.clear()
        await _push(hass, appliance, {key: first if now == second else second})
        writes_per_push[key] = set(written)
        shown = _shown(hass, entities)
        # What a full update (as after a reconnect) would show: the same.
        appliance.coordinator.async_update_listeners()
        await hass.async_block_till_done()
        assert _shown(hass, entities) == shown, f"a push of {key} left entities behind"

    for key, written_ids in writes_per_push.items():
        assert written_ids < entities, f"a push of {key} wrote every entity"
    # Most capabilities are shown by one or two entities, not by all of them.
    average = sum(map(len, writes_per_push.values())) / len(writes_per_push)
    assert average <= len(entities) / 4, (average, len(entities))
