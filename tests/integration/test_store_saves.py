"""SaveWithin: a Store changed every moment is still written within its delay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.liuzhou_appliances.store_saves import SaveWithin


async def test_changes_that_keep_coming_are_written_within_the_delay(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    counter = {"n": 0}
    store: Store[dict[str, int]] = Store(hass, 1, "liuzhou_appliances.test_saves")
    saves = SaveWithin(hass, store, lambda: dict(counter), 60)
    for n in range(1, 31):  # a change every moment, as a countdown pushes
        counter["n"] = n
        saves.changed()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    # Written a delay after the first change, with the value of the moment of writing.
    assert hass_storage["liuzhou_appliances.test_saves"]["data"] == {"n": 30}
