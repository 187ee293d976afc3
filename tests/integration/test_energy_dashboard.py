"""The energy sensor is accepted by Home Assistant's Energy dashboard as a device's consumption."""

from __future__ import annotations

from homeassistant.components.energy import data as energy_data
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder.core import Recorder
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import StartAppliance
from .platform_helpers import entity_id, only_platform


@pytest.fixture(autouse=True)
def _custom_integration_and_loopback(
    recorder_mock: Recorder, _custom_integration_and_loopback: None
) -> None:
    """The conftest fixture of this name, after the test recorder (which must come first)."""


async def test_energy_dashboard_accepts_the_energy_sensor(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Configured as individual-device consumption, the Energy dashboard's validation is clean."""
    assert await async_setup_component(hass, "energy", {})
    with only_platform(Platform.SENSOR):
        washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    energy = entity_id(hass, "sensor", washer.appliance.id, "energy")
    manager = await energy_data.async_get_manager(hass)
    # EnergyPreferencesUpdate means every key to be optional, but inherits them as required.
    await manager.async_update({"device_consumption": [{"stat_consumption": energy}]})  # type: ignore[typeddict-item]
    await async_wait_recording_done(hass)
    # Compile the statistics the dashboard reads (the recorder does this every 5 minutes).
    now = dt_util.utcnow()
    period = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    do_adhoc_statistics(hass, start=period)
    await async_wait_recording_done(hass)

    result = await async_validate(hass)
    assert len(result.device_consumption) == 1
    assert result.device_consumption[0].issues == {}
