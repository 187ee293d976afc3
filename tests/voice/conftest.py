"""Fixtures of the Assist tests: a home with areas and floors, real simulated appliances,
Home Assistant's conversation and intent components, and ``converse`` through the
default agent.

The configuration directory is the test's own temporary one, so the sentence
files the integration installs never land in the test plugin's shared directory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
import time
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    floor_registry as fr,
    intent,
)
from homeassistant.setup import async_setup_component
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType
from tests.integration.conftest import (  # noqa: F401  (fixtures used by the voice tests)
    PairedAppliance,
    StartAppliance,
    _custom_integration_and_loopback,
    start_appliance,
    start_simulated,
)


@pytest.fixture
async def voice_hass(hass: HomeAssistant, tmp_path: Path) -> HomeAssistant:
    """Home Assistant in China time with Assist loaded, its configuration in ``tmp_path``."""
    hass.config.config_dir = str(tmp_path)
    # Reloading Assist's sentences reads it (Home Assistant 2026).
    (tmp_path / "configuration.yaml").write_text("", encoding="utf-8")
    await hass.config.async_set_time_zone("Asia/Shanghai")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    return hass


@dataclass
class Home:
    """A washer on the upstairs balcony, a dishwasher and a fridge in the downstairs
    kitchen, an air conditioner in the downstairs living room."""

    washer: PairedAppliance
    dishwasher: PairedAppliance
    fridge: PairedAppliance
    ac: PairedAppliance

    def by_key(self, key: str) -> PairedAppliance:
        """``washer``, ``dishwasher``, ``fridge`` or ``ac``."""
        machine: PairedAppliance = getattr(self, key)
        return machine


def device_of(hass: HomeAssistant, machine: PairedAppliance) -> dr.DeviceEntry:
    """The appliance's device."""
    device = dr.async_get(hass).async_get_device({(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device


def place(hass: HomeAssistant, machine: PairedAppliance, area: str, **changes: Any) -> None:
    """Put the appliance's device in ``area`` (an area id) and apply registry ``changes``."""
    dr.async_get(hass).async_update_device(device_of(hass, machine).id, area_id=area, **changes)


@pytest.fixture
async def home(
    voice_hass: HomeAssistant,
    start_appliance: StartAppliance,  # noqa: F811  (the integration tests' fixture)
) -> Home:
    """The four appliances, placed; the sentences installed (by their set-up)."""
    hass = voice_hass
    floors = fr.async_get(hass)
    upstairs = floors.async_create("Upstairs", aliases={"二楼", "楼上"}, level=1)
    downstairs = floors.async_create("Downstairs", aliases={"一楼", "楼下"}, level=0)
    areas = ar.async_get(hass)
    balcony = areas.async_create("Balcony", aliases={"阳台"}, floor_id=upstairs.floor_id)
    kitchen = areas.async_create("Kitchen", aliases={"厨房"}, floor_id=downstairs.floor_id)
    living = areas.async_create("Living room", aliases={"客厅"}, floor_id=downstairs.floor_id)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    dishwasher = await start_appliance(ApplianceType.DISHWASHER)
    fridge = await start_appliance(ApplianceType.REFRIGERATOR)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    place(hass, washer, balcony.id)
    place(hass, dishwasher, kitchen.id)
    place(hass, fridge, kitchen.id)
    place(hass, ac, living.id)
    await hass.async_block_till_done()
    return Home(washer, dishwasher, fridge, ac)


type Converse = Callable[..., Awaitable[intent.IntentResponse]]


@dataclass
class Timing:
    """Sentence-to-action times measured by ``converse`` (seconds)."""

    samples: list[float]


@pytest.fixture
def timing() -> Timing:
    """Where ``converse`` records how long each sentence took."""
    return Timing([])


@pytest.fixture
def converse(voice_hass: HomeAssistant, timing: Timing) -> Converse:
    """Run a sentence through the default conversation agent; return its intent response."""

    async def run(
        text: str, language: str, *, device_id: str | None = None
    ) -> intent.IntentResponse:
        started = time.perf_counter()
        result = await conversation.async_converse(
            voice_hass,
            text,
            None,
            Context(),
            language=language,
            device_id=device_id,
            agent_id=conversation.HOME_ASSISTANT_AGENT,
        )
        timing.samples.append(time.perf_counter() - started)
        return result.response

    return run
