"""The energy counter an appliance publishes never goes backwards: power cuts, reboots, updates.

The MCU saves its state every 30 s, but it saves an energy reserve before
any REPORT shows more than the last saved reserve (SERIAL.md, "The energy
counter across power cuts"), so a power cut between two saves cannot undo
energy the hub has already seen.
"""

from __future__ import annotations

import json
from pathlib import Path

from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances, simulator_state_path
from firmware_bridge.mcu import SimulatedSerialMcu, memory_link_pair
from firmware_bridge.mcu.simulated import ENERGY_RESERVE_KEY, ENERGY_RESERVE_KWH
from firmware_bridge.simulators import create_simulator

from .conftest import wait_for

HUB = "hub-test"


def _energy(client: ApplianceClient) -> float:
    value = client.state["energy"]
    assert isinstance(value, float)
    return value


async def _ac_at_13_kwh_cooling(ac: SimulatedProduct) -> None:
    """The AC's counter at 13.000 kWh at its last save, then cooling hard (about 1.3 kW)."""
    ac.simulator.restore_state({**ac.simulator.export_state(), "energy_kwh": 13.0})
    ac.mcu.save_state()  # the last periodic save
    for key, value in (("on", True), ("mode", "cool"), ("target_temperature", 16.0)):
        ac.simulator.write(key, value)


async def test_energy_seen_before_a_power_cut_is_not_lost(tmp_path: Path) -> None:
    async with simulated_appliances(
        ac=1, seed=5, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        ac = fleet[0]
        result = await pair(ac.host, ac.port, ac.code, hub_id=HUB)
        await _ac_at_13_kwh_cooling(ac)
        client = ApplianceClient(ac.host, ac.port, result.key, hub_id=HUB)
        await client.connect()
        # The compressor starts, then 25 s of drawing: the hub sees a few watt-hours more.
        await ac.mcu.advance(120)
        for _ in range(5):
            await ac.mcu.advance(5)
        await wait_for(lambda: _energy(client) > 13.0)
        shown = _energy(client)
        await client.disconnect()
        # Power goes before the next periodic save, and comes back.
        await ac.restart(power_cut=True)
        after = ac.simulator.values()["energy"]
        assert isinstance(after, float)
        assert after >= shown
        # At most the reserve is counted that was not drawn.
        assert after <= shown + ENERGY_RESERVE_KWH + 0.001
        client = ApplianceClient(ac.host, ac.port, result.key, hub_id=HUB)
        await client.connect()
        assert _energy(client) >= shown
        await client.disconnect()


async def test_a_clean_restart_keeps_the_exact_counter(tmp_path: Path) -> None:
    async with simulated_appliances(
        ac=1, seed=5, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        ac = fleet[0]
        await _ac_at_13_kwh_cooling(ac)
        await ac.mcu.advance(300)
        exact = ac.simulator.energy_kwh
        await ac.restart()
        # Switched off properly: no reserve is added, nothing is lost.
        assert abs(ac.simulator.energy_kwh - exact) < 1e-9


async def test_saves_follow_the_energy_not_the_reports(tmp_path: Path) -> None:
    """A save per reserve of energy (flash wear grows with use), not one per report."""
    simulator = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER, seed=5, index=0)
    path = tmp_path / "ac.state.json"
    module_end, mcu_end = memory_link_pair()
    mcu = SimulatedSerialMcu(simulator, mcu_end, speed=0.0, state_path=path)
    await mcu.start()
    saves = 0
    original = mcu.save_state

    def counted() -> None:
        nonlocal saves
        saves += 1
        original()

    mcu.save_state = counted  # type: ignore[method-assign]
    for key, value in (("on", True), ("mode", "cool"), ("target_temperature", 16.0)):
        simulator.write(key, value)
    reports = 0
    for _ in range(120):  # an hour, reported every 30 s
        await mcu.advance(30)
        reports += 1
    used = simulator.energy_kwh
    assert used > 0.2
    assert saves <= used / ENERGY_RESERVE_KWH + 1
    assert saves < reports
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved[ENERGY_RESERVE_KEY] >= simulator.values()["energy"]
    await mcu.power_cut()
    await module_end.close()


async def test_a_save_without_a_reserve_still_restores(tmp_path: Path) -> None:
    """State written by firmware from before the reserve (an update) keeps its counter."""
    async with simulated_appliances(
        fridge=1, seed=4, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        fridge = fleet[0]
        await fridge.mcu.advance(3600)
        before = fridge.simulator.energy_kwh
        await fridge.stop()
        path = simulator_state_path(tmp_path, fridge.id)
        state = json.loads(path.read_text(encoding="utf-8"))
        del state[ENERGY_RESERVE_KEY]
        path.write_text(json.dumps(state), encoding="utf-8")
        await fridge.restart(power_cut=True)
        assert abs(fridge.simulator.energy_kwh - before) < 1e-9
