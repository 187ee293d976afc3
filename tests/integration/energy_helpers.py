"""Helpers of the energy integration tests: the household entry and entity lookups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID


async def add_household(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """Set up the household energy entry with ``options``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Household energy",
        unique_id=HOUSEHOLD_UNIQUE_ID,
        data={},
        options={"tariff": "residential_tiered", **options},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def entity_id(hass: HomeAssistant, platform: str, appliance_id: str, key: str) -> str:
    """The entity id of an appliance's entity by its key."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{appliance_id}_{key}")
    assert found is not None, f"no {platform} {key}"
    return found


async def wait_long(hass: HomeAssistant, condition: Callable[[], bool], seconds: float) -> None:
    """Like wait_until, for work in the executor (compiling a fuzzy surface takes seconds)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()
    raise AssertionError("condition not reached")
