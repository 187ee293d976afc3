"""Appliance side of ble.json: the advertisement as a central hears it over the virtual radio."""

from __future__ import annotations

import asyncio
from typing import Any

from bumble.device import Advertisement
import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity
from firmware_bridge.ble import BlePeripheral, VirtualLink
from firmware_bridge.ble.central import central_device
from tests.vectors import load


@pytest.mark.parametrize(
    "case", load("ble")["advertisements"], ids=lambda c: c["appliance_id"][:14]
)
async def test_advertisement_on_the_air(case: dict[str, Any]) -> None:
    link = VirtualLink()
    central = central_device(link.link)
    await central.power_on()
    heard: asyncio.Queue[Advertisement] = asyncio.Queue()
    central.on("advertisement", heard.put_nowait)
    await central.start_scanning()
    identity = ApplianceIdentity(
        case["appliance_id"], ApplianceType(case["type"]), "LZ-TEST", "1.0"
    )

    async def serve(_transport: object) -> None:
        raise AssertionError("nobody connects")

    peripheral = BlePeripheral(
        link.radio("appliance"),
        identity,
        serve,
        lambda: case["paired"],
        seq=lambda: case["seq"],
    )
    await peripheral.start()
    try:
        async with asyncio.timeout(3):
            advertisement = await heard.get()
        assert str(advertisement.address) == peripheral.address
        # Active scanning: Bumble reports the scan response with the advertising packet
        # before it (``data``), and the response's own bytes in ``data_bytes``.
        assert advertisement.is_scan_response
        assert advertisement.data_bytes.hex() == case["scan_response_data"]
        assert bytes(advertisement.data).hex() == (
            case["advertising_data"] + case["scan_response_data"]
        )
    finally:
        await peripheral.stop()
        await central.power_off()
