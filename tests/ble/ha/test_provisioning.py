"""A roster line naming a Bluetooth address: paired over BLE through a proxy, and placed.

The appliance advertises through the proxy; the ``provision`` action pairs it
by its address through Home Assistant's Bluetooth (here the Bumble central),
as a property manager's roster of BLE-only appliances does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
import pytest

from custom_components.liuzhou_appliances import provisioning
from custom_components.liuzhou_appliances.const import CONF_ADDRESS, DOMAIN
from custom_components.liuzhou_appliances.provisioning import EVENT_PROVISION_PROGRESS
from custom_components.liuzhou_appliances.room_index import floors, rooms
from tests.ble.conftest import CODE, MakeAppliance

from .conftest import BumbleConnections, FakeProxy


async def test_roster_line_by_bluetooth_address_pairs_over_ble_and_is_placed(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The proxy has no free slot at the first try (a passing reason): paired at the second."""
    monkeypatch.setattr(provisioning, "RETRY_DELAYS", (0.1, 0.1))
    appliance = await make_appliance(key=None)
    proxy.hear_peripheral(appliance.peripheral)
    await hass.async_block_till_done()
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, DOMAIN, {})
    (tmp_path / "estate.csv").write_text(
        f"building,floor,room,appliance,code\nTower A,3,301,{appliance.address},{CODE}\n",
        encoding="utf-8",
    )
    bumble_connections.slots_free = False
    retries: list[dict[str, Any]] = []

    @callback
    def _progress(event: Event) -> None:
        if "retry_in" in event.data:
            retries.append(dict(event.data))
            bumble_connections.slots_free = True

    hass.bus.async_listen(EVENT_PROVISION_PROGRESS, _progress)
    report = await hass.services.async_call(
        DOMAIN, "provision", {"path": "estate.csv"}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()

    assert isinstance(report, dict)
    rows: list[dict[str, Any]] = report["rows"]  # type: ignore[assignment]
    [row] = rows
    assert [(r["outcome"], r["reason"]) for r in retries] == [
        ("unreachable", "ble_no_connection_slot")
    ]
    assert (row["outcome"], row["attempts"], row["appliance_id"]) == (
        "paired",
        2,
        appliance.server.identity.appliance_id,
    )
    entry = hass.config_entries.async_get_entry(row["entry_id"])
    assert entry is not None
    assert entry.data[CONF_ADDRESS] == appliance.address
    assert "host" not in entry.data
    assert entry.runtime_data.coordinator.connected
    [room] = rooms(hass).values()
    assert (room.name, room.device_ids) == ("Tower A / 301", (row["device_id"],))
    assert [f.name for f in floors(hass).values()] == ["Tower A / 3"]
    await hass.config_entries.async_unload(entry.entry_id)
