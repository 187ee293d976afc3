"""Every clock time a user types or sees is in Home Assistant's time zone.

A custom tariff table, the finish-by time of plan_run, the planned start and
the action's answer, with Home Assistant in Europe/Berlin and in
America/Los_Angeles (neither is China time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance
from .energy_helpers import add_household, entity_id

TABLE = "22:00-06:00 0.30\n06:00-22:00 0.80"
# 10:00 on a winter morning in each zone (no daylight-saving change near).
BERLIN_10 = datetime(2026, 1, 14, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
LOS_ANGELES_10 = datetime(2026, 1, 14, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))

# The clock starts at 10:00 local and runs on in real time (real sockets).
pytestmark = pytest.mark.parametrize(
    "zone",
    [
        pytest.param(
            "Europe/Berlin",
            marks=pytest.mark.freeze_time(BERLIN_10, tick=True),
            id="berlin",
        ),
        pytest.param(
            "America/Los_Angeles",
            marks=pytest.mark.freeze_time(LOS_ANGELES_10, tick=True),
            id="los_angeles",
        ),
    ],
)


async def _household_in(hass: HomeAssistant, zone: str) -> None:
    await hass.config.async_set_time_zone(zone)
    await add_household(hass, tariff="custom_tou", custom_table=TABLE)


def _household_state(hass: HomeAssistant, key: str) -> str:
    found = hass.states.get(f"sensor.household_energy_{key}")
    assert found is not None, key
    return found.state


async def test_tariff_sensors_read_the_table_in_local_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, zone: str
) -> None:
    await _household_in(hass, zone)
    assert dt_util.now().hour == 10
    assert float(_household_state(hass, "electricity_price")) == 0.80
    assert _household_state(hass, "tariff_period") == "peak"
    # 23:00 local: the night price of the table.
    late = dt_util.now().replace(hour=23, minute=0, second=0, microsecond=0)
    freezer.move_to(late)
    async_fire_time_changed(hass, late)
    await hass.async_block_till_done()
    assert float(_household_state(hass, "electricity_price")) == 0.30
    assert _household_state(hass, "tariff_period") == "valley"


def _device_id(hass: HomeAssistant, machine: PairedAppliance) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device.id


async def test_plan_run_starts_in_the_local_night_and_answers_in_local_time(
    hass: HomeAssistant, start_appliance: StartAppliance, zone: str
) -> None:
    await _household_in(hass, zone)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    tomorrow = (dt_util.now() + timedelta(days=1)).date()
    # Typed without an offset, as the action's date-and-time picker sends it.
    response = await hass.services.async_call(
        DOMAIN,
        "plan_run",
        {
            "device_id": _device_id(hass, washer),
            "programme": "quick",
            "finish_by": f"{tomorrow} 08:00:00",
        },
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    start = datetime.fromisoformat(str(response["start"]))
    end = datetime.fromisoformat(str(response["end"]))
    local = ZoneInfo(zone)
    # The answer is on the user's clock: same offset as Home Assistant's zone.
    assert start.utcoffset() == dt_util.now().utcoffset()
    assert start == datetime.combine(dt_util.now().date(), datetime.min.time(), local).replace(
        hour=22
    )
    assert end <= datetime.combine(tomorrow, datetime.min.time(), local).replace(hour=6)
    energy = float(response["energy_kwh"])  # type: ignore[arg-type]
    assert float(response["expected_cost"]) == pytest.approx(energy * 0.30, abs=1e-3)  # type: ignore[arg-type]
    planned = hass.states.get(entity_id(hass, "sensor", washer.appliance.id, "planned_start"))
    assert planned is not None
    assert datetime.fromisoformat(planned.state) == start


async def test_finish_by_is_read_and_shown_in_local_time(
    hass: HomeAssistant, start_appliance: StartAppliance, zone: str
) -> None:
    await _household_in(hass, zone)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    today = dt_util.now().date()
    # 08:00 local has passed at 10:00 local (in China time it would not have, in Los Angeles).
    with pytest.raises(ServiceValidationError) as error:
        await hass.services.async_call(
            DOMAIN,
            "plan_run",
            {
                "device_id": _device_id(hass, washer),
                "programme": "quick",
                "finish_by": f"{today} 08:00:00",
            },
            blocking=True,
            return_response=True,
        )
    placeholders = error.value.translation_placeholders or {}
    assert placeholders.get("code") == "deadline_passed"
    assert f"{today} 08:00" in placeholders.get("reason", "")
