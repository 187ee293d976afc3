"""Fixtures: real simulated appliances on 127.0.0.1 and config entries paired with them.

``start_appliance(type)`` starts one simulated appliance (firmware_bridge's
in-process API: simulator + serial link + network module), pairs with its
printed code through ``link.client.pair`` and, unless ``setup=False``, sets up
a config entry for it. ``paired_appliance`` does that for ``appliance_type``
(room air conditioner unless a test parametrizes ``appliance_type``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
import socket
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances import room_energy_sensors
from custom_components.liuzhou_appliances.config_flow import async_get_hub_id
from custom_components.liuzhou_appliances.const import (
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEY,
    DOMAIN,
)
from custom_components.liuzhou_appliances.coordinator import LiuzhouCoordinator
from custom_components.liuzhou_appliances.link.client import pair
from custom_components.liuzhou_appliances.link.codec import HelloInfo
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .snapshot_extension import LiuzhouSnapshotExtension

if TYPE_CHECKING:
    from firmware_bridge.bridge import SimulatedProduct

_COUNT_ARGUMENT = {
    ApplianceType.ROOM_AIR_CONDITIONER: "ac",
    ApplianceType.REFRIGERATOR: "fridge",
    ApplianceType.LAUNDRY_WASHER: "washer",
    ApplianceType.DISHWASHER: "dishwasher",
}


def legacy_title(hello: HelloInfo) -> str:
    """The title version 0.2.0 gave an appliance's entry: the model and the id's end.

    The fixtures' entries keep it, as installations from then keep theirs (their
    devices and entity ids are never renamed); new entries are named after their
    type (naming.py, tests/integration/test_naming.py).
    """
    return f"{hello.model} {hello.appliance_id.rsplit('-', 1)[-1]}"


@pytest.fixture(autouse=True)
def _custom_integration_and_loopback(
    enable_custom_integrations: None, socket_enabled: None, mock_async_zeroconf: Any
) -> None:
    """Load this repository's integration; allow real TCP (the plugin permits only 127.0.0.1).

    Home Assistant's zeroconf (our manifest dependency) is replaced by the test
    plugin's mock, so nothing multicasts; discovery tests hand the flow the
    bridge's real advertisement instead.
    """


@pytest.fixture(autouse=True)
def _every_group_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Floor and property sensors written at each change (a test of the interval sets it)."""
    for kind in ("floor", "property"):
        monkeypatch.setitem(room_energy_sensors.WRITE_INTERVAL, kind, 0.0)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, in tests/integration/snapshots/.

    Fields that only newer Home Assistant releases write are left out under the
    rules in snapshot_extension.py, so one snapshot set serves every release.
    """
    return snapshot.use_extension(LiuzhouSnapshotExtension)


@dataclass
class PairedAppliance:
    """A running simulated appliance and the config entry paired with it."""

    appliance: SimulatedProduct
    entry: MockConfigEntry

    @property
    def coordinator(self) -> LiuzhouCoordinator:
        """The entry's runtime data (set up entries only)."""
        coordinator: LiuzhouCoordinator = self.entry.runtime_data.coordinator
        return coordinator

    @property
    def simulator(self) -> Any:
        """The appliance's physics simulator (plays the MCU)."""
        return self.appliance.simulator

    async def push(self) -> None:
        """Report the simulator's changes now instead of waiting for the MCU clock."""
        await self.appliance.mcu.report_changes()


class StartAppliance(Protocol):
    """Signature of the ``start_appliance`` fixture."""

    def __call__(
        self,
        appliance_type: ApplianceType | str = ...,
        *,
        setup: bool = ...,
        options: dict[str, Any] | None = ...,
        index: int = ...,
        simulator_options: dict[str, Any] | None = ...,
    ) -> Awaitable[PairedAppliance]: ...


@pytest.fixture
async def start_simulated(
    hass: HomeAssistant,
) -> AsyncIterator[Callable[..., Awaitable[SimulatedProduct]]]:
    """Start a simulated appliance (not paired); all are stopped at teardown."""
    from firmware_bridge.bridge import simulated_appliances

    stack = contextlib.AsyncExitStack()

    async def start(
        appliance_type: ApplianceType | str = ApplianceType.ROOM_AIR_CONDITIONER,
        *,
        index: int = 0,
        options: dict[str, Any] | None = None,
    ) -> SimulatedProduct:
        kind = ApplianceType(appliance_type)
        # speed=0: physics stands still, so values change only when a test changes them.
        # A different seed per index gives a different appliance id and code.
        count: dict[str, Any] = {_COUNT_ARGUMENT[kind]: 1}  # ac=1, fridge=1, ...
        fleet = await stack.enter_async_context(
            simulated_appliances(
                **count,
                seed=7 + index,
                speed=0.0,
                zeroconf=False,
                simulator_options={kind: options or {}},
            )
        )
        return fleet[0]

    async with stack:
        yield start


@pytest.fixture
async def start_appliance(
    hass: HomeAssistant,
    start_simulated: Callable[..., Awaitable[SimulatedProduct]],
) -> AsyncIterator[StartAppliance]:
    """Start an appliance, pair with it and (by default) set up its config entry."""
    entries: list[MockConfigEntry] = []

    async def start(
        appliance_type: ApplianceType | str = ApplianceType.ROOM_AIR_CONDITIONER,
        *,
        setup: bool = True,
        options: dict[str, Any] | None = None,
        index: int = 0,
        simulator_options: dict[str, Any] | None = None,
    ) -> PairedAppliance:
        appliance = await start_simulated(appliance_type, index=index, options=simulator_options)
        hub_id = await async_get_hub_id(hass)
        result = await pair(appliance.host, appliance.port, appliance.code, hub_id=hub_id)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=legacy_title(result.hello),
            unique_id=result.hello.appliance_id,
            data={
                CONF_HOST: appliance.host,
                CONF_PORT: appliance.port,
                CONF_APPLIANCE_ID: result.hello.appliance_id,
                CONF_KEY: result.key.hex(),
                CONF_HUB_ID: hub_id,
            },
            options=options or {},
        )
        entry.add_to_hass(hass)
        entries.append(entry)
        if setup:
            await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
        return PairedAppliance(appliance, entry)

    yield start
    # Unload before the appliances stop, so no reconnect loop outlives the test.
    for entry in entries:
        if entry.state.recoverable:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def appliance_type() -> ApplianceType:
    """The type ``paired_appliance`` starts; parametrize to change it."""
    return ApplianceType.ROOM_AIR_CONDITIONER


@pytest.fixture
async def paired_appliance(
    start_appliance: StartAppliance, appliance_type: ApplianceType
) -> PairedAppliance:
    """One appliance of ``appliance_type`` with its config entry set up and loaded."""
    return await start_appliance(appliance_type)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Condition(Protocol):
    """A check polled until it holds.

    A protocol rather than a Callable, so that mypy accepts lambdas that bind loop values
    as default arguments.
    """

    def __call__(self) -> bool: ...


def current_state(hass: HomeAssistant, entity: str) -> State:
    """The state of ``entity``, which must have one."""
    state = hass.states.get(entity)
    assert state is not None, f"{entity} has no state"
    return state


async def wait_until(hass: HomeAssistant, condition: Condition) -> None:
    """Let real sockets and tasks run until ``condition`` holds (at most ~5 s)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
        await hass.async_block_till_done()
    raise AssertionError("condition not reached")
