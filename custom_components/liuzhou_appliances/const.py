"""Constants of the Liuzhou Appliances integration."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "liuzhou_appliances"
MANUFACTURER: Final = "Liuzhou"

# Every platform the entity layer provides; setup forwards the entry to all of them.
PLATFORMS: Final[list[Platform]] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CLIMATE,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
]

# Config entry data keys. The pairing code is never stored.
CONF_APPLIANCE_ID: Final = "appliance_id"
CONF_KEY: Final = "key"
CONF_PAIRING_CODE: Final = "pairing_code"
CONF_HUB_ID: Final = "hub_id"

# Options.
CONF_KEEPALIVE_INTERVAL: Final = "keepalive_interval"
CONF_OFFLINE_REPAIR_MINUTES: Final = "offline_repair_minutes"
DEFAULT_KEEPALIVE_INTERVAL: Final = 20
MIN_KEEPALIVE_INTERVAL: Final = 5
MAX_KEEPALIVE_INTERVAL: Final = 300
DEFAULT_OFFLINE_REPAIR_MINUTES: Final = 30
MIN_OFFLINE_REPAIR_MINUTES: Final = 1
MAX_OFFLINE_REPAIR_MINUTES: Final = 1440

# Reconnect backoff like ESPHome's: min(1.8**attempt, 60) seconds.
RECONNECT_BACKOFF_BASE: Final = 1.8
RECONNECT_BACKOFF_MAX: Final = 60.0

PAIRING_CODE_LENGTH: Final = 8
