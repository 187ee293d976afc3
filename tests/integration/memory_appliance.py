"""An appliance served from the in-memory backend of the protocol tests, set up in Home Assistant.

The server is a real ApplianceServer on 127.0.0.1 holding the entry's key; a
test makes the appliance report anything through ``backend.change``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.liuzhou_appliances.config_flow import async_get_hub_id
from custom_components.liuzhou_appliances.const import (
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEY,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)
from tests.link.backend import MemoryBackend

KEY = bytes(range(32))


@contextlib.asynccontextmanager
async def memory_appliance(
    hass: HomeAssistant, backend: MemoryBackend, identity: ApplianceIdentity, title: str
) -> AsyncIterator[tuple[ApplianceServer, MockConfigEntry]]:
    """Serve ``backend`` as ``identity`` and set up its entry; unloaded and stopped after."""
    server = ApplianceServer(
        backend, identity, pairing_code="1234-5678", key_store=MemoryKeyStore(KEY)
    )
    await server.start("127.0.0.1", 0)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=identity.appliance_id,
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: server.port,
            CONF_APPLIANCE_ID: identity.appliance_id,
            CONF_KEY: KEY.hex(),
            CONF_HUB_ID: await async_get_hub_id(hass),
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        yield server, entry
    finally:
        if entry.state.recoverable:
            await hass.config_entries.async_unload(entry.entry_id)
        await server.stop()
        await hass.async_block_till_done()
