"""Which links reach one appliance: the LAN, Bluetooth, or both (one device, one entry).

An entry holds host and port (the LAN), a Bluetooth address, or both: an
appliance paired over one link gains the other when Home Assistant discovers
it there (zeroconf adds host and port, Bluetooth adds the address). With
both, the hub connects over the LAN when it answers and over BLE otherwise,
and while on BLE it tries the LAN again every ``LAN_RETRY_S`` and whenever
zeroconf sees the appliance (``LiuzhouCoordinator`` does the switching).

**Connect-on-demand over BLE.** A Bluetooth proxy has few connection slots
(ESPHome's: 3). A model whose declaration says ``ble_connection: on_demand``
(the washer and dishwasher; never a fridge, whose alarms must arrive at once)
is let go after ``ON_DEMAND_IDLE_S`` to ``2 * ON_DEMAND_IDLE_S`` without a
push or a request. Its entities keep their values and stay available while
it advertises. The hub connects again when the advertisement's change counter
moves (PROTOCOL.md 11.1, 11.6), when a request needs the appliance (a write,
a command, a refresh), and every ``ON_DEMAND_POLL_S`` regardless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from .bluetooth import ble_opener
from .const import CONF_ADDRESS
from .link.client import OpenTransport
from .link.discovery import DEFAULT_PORT

# While on BLE with a LAN configured: how often the LAN is tried again (s). A LAN
# attempt costs the appliance one TCP handshake and the hub one connection slot.
LAN_RETRY_S: Final = 60.0
# Connect-on-demand: quiet time before the connection is let go, and the longest a
# let-go appliance goes without a fresh read (s).
ON_DEMAND_IDLE_S: Final = 60.0
ON_DEMAND_POLL_S: Final = 900.0


class LinkKind(StrEnum):
    """A link to an appliance, as diagnostics name it."""

    LAN = "lan"
    BLE = "ble"


@dataclass(frozen=True, slots=True)
class ApplianceLinks:
    """The links an entry's data names; at least one is set."""

    host: str | None
    port: int
    address: str | None

    @classmethod
    def from_entry_data(cls, data: Mapping[str, Any]) -> ApplianceLinks:
        """Read host, port and address; KeyError if the data names neither link."""
        links = cls(data.get(CONF_HOST), data.get(CONF_PORT, DEFAULT_PORT), data.get(CONF_ADDRESS))
        if not links.kinds:
            raise KeyError(f"{CONF_HOST} or {CONF_ADDRESS}")
        return links

    @property
    def kinds(self) -> tuple[LinkKind, ...]:
        """The configured links in the order they are tried: the LAN first."""
        kinds: list[LinkKind] = []
        if self.host:
            kinds.append(LinkKind.LAN)
        if self.address:
            kinds.append(LinkKind.BLE)
        return tuple(kinds)

    def where(self, kind: LinkKind | None = None) -> str:
        """Where ``kind`` reaches the appliance ("host:port" or the address); all if None."""
        if kind is LinkKind.LAN:
            return f"{self.host}:{self.port}"
        if kind is LinkKind.BLE:
            return str(self.address)
        return " or ".join(self.where(each) for each in self.kinds)

    def opener(self, hass: HomeAssistant, kind: LinkKind, name: str) -> OpenTransport | None:
        """The ``open_transport`` for ``ApplianceClient`` over ``kind`` (None: TCP)."""
        if kind is LinkKind.LAN:
            return None
        assert self.address is not None
        return ble_opener(hass, self.address, name)
