"""Values a hostile or broken appliance reports are checked against its own declaration.

The appliance here is a real ApplianceServer whose MCU side (the in-memory
backend of the protocol tests) reports whatever a test tells it: the server
pushes and reads it out unchecked, as a faulty firmware would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
import logging
from typing import Any

from homeassistant.components.climate.const import ATTR_CURRENT_HUMIDITY, ATTR_CURRENT_TEMPERATURE
from homeassistant.const import ATTR_TEMPERATURE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.liuzhou_appliances.const import (
    DOMAIN,
)
from custom_components.liuzhou_appliances.coordinator import LiuzhouCoordinator
from custom_components.liuzhou_appliances.hub_limits import (
    PACING_FIRST_S,
    PACING_LATE_CHECKS,
    PACING_MAX_S,
    PushPacing,
    hub_limits,
)
from custom_components.liuzhou_appliances.issues import (
    INVALID_VALUES_COUNT,
    INVALID_VALUES_QUIET_S,
    IssueKind,
)
from custom_components.liuzhou_appliances.link.server import ApplianceServer
from tests.link.backend import AC_IDENTITY, AC_STATE, MemoryBackend

from .conftest import current_state, wait_until
from .memory_appliance import memory_appliance
from .platform_helpers import entity_id, wait_for_state

APPLIANCE_ID = AC_IDENTITY.appliance_id
ISSUE_ID = f"{APPLIANCE_ID}_{IssueKind.INVALID_VALUES}"


@dataclass
class HostileAppliance:
    """The appliance's MCU side (reports anything) and the entry paired with it."""

    backend: MemoryBackend
    server: ApplianceServer
    entry: MockConfigEntry

    @property
    def coordinator(self) -> LiuzhouCoordinator:
        coordinator: LiuzhouCoordinator = self.entry.runtime_data.coordinator
        return coordinator

    def push(self, values: dict[str, Any]) -> None:
        """The appliance pushes ``values`` as they are (a `changed` message)."""
        self.backend.change(values)


@pytest.fixture
def initial_state() -> dict[str, Any]:
    """What the appliance reports when Home Assistant connects."""
    return dict(AC_STATE)


@pytest.fixture
async def hostile(
    hass: HomeAssistant, initial_state: dict[str, Any]
) -> AsyncIterator[HostileAppliance]:
    """A set-up entry of an air conditioner that reports values against its declaration."""
    backend = MemoryBackend(state=initial_state)
    async with memory_appliance(hass, backend, AC_IDENTITY, "Hostile AC") as (server, entry):
        yield HostileAppliance(backend, server, entry)


def _climate(hass: HomeAssistant) -> str:
    return entity_id(hass, "climate", APPLIANCE_ID, "climate")


def _humidity(hass: HomeAssistant) -> str:
    return entity_id(hass, "sensor", APPLIANCE_ID, "humidity")


# Each is refused by the AC's declaration (target 16-30 °C in 0.5 steps, humidity
# 0-100, swing off/vertical); none may reach an entity.
BAD_VALUES: list[tuple[str, Any]] = [
    ("target_temperature", "hot"),
    ("target_temperature", 99),
    ("target_temperature", 22.3),
    ("target_temperature", None),
    ("target_temperature", [24]),
    ("target_temperature", True),
    ("mode", "turbo"),
    ("mode", 3),
    ("on", "yes"),
    ("swing", "both"),  # in the data model, not in this model's declaration
    ("humidity", -5),
    ("humidity", 10**30),
    ("energy", 10**400),
    ("faults", "compressor"),
    ("faults", [1, 2]),
    ("outdoor_temperature", 12.0),  # not declared by this model
    ("self_destruct", True),  # not in the data model at all
]


async def test_invalid_pushed_values_keep_the_last_valid_state(
    hass: HomeAssistant, hostile: HostileAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """Every kind of invalid value is dropped; valid values in the same push still arrive."""
    climate = _climate(hass)
    before = hass.states.get(climate)
    assert before is not None
    assert before.attributes[ATTR_TEMPERATURE] == 24.0
    humidity_before = current_state(hass, _humidity(hass)).state
    for n, (key, value) in enumerate(BAD_VALUES):
        measured = 20.0 + n / 2
        hostile.push({key: value, "temperature": measured})
        # The valid value of the same message arrives; the invalid one is not shown.
        await wait_for_state(
            hass,
            climate,
            lambda s, measured=measured: s.attributes[ATTR_CURRENT_TEMPERATURE] == measured,
        )
        state = hass.states.get(climate)
        assert state is not None
        assert state.state == before.state, key
        assert state.attributes[ATTR_TEMPERATURE] == 24.0, key
        assert state.attributes["swing_mode"] == "off", key
        assert state.attributes[ATTR_CURRENT_HUMIDITY] == 60, key
        assert current_state(hass, _humidity(hass)).state == humidity_before, key
        assert hostile.coordinator.data.get(key) == AC_STATE.get(key), key
    assert hostile.coordinator.connected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_each_invalid_attribute_is_logged_once(
    hass: HomeAssistant, hostile: HostileAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """One warning per attribute, whatever the number of invalid pushes; then debug only."""
    climate = _climate(hass)
    for n in range(5):
        hostile.push({"target_temperature": 99, "mode": "turbo", "temperature": 20.0 + n})
        await wait_for_state(
            hass,
            climate,
            lambda s, n=n: s.attributes[ATTR_CURRENT_TEMPERATURE] == 20.0 + n,
        )
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "does not allow" in r.getMessage()
    ]
    assert len(warnings) == 2
    assert any("target_temperature = 99" in w for w in warnings)
    assert any("mode = 'turbo'" in w for w in warnings)


async def test_an_appliance_inventing_keys_cannot_flood_the_log(
    hass: HomeAssistant, hostile: HostileAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """Dozens of long undeclared keys: a few warnings naming some, each cut short."""
    hostile.push({f"key_{n}_{'x' * 200}": n for n in range(50)} | {"temperature": 21.0})
    await wait_for_state(
        hass, _climate(hass), lambda s: s.attributes[ATTR_CURRENT_TEMPERATURE] == 21.0
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    invalid = [w for w in warnings if "does not allow" in w]
    assert 1 <= len(invalid) <= 6
    assert all(len(w) < 500 for w in warnings)
    assert hostile.coordinator.connected


@pytest.mark.parametrize("initial_state", [dict(AC_STATE, humidity="wet", target_temperature=99)])
async def test_invalid_values_at_connect_are_not_shown(
    hass: HomeAssistant, hostile: HostileAppliance
) -> None:
    """Invalid values in the first read: the entry loads, those values read unknown."""
    state = hass.states.get(_climate(hass))
    assert state is not None
    assert state.attributes[ATTR_TEMPERATURE] is None
    assert state.attributes.get(ATTR_CURRENT_HUMIDITY) is None
    assert state.attributes[ATTR_CURRENT_TEMPERATURE] == 27.5
    assert current_state(hass, _humidity(hass)).state == "unknown"


async def test_invalid_values_read_later_keep_the_last_valid_value(
    hass: HomeAssistant, hostile: HostileAppliance
) -> None:
    """A refresh, or the first read after a reconnect, keeps what the entities showed."""
    coordinator = hostile.coordinator
    hostile.backend.values.update(humidity="wet", target_temperature=99, temperature=26.0)
    await coordinator.async_refresh()
    await wait_for_state(
        hass, _climate(hass), lambda s: s.attributes[ATTR_CURRENT_TEMPERATURE] == 26.0
    )
    assert coordinator.data["humidity"] == 60
    assert coordinator.data["target_temperature"] == 24.0

    hostile.backend.values["temperature"] = 25.0
    await coordinator.client.disconnect()  # the session ends; the coordinator reconnects
    coordinator.async_wake_reconnect()
    state = await wait_for_state(
        hass,
        _climate(hass),
        lambda s: s.state != "unavailable" and s.attributes[ATTR_CURRENT_TEMPERATURE] == 25.0,
    )
    assert state.attributes[ATTR_TEMPERATURE] == 24.0
    assert state.attributes[ATTR_CURRENT_HUMIDITY] == 60
    assert current_state(hass, _humidity(hass)).state == "60"


def _issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID)


async def _push_invalid(hass: HomeAssistant, hostile: HostileAppliance, count: int) -> None:
    coordinator = hostile.coordinator
    for _ in range(count):
        temperature = coordinator.data["temperature"]
        assert isinstance(temperature, int | float)
        measured = float(temperature) + 0.5
        hostile.push({"humidity": 150, "temperature": measured})
        await wait_for_state(
            hass,
            _climate(hass),
            lambda s, measured=measured: s.attributes[ATTR_CURRENT_TEMPERATURE] == measured,
        )


async def test_a_persistently_misbehaving_appliance_raises_a_repair_issue(
    hass: HomeAssistant, hostile: HostileAppliance
) -> None:
    """A few invalid values are only logged; INVALID_VALUES_COUNT of them raise a notice.

    The notice names the attributes and clears after an hour without invalid values.
    """
    await _push_invalid(hass, hostile, INVALID_VALUES_COUNT - 1)
    assert _issue(hass) is None
    hostile.push({"mode": "turbo"})
    await _push_invalid(hass, hostile, 1)
    issue = _issue(hass)
    assert issue is not None
    assert issue.translation_key == IssueKind.INVALID_VALUES
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["appliance"] == "Hostile AC"
    assert issue.translation_placeholders["keys"] == "humidity, mode"
    # Faults and supplies are synced on every push; that leaves this notice alone.
    hostile.push({"faults": [], "temperature": 30.0})
    await wait_for_state(
        hass, _climate(hass), lambda s: s.attributes[ATTR_CURRENT_TEMPERATURE] == 30.0
    )
    assert _issue(hass) is not None

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=INVALID_VALUES_QUIET_S + 1))
    await hass.async_block_till_done()
    assert _issue(hass) is None


async def test_unloading_removes_the_invalid_values_issue(
    hass: HomeAssistant, hostile: HostileAppliance
) -> None:
    await _push_invalid(hass, hostile, INVALID_VALUES_COUNT)
    assert _issue(hass) is not None
    await hass.config_entries.async_unload(hostile.entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass) is None


async def test_a_busy_hub_shows_pushes_merged_at_the_pacing_interval(
    hass: HomeAssistant, hostile: HostileAppliance
) -> None:
    """While the hub is behind, pushes wait for the interval and are shown merged."""
    pacing = hub_limits(hass).pacing
    humidity = _humidity(hass)
    written: list[str] = []

    @callback
    def note(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        if new_state is not None:
            written.append(new_state.state)

    async_track_state_change_event(hass, humidity, note)
    hostile.push({"humidity": 40})  # shown at once: the loop is calm
    await wait_for_state(hass, humidity, lambda state: state.state == "40")

    pacing.async_stop()  # the interval set here, not the one the machine's load would give
    pacing.interval = 0.5
    loop = asyncio.get_running_loop()
    started = loop.time()
    for value in range(41, 51):
        hostile.push({"humidity": value})
        await asyncio.sleep(0.01)
    # Decisions (energy control, handing settings back) see the latest value at once ...
    await wait_until(hass, lambda: hostile.coordinator.values.get("humidity") == 50)
    # ... while the entity waits for the interval.
    assert current_state(hass, humidity).state != "50"
    await wait_for_state(hass, humidity, lambda state: state.state == "50")
    await hass.async_block_till_done()  # the listener hears it after the state is set
    assert loop.time() - started >= 0.4  # held back for the interval
    assert len(written) <= 3, written  # 40, maybe the first of the burst, then 50
    assert written[-1] == "50"
    assert hostile.coordinator.stats.pushes >= 11

    pacing.interval = 0.0


def test_pacing_follows_the_loops_lag() -> None:
    pacing = PushPacing()
    pacing.adapt(0.005)
    assert pacing.interval == 0.0
    # One slow step, even a long one, is not an overload; nor are late checks
    # broken by an on-time one.
    for _ in range(PACING_LATE_CHECKS - 1):
        pacing.adapt(2.0)
    pacing.adapt(0.03)
    for _ in range(PACING_LATE_CHECKS - 1):
        pacing.adapt(0.2)
    assert pacing.interval == 0.0
    pacing.adapt(0.2)
    assert pacing.interval == PACING_FIRST_S
    for _ in range(10):
        pacing.adapt(1.0)
    assert pacing.interval == PACING_MAX_S
    pacing.adapt(0.03)  # neither busy nor calm: kept
    assert pacing.interval == PACING_MAX_S
    while pacing.interval:
        pacing.adapt(0.001)
    assert pacing.interval == 0.0
