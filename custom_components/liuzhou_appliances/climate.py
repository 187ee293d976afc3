"""Climate: the room air conditioner, built from its declared capabilities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.components.climate.const import (
    ATTR_HVAC_MODE,
    PRESET_ECO,
    PRESET_NONE,
    PRESET_SLEEP,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.const import ATTR_TEMPERATURE, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .compat import NativeTemperatureClimateEntity
from .const import DOMAIN
from .coordinator import LiuzhouCoordinator
from .entity import LiuzhouEntity
from .link.model import ApplianceType, Value
from .runtime_data import LiuzhouConfigEntry
from .setpoints import user_bound, user_step

# One write at a time keeps the order of the user's changes.
PARALLEL_UPDATES = 1

# The appliance's modes in Home Assistant's words. "auto" is the unit choosing
# between heating and cooling to reach the one setpoint (Matter's SystemMode
# Auto), which Home Assistant calls heat_cool; its "auto" means a schedule.
_HVAC_MODES: Final[Mapping[str, HVACMode]] = {
    "cool": HVACMode.COOL,
    "heat": HVACMode.HEAT,
    "dry": HVACMode.DRY,
    "fan_only": HVACMode.FAN_ONLY,
    "auto": HVACMode.HEAT_COOL,
}
_APPLIANCE_MODES: Final[Mapping[HVACMode, str]] = {hvac: mode for mode, hvac in _HVAC_MODES.items()}

# What the unit reports it is doing (running_state) in Home Assistant's words;
# a unit that is off is "off" whatever it reports.
_HVAC_ACTIONS: Final[Mapping[str, HVACAction]] = {
    "idle": HVACAction.IDLE,
    "cooling": HVACAction.COOLING,
    "heating": HVACAction.HEATING,
    "drying": HVACAction.DRYING,
    "fan": HVACAction.FAN,
}

# Preset -> the boolean capability it turns on; the preset "none" turns them all off.
_PRESET_CAPABILITIES: Final[Mapping[str, str]] = {PRESET_ECO: "eco", PRESET_SLEEP: "sleep"}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the climate entity of an air conditioner."""
    coordinator = entry.runtime_data.coordinator
    if coordinator.declaration.type is ApplianceType.ROOM_AIR_CONDITIONER:
        async_add_entities([LiuzhouClimate(coordinator)])


class LiuzhouClimate(LiuzhouEntity, NativeTemperatureClimateEntity):
    """The air conditioner: on/off, mode, setpoint, fan, swing and presets as declared."""

    # The appliance's main feature: it takes the device's name.
    _attr_name = None
    _attr_native_temperature_unit = UnitOfTemperature.CELSIUS

    def __init__(self, coordinator: LiuzhouCoordinator) -> None:
        """Build the entity from what the air conditioner declares."""
        super().__init__(coordinator, "climate")
        capabilities = coordinator.declaration.capabilities
        features = ClimateEntityFeature.TURN_ON | ClimateEntityFeature.TURN_OFF

        self._attr_hvac_modes = [HVACMode.OFF] + [
            _HVAC_MODES[mode] for mode in capabilities["mode"].options if mode in _HVAC_MODES
        ]

        # Bounds and step are served in the person's units (properties below).
        self._setpoint = capabilities["target_temperature"]
        features |= ClimateEntityFeature.TARGET_TEMPERATURE

        if "fan_speed" in capabilities:
            features |= ClimateEntityFeature.FAN_MODE
            self._attr_fan_modes = list(capabilities["fan_speed"].options)
        if "swing" in capabilities:
            features |= ClimateEntityFeature.SWING_MODE
            self._attr_swing_modes = list(capabilities["swing"].options)
        self._presets = {
            preset: key for preset, key in _PRESET_CAPABILITIES.items() if key in capabilities
        }
        if self._presets:
            features |= ClimateEntityFeature.PRESET_MODE
            self._attr_preset_modes = [PRESET_NONE, *self._presets]
        self._attr_supported_features = features

    @property
    def _user_unit(self) -> str:
        return self.hass.config.units.temperature_unit

    @property
    def min_temp(self) -> float:
        """The lowest setpoint, whole in the person's units (e.g. 16 °C shows as 61 °F)."""
        if self._setpoint.minimum is None:
            return super().min_temp
        return user_bound(
            self._setpoint.minimum, self.native_temperature_unit, self._user_unit, upper=False
        )

    @property
    def max_temp(self) -> float:
        """The highest setpoint, whole in the person's units."""
        if self._setpoint.maximum is None:
            return super().max_temp
        return user_bound(
            self._setpoint.maximum, self.native_temperature_unit, self._user_unit, upper=True
        )

    @property
    def target_temperature_step(self) -> float | None:
        """The declared step, or whole units above it where the person uses other units."""
        return user_step(self._setpoint.step, self.native_temperature_unit, self._user_unit)

    def _number(self, key: str) -> float | None:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value

    def _text(self, key: str) -> str | None:
        value = self._value(key)
        return value if isinstance(value, str) else None

    @property
    def hvac_mode(self) -> HVACMode | None:
        """Off when the unit is off, else its mode."""
        on = self._value("on")
        if on is False:
            return HVACMode.OFF
        mode = self._text("mode")
        return _HVAC_MODES.get(mode) if on is True and mode is not None else None

    @property
    def hvac_action(self) -> HVACAction | None:
        """What the unit is doing, where it reports it: off, idle, cooling, heating, ...

        Idle while on but the compressor rests (the setpoint is reached).
        """
        if "running_state" not in self.coordinator.declaration.capabilities:
            return None
        on = self._value("on")
        if on is False:
            return HVACAction.OFF
        running = self._text("running_state")
        return _HVAC_ACTIONS.get(running) if on is True and running is not None else None

    @property
    def native_current_temperature(self) -> float | None:
        """The indoor temperature the unit measures."""
        return self._number("temperature")

    @property
    def current_humidity(self) -> float | None:
        """The indoor humidity, where the unit measures it."""
        return self._number("humidity")

    @property
    def native_target_temperature(self) -> float | None:
        """The setpoint."""
        return self._number("target_temperature")

    @property
    def fan_mode(self) -> str | None:
        """The fan speed."""
        return self._text("fan_speed")

    @property
    def swing_mode(self) -> str | None:
        """The louvre swing."""
        return self._text("swing")

    @property
    def preset_mode(self) -> str | None:
        """Eco or sleep when one is on, else none."""
        for preset, key in self._presets.items():
            if self._value(key) is True:
                return preset
        return PRESET_NONE

    def _mode_values(self, hvac_mode: str) -> dict[str, Value]:
        """The writes for an HVAC mode: off, or on in the appliance's mode."""
        if hvac_mode == HVACMode.OFF:
            return {"on": False}
        mode = _APPLIANCE_MODES.get(HVACMode(hvac_mode))
        if mode is None:
            # Home Assistant's "auto" (a schedule) has no appliance mode; say so
            # rather than sending the unit into a different mode.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="value_out_of_range",
                translation_placeholders={
                    "key": "hvac_mode",
                    "value": str(hvac_mode),
                    "detail": ", ".join(self.hvac_modes),
                },
            )
        return {"on": True, "mode": mode}

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Switch off, or switch on in a mode (one write, so both or neither happen).

        A mode this model does not declare is still sent: the appliance's
        rejection tells the user why.
        """
        await self._async_write(self._mode_values(hvac_mode))

    async def async_turn_on(self) -> None:
        """Switch on in the last mode."""
        await self._async_write({"on": True})

    async def async_turn_off(self) -> None:
        """Switch off."""
        await self._async_write({"on": False})

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the setpoint, and the mode if given, in one write."""
        values: dict[str, Value] = {}
        if (temperature := kwargs.get(ATTR_TEMPERATURE)) is not None:
            # In the native unit; fitted to the declared step on the way out.
            values["target_temperature"] = float(temperature)
        if (hvac_mode := kwargs.get(ATTR_HVAC_MODE)) is not None:
            values.update(self._mode_values(hvac_mode))
        await self._async_write(values)

    async def async_set_fan_mode(self, fan_mode: str) -> None:
        """Set the fan speed."""
        await self._async_write({"fan_speed": fan_mode})

    async def async_set_swing_mode(self, swing_mode: str) -> None:
        """Set the louvre swing."""
        await self._async_write({"swing": swing_mode})

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Turn the preset's capability on and the other presets off, in one write."""
        await self._async_write(
            {key: preset == preset_mode for preset, key in self._presets.items()}
        )
