"""``simulate --ble``: a simulated product paired and read over BLE, and the options' rules."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from custom_components.liuzhou_appliances.link.ble_client import BleTransport
from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.transport import FrameTransport
from firmware_bridge.ble import VirtualLink
from firmware_bridge.ble.central import central_device, connector
from firmware_bridge.ble.fleet import serve_over_ble
from firmware_bridge.bridge import simulated_appliances
from firmware_bridge.cli import main


async def test_simulated_product_over_ble(tmp_path: Path, socket_enabled: None) -> None:
    link = VirtualLink()
    hub = central_device(link.link)
    await hub.power_on()
    async with (
        simulated_appliances(ac=1, zeroconf=False, state_dir=tmp_path) as fleet,
        contextlib.AsyncExitStack() as stack,
    ):
        (peripheral,) = await serve_over_ble(fleet, [], None, stack, link)
        product = fleet[0]

        async def open_transport() -> FrameTransport:
            return await BleTransport.open(connector(hub, peripheral.address, mtu=247))

        result = await pair(
            peripheral.address, 0, product.code, hub_id="hub", open_transport=open_transport
        )
        assert product.module.paired
        client = ApplianceClient(
            peripheral.address, 0, result.key, hub_id="hub", open_transport=open_transport
        )
        await client.connect()
        try:
            assert client.hello is not None
            assert client.hello.appliance_id == product.id
            assert "target_temperature" in client.state
        finally:
            await client.disconnect()


def test_ble_options_need_ble(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--ac", "1", "--ble-transport", "usb:0"])
    assert "go with --ble" in capsys.readouterr().err


async def test_two_appliances_cannot_share_a_controller(tmp_path: Path) -> None:
    async with (
        simulated_appliances(ac=2, zeroconf=False, state_dir=tmp_path) as fleet,
        contextlib.AsyncExitStack() as stack,
    ):
        with pytest.raises(ValueError, match="its own controller"):
            await serve_over_ble(fleet, ["usb:0"], None, stack)
