"""What the estate hub must not lose, kept in Home Assistant's storage (docs/estate.md).

The outbox holds events and acks until the broker has delivered them back to
the hub (the proof that the broker has them); the pending commands wait for
offline appliances; the cost counters carry each appliance's cost across
restarts. A stored file that does not read as expected is logged and left
aside (an empty start) rather than stopping the household entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .store_saves import SaveWithin

_LOGGER = logging.getLogger(__package__)

STORAGE_KEY: Final = f"{DOMAIN}.estate_outbox"
STORAGE_VERSION: Final = 1
# A bound on the disk a broker away for weeks can take: ~10,000 small messages.
MAX_OUTBOX: Final = 10_000
COST_SAVE_DELAY: Final = 60


@dataclass(slots=True)
class PendingCommand:
    """A command still waiting for offline appliances: its ack topic, payload (JSON text),
    the appliances still pending and the last ack's ``seq``."""

    ack_topic: str
    command: str
    appliance_ids: list[str]
    seq: int = 0


@dataclass(slots=True)
class EstateStore:
    """The outbox (key -> topic, payload), pending commands and cost counters, persisted."""

    hass: HomeAssistant
    outbox: dict[str, tuple[str, str]] = field(default_factory=dict)
    pending: dict[str, PendingCommand] = field(default_factory=dict)
    # appliance id -> [the meter's kWh when last counted, cost so far]
    cost: dict[str, list[float]] = field(default_factory=dict)
    _store: Store[dict[str, Any]] | None = None
    _cost_saves: SaveWithin | None = None

    async def async_load(self) -> None:
        """Read what a previous run left (nothing on the first run)."""
        self._store = Store(self.hass, STORAGE_VERSION, STORAGE_KEY)
        self._cost_saves = SaveWithin(self.hass, self._store, self._data, COST_SAVE_DELAY)
        data = await self._store.async_load()
        if data is None:
            return
        try:
            self.outbox = {str(k): (str(t), str(p)) for k, t, p in data.get("outbox", [])}
            self.pending = {
                str(command_id): PendingCommand(
                    str(item["ack_topic"]),
                    str(item["command"]),
                    [str(a) for a in item["appliance_ids"]],
                    int(item["seq"]),
                )
                for command_id, item in data.get("pending", {}).items()
            }
            self.cost = {
                str(k): [float(v[0]), float(v[1])] for k, v in data.get("cost", {}).items()
            }
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            _LOGGER.warning("Estate: stored outbox not readable (%s); starting empty", err)
            self.outbox, self.pending, self.cost = {}, {}, {}

    def _data(self) -> dict[str, Any]:
        return {
            "outbox": [[key, topic, payload] for key, (topic, payload) in self.outbox.items()],
            "pending": {
                command_id: {
                    "ack_topic": item.ack_topic,
                    "command": item.command,
                    "appliance_ids": item.appliance_ids,
                    "seq": item.seq,
                }
                for command_id, item in self.pending.items()
            },
            "cost": self.cost,
        }

    async def async_save(self) -> None:
        """Write now: called before a message that must be delivered is first sent."""
        assert self._store is not None
        await self._store.async_save(self._data())

    def save_later(self) -> None:
        """Write within a minute (cost counters: losing a minute's increase is acceptable)."""
        assert self._cost_saves is not None
        self._cost_saves.changed()

    async def async_add(self, key: str, topic: str, payload: str) -> None:
        """Keep a message until ``confirm(key)``; the oldest goes past MAX_OUTBOX (logged)."""
        self.outbox[key] = (topic, payload)
        while len(self.outbox) > MAX_OUTBOX:
            dropped = next(iter(self.outbox))
            del self.outbox[dropped]
            _LOGGER.warning("Estate: outbox full, oldest message %s dropped", dropped)
        await self.async_save()

    def confirm(self, key: str) -> bool:
        """Forget a delivered message; whether it was still held."""
        if self.outbox.pop(key, None) is None:
            return False
        self.save_later()
        return True
