"""The household energy entry's device and entities: price now, tariff period, demand response.

The household entry (unique id ``HOUSEHOLD_UNIQUE_ID``) has no appliance; its
runtime is the ``HouseholdEnergy``. Its device (a service) shows what the whole
home shares: the electricity price now (CNY/kWh, from the tariff or the price
feed), the tariff period (valley, flat, peak, critical peak) and the demand
response in force (none, moderate, critical). The descriptions below are the
data; ``HouseholdSensor`` reads them from the household runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import DOMAIN, HOUSEHOLD_UNIQUE_ID, MANUFACTURER
from .energy.shedding import DEMAND_RESPONSE_LEVELS
from .energy.tariff import TARIFF_PERIODS
from .energy.tariff_options import CONF_TARIFF, TARIFF_RESIDENTIAL
from .energy_entities import CURRENCY_CNY
from .energy_runtime import HouseholdEnergy
from .naming import async_tariff_name

# The demand-response sensor's state while no event is in force.
NO_DEMAND_RESPONSE: Final = "none"


@dataclass(frozen=True, kw_only=True)
class HouseholdSensorEntityDescription(SensorEntityDescription):
    """A household sensor: ``value_fn`` (and ``attributes_fn``) read the runtime at a moment."""

    value_fn: Callable[[HouseholdEnergy, datetime], StateType]
    attributes_fn: Callable[[HouseholdEnergy, datetime], Mapping[str, Any]] | None = None


def _demand_response(household: HouseholdEnergy, now: datetime) -> str:
    response = household.shedding.demand_response_now(now)
    return NO_DEMAND_RESPONSE if response is None else response.level


def _demand_response_details(household: HouseholdEnergy, now: datetime) -> dict[str, Any]:
    """Where the event comes from (shown translated) and when it ends (None: until stopped)."""
    response = household.shedding.demand_response_now(now)
    if response is None:
        return {"source": None, "end": None}
    end = None if response.end is None else response.end.isoformat()
    return {"source": response.source, "end": end}


HOUSEHOLD_SENSORS: Final[tuple[HouseholdSensorEntityDescription, ...]] = (
    HouseholdSensorEntityDescription(
        key="electricity_price",
        translation_key="electricity_price",
        native_unit_of_measurement=f"{CURRENCY_CNY}/{UnitOfEnergy.KILO_WATT_HOUR}",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda household, now: household.price_now(now),
    ),
    HouseholdSensorEntityDescription(
        key="tariff_period",
        translation_key="tariff_period",
        device_class=SensorDeviceClass.ENUM,
        options=list(TARIFF_PERIODS),
        value_fn=lambda household, now: household.tariff_period(now),
    ),
    HouseholdSensorEntityDescription(
        key="demand_response",
        translation_key="demand_response",
        device_class=SensorDeviceClass.ENUM,
        options=[NO_DEMAND_RESPONSE, *DEMAND_RESPONSE_LEVELS],
        value_fn=_demand_response,
        attributes_fn=_demand_response_details,
    ),
)


def household_device_info(household: HouseholdEnergy, tariff_name: str | None = None) -> DeviceInfo:
    """The household's device: a service holding the whole home's energy entities.

    Its model is the tariff, named in the server's language when ``tariff_name``
    is given (``naming.async_tariff_name``), else by the tariff itself.
    """
    return DeviceInfo(
        identifiers={(DOMAIN, HOUSEHOLD_UNIQUE_ID)},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model=tariff_name or household.tariff.name,
        name=household.entry.title,
    )


async def async_household_device_info(
    hass: HomeAssistant, household: HouseholdEnergy
) -> DeviceInfo:
    """``household_device_info`` with the entry's tariff named in the server's language."""
    kind = household.entry.options.get(CONF_TARIFF, TARIFF_RESIDENTIAL)
    return household_device_info(household, await async_tariff_name(hass, kind))


def household_sensors(
    household: HouseholdEnergy, tariff_name: str | None = None
) -> list[HouseholdSensor]:
    """The household entry's sensors, on a device whose model is ``tariff_name``."""
    device_info = household_device_info(household, tariff_name)
    return [
        HouseholdSensor(household, description, device_info) for description in HOUSEHOLD_SENSORS
    ]


class HouseholdSensor(SensorEntity):
    """A household sensor: follows the runtime, and the clock (prices change on the minute)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: HouseholdSensorEntityDescription

    def __init__(
        self,
        household: HouseholdEnergy,
        description: HouseholdSensorEntityDescription,
        device_info: DeviceInfo,
    ) -> None:
        """Identify the sensor as ``household_energy_<key>`` on the household's device."""
        self.household = household
        self.entity_description = description
        self._attr_unique_id = f"{HOUSEHOLD_UNIQUE_ID}_{description.key}"
        self._attr_device_info = device_info

    async def async_added_to_hass(self) -> None:
        """Follow demand-response and price-feed changes, and every whole minute."""
        await super().async_added_to_hass()
        self.async_on_remove(self.household.async_add_listener(self.async_write_ha_state))
        self.async_on_remove(async_track_time_change(self.hass, self._async_minute, second=0))

    @callback
    def _async_minute(self, now: datetime) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> StateType:
        """The value now."""
        return self.entity_description.value_fn(self.household, dt_util.utcnow())

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Details, such as where a demand-response event comes from."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.household, dt_util.utcnow())


def all_household_descriptions() -> list[tuple[str, str, frozenset[str]]]:
    """(platform, translation key, states) of every household entity; used by tests."""
    return [
        ("sensor", str(description.translation_key), frozenset(description.options or ()))
        for description in HOUSEHOLD_SENSORS
    ]
