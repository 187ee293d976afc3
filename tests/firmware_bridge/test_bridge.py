"""The network module end to end: link.client <-> ApplianceServer <-> McuBackend <-> simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.discovery import (
    SERVICE_TYPE,
    parse_txt,
    service_name,
)
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from firmware_bridge.bridge import (
    build_service_info,
    key_path,
    pairing_state_path,
    simulated_appliances,
    simulator_state_path,
)

from .conftest import wait_for

HUB = "hub-test"


def _number(value: Value) -> float:
    assert isinstance(value, int | float)
    return value


async def test_pair_read_write_push(tmp_path: Path) -> None:
    async with simulated_appliances(ac=1, seed=5, speed=0, state_dir=tmp_path, zeroconf=False) as (
        fleet
    ):
        ac = fleet[0]
        assert ac.type is ApplianceType.ROOM_AIR_CONDITIONER
        result = await pair(ac.host, ac.port, ac.code, hub_id=HUB)
        assert result.hello.appliance_id == ac.id
        assert key_path(tmp_path, ac.id).exists()
        client = ApplianceClient(ac.host, ac.port, result.key, hub_id=HUB)
        await client.connect()
        try:
            assert client.declaration is not None
            assert client.declaration.type is ApplianceType.ROOM_AIR_CONDITIONER
            assert client.state == ac.simulator.values()
            await client.write({"on": True, "mode": "cool", "target_temperature": 18})
            assert ac.simulator.values()["mode"] == "cool"
            assert (await client.read(["target_temperature"]))["target_temperature"] == 18

            pushed: list[Mapping[str, Value]] = []
            client.add_state_listener(pushed.append)
            await ac.mcu.advance(1200)  # 20 minutes of cooling
            await wait_for(
                lambda: client.state["temperature"] == ac.simulator.values()["temperature"]
                and pushed
            )
            assert client.state["energy"] == ac.simulator.values()["energy"]

            with pytest.raises(LinkError) as caught:
                await client.write({"target_temperature": 40})
            assert caught.value.code is ErrorCode.OUT_OF_RANGE
        finally:
            await client.disconnect()


async def test_factory_reset_from_the_mcu_clears_the_key(tmp_path: Path) -> None:
    async with simulated_appliances(
        dishwasher=1, seed=2, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        dishwasher = fleet[0]
        result = await pair(dishwasher.host, dishwasher.port, dishwasher.code, hub_id=HUB)
        client = ApplianceClient(dishwasher.host, dishwasher.port, result.key, hub_id=HUB)
        await client.connect()
        lost: list[Exception | None] = []
        client.add_disconnect_listener(lost.append)
        assert dishwasher.module.paired

        await dishwasher.factory_reset()  # the reset button, as a serial FACTORY_RESET

        assert not dishwasher.module.paired
        assert not key_path(tmp_path, dishwasher.id).exists()
        await wait_for(lambda: lost)
        await client.disconnect()
        reconnect = ApplianceClient(dishwasher.host, dishwasher.port, result.key, hub_id=HUB)
        with pytest.raises(LinkError) as caught:
            await reconnect.connect()
        assert caught.value.code is ErrorCode.AUTH_FAILED
        await reconnect.disconnect()
        # Pairing anew works with the label's code.
        again = await pair(dishwasher.host, dishwasher.port, dishwasher.code, hub_id=HUB)
        assert again.key != result.key


async def test_key_and_energy_survive_a_restart(tmp_path: Path) -> None:
    async with simulated_appliances(
        fridge=1, seed=4, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        fridge = fleet[0]
        result = await pair(fridge.host, fridge.port, fridge.code, hub_id=HUB)
        await fridge.mcu.advance(6 * 3600)
        energy = fridge.simulator.values()["energy"]
        assert isinstance(energy, float)
        assert energy > 0
        port = fridge.port
        await fridge.restart()  # power cycle in place
        assert fridge.port == port
        assert _number(fridge.simulator.values()["energy"]) >= energy
        assert fridge.module.paired
        client = ApplianceClient(fridge.host, fridge.port, result.key, hub_id=HUB)
        await client.connect()
        assert _number(client.state["energy"]) >= energy
        await client.disconnect()
    assert simulator_state_path(tmp_path, fridge.id).exists()
    # And across a whole new run with the same state directory.
    async with simulated_appliances(
        fridge=1, seed=4, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        assert fleet[0].id == fridge.id
        assert _number(fleet[0].simulator.values()["energy"]) >= energy
        assert fleet[0].module.paired


async def test_same_seed_same_ids_and_codes() -> None:
    async with simulated_appliances(ac=2, washer=1, seed=11, speed=0, zeroconf=False) as first:
        a = [(x.id, x.code) for x in first]
    async with simulated_appliances(ac=2, washer=1, seed=11, speed=0, zeroconf=False) as second:
        b = [(x.id, x.code) for x in second]
        assert len({x.port for x in second}) == 3
    assert a == b
    assert len(set(a)) == 3


async def test_physics_run_at_speed(tmp_path: Path) -> None:
    async with simulated_appliances(
        washer=1,
        seed=1,
        speed=600,
        state_dir=tmp_path,
        zeroconf=False,
        mcu_options={"tick": 0.05},
    ) as fleet:
        washer = fleet[0]
        result = await pair(washer.host, washer.port, washer.code, hub_id=HUB)
        client = ApplianceClient(washer.host, washer.port, result.key, hub_id=HUB)
        await client.connect()
        await client.command("start")
        start_remaining = client.state["remaining_time"]
        await asyncio.sleep(0.3)  # about 180 simulated seconds
        assert washer.mcu.simulated_seconds >= 100
        await wait_for(lambda: client.state["remaining_time"] < start_remaining)  # type: ignore[operator]
        await client.disconnect()


async def test_zeroconf_advertisement_on_loopback(tmp_path: Path) -> None:
    async with simulated_appliances(
        ac=1, seed=9, speed=0, state_dir=tmp_path, zeroconf=True
    ) as fleet:
        ac = fleet[0]
        info = ac.module.service_info
        assert info is not None
        assert info.type == SERVICE_TYPE
        assert info.name == service_name(ac.id)
        assert info.parsed_addresses() == ["127.0.0.1"]
        assert parse_txt(info.properties).paired is False

        browser = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        try:
            found = AsyncServiceInfo(SERVICE_TYPE, service_name(ac.id))
            assert await found.async_request(browser.zeroconf, 3000)
            assert found.port == ac.port
            record = parse_txt(found.properties)
            assert record.appliance_id == ac.id
            assert record.type is ApplianceType.ROOM_AIR_CONDITIONER
            assert not record.paired

            await pair(ac.host, ac.port, ac.code, hub_id=HUB)
            await wait_for(lambda: parse_txt(ac.module.service_info.properties).paired)  # type: ignore[union-attr]

            await ac.factory_reset()
            await wait_for(
                lambda: not parse_txt(ac.module.service_info.properties).paired  # type: ignore[union-attr]
            )
        finally:
            await browser.async_close()


def test_service_info_for_all_interfaces() -> None:
    from custom_components.liuzhou_appliances.link.server import ApplianceIdentity

    identity = ApplianceIdentity("lz-ac-00000001", ApplianceType.ROOM_AIR_CONDITIONER, "M", "1")
    info = build_service_info(identity, host="0.0.0.0", port=6780, paired=True, protocol=(1, 2))
    assert "127.0.0.1" not in info.parsed_addresses()
    record = parse_txt(info.properties)
    assert record.paired
    assert (record.protocol_min, record.protocol_max) == (1, 2)


async def test_the_pairing_button_on_the_appliance_opens_pairing(tmp_path: Path) -> None:
    async with simulated_appliances(
        washer=1, seed=7, speed=0, state_dir=tmp_path, zeroconf=False
    ) as (washer,):
        first = await pair(washer.host, washer.port, washer.code, hub_id=HUB)  # new: open
        with pytest.raises(LinkError) as caught:
            await pair(washer.host, washer.port, washer.code, hub_id="hub-other")
        assert caught.value.code is ErrorCode.INVALID_STATE
        assert washer.module.server.key == first.key
        await washer.press_pairing_button()  # PAIRING_BUTTON over the serial link
        second = await pair(washer.host, washer.port, washer.code, hub_id="hub-other")
        assert washer.module.server.key == second.key != first.key
        assert not washer.module.server.pairing_open  # paired: closed again


async def test_failed_pairing_attempts_survive_a_power_cycle(tmp_path: Path) -> None:
    wrong = "0000-0000"
    async with simulated_appliances(
        fridge=1, seed=8, speed=0, state_dir=tmp_path, zeroconf=False
    ) as (fridge,):
        assert fridge.code != "00000000"
        for _ in range(4):
            with pytest.raises(LinkError) as caught:
                await pair(fridge.host, fridge.port, wrong, hub_id=HUB)
            assert caught.value.code is ErrorCode.WRONG_CODE
        assert pairing_state_path(tmp_path, fridge.id).exists()
        await fridge.restart()
        # Not five fresh tries: the fifth failure after the reboot locks pairing.
        with pytest.raises(LinkError) as caught:
            await pair(fridge.host, fridge.port, wrong, hub_id=HUB)
        assert caught.value.code is ErrorCode.WRONG_CODE
        with pytest.raises(LinkError) as caught:
            await pair(fridge.host, fridge.port, fridge.code, hub_id=HUB)
        assert caught.value.code is ErrorCode.RATE_LIMITED
        await fridge.restart()
        with pytest.raises(LinkError) as caught:
            await pair(fridge.host, fridge.port, fridge.code, hub_id=HUB)
        assert caught.value.code is ErrorCode.RATE_LIMITED
        # The person at the appliance is never locked out: the button starts afresh.
        await fridge.press_pairing_button()
        result = await pair(fridge.host, fridge.port, fridge.code, hub_id=HUB)
        assert fridge.module.server.key == result.key
