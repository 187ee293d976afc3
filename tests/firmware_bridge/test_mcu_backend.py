"""McuBackend (network module) against SimulatedSerialMcu (simulator as MCU) over serial frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
import os
from typing import TypedDict, Unpack

import pytest

from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from firmware_bridge.mcu import (
    COMMUNICATION_FAULT,
    Frame,
    FrameType,
    McuBackend,
    McuError,
    SimulatedSerialMcu,
    memory_link_pair,
    open_serial_link,
)
from firmware_bridge.mcu.links import MemoryLink
from firmware_bridge.simulators import AppliancePhysics, create_simulator

from .conftest import FaultyLink, PtyMasterLink


class BackendOptions(TypedDict, total=False):
    """McuBackend's optional keyword arguments."""

    response_timeout: float
    retries: int
    heartbeat_interval: float


FAST: BackendOptions = {"response_timeout": 0.05, "retries": 2, "heartbeat_interval": 0.1}


@dataclass
class Rig:
    simulator: AppliancePhysics
    mcu: SimulatedSerialMcu
    backend: McuBackend
    module_end: MemoryLink
    mcu_end: FaultyLink


async def _rig(appliance_type: ApplianceType, **backend_options: Unpack[BackendOptions]) -> Rig:
    simulator = create_simulator(appliance_type, seed=3, index=0)
    module_end, raw_mcu_end = memory_link_pair()
    mcu_end = FaultyLink(raw_mcu_end)
    # speed 0: the physics only move when a test calls advance().
    mcu = SimulatedSerialMcu(simulator, mcu_end, speed=0.0)
    backend = McuBackend(module_end, simulator.declaration, **(FAST | backend_options))
    await mcu.start()
    await backend.start()
    return Rig(simulator, mcu, backend, module_end, mcu_end)


def _number(value: Value) -> float:
    assert isinstance(value, int | float)
    return value


def _faults(value: Value) -> list[str]:
    assert isinstance(value, list)
    return value


@pytest.fixture
async def ac() -> AsyncIterator[Rig]:
    rig = await _rig(ApplianceType.ROOM_AIR_CONDITIONER)
    yield rig
    await rig.backend.close()
    await rig.mcu.stop()


@pytest.fixture
async def washer() -> AsyncIterator[Rig]:
    rig = await _rig(ApplianceType.LAUNDRY_WASHER)
    yield rig
    await rig.backend.close()
    await rig.mcu.stop()


async def _settle() -> None:
    # Frames over the in-process link are delivered within a few loop turns.
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.parametrize("appliance_type", list(ApplianceType))
async def test_snapshot_carries_every_capability(appliance_type: ApplianceType) -> None:
    rig = await _rig(appliance_type)
    try:
        assert rig.backend.info is not None
        assert rig.backend.info.type is appliance_type
        snapshot = rig.backend.snapshot()
        assert set(snapshot) == set(rig.simulator.declaration.capabilities)
        # Values are at wire resolution on both ends, so they match exactly.
        assert snapshot == rig.simulator.values()
    finally:
        await rig.backend.close()
        await rig.mcu.stop()


async def test_write_reaches_the_simulator_and_is_reported(ac: Rig) -> None:
    changes: list[Mapping[str, Value]] = []
    ac.backend.add_listener(changes.append)
    await ac.backend.write({"on": True, "mode": "heat", "target_temperature": 26.5})
    values = ac.simulator.values()
    assert (values["on"], values["mode"], values["target_temperature"]) == (True, "heat", 26.5)
    snapshot = ac.backend.snapshot()
    assert (snapshot["on"], snapshot["mode"], snapshot["target_temperature"]) == (
        True,
        "heat",
        26.5,
    )
    assert any(change.get("mode") == "heat" for change in changes)


async def test_physics_changes_are_pushed(ac: Rig) -> None:
    await ac.backend.write({"on": True, "mode": "cool", "target_temperature": 16})
    changes: list[Mapping[str, Value]] = []
    ac.backend.add_listener(changes.append)
    before = ac.backend.snapshot()
    await ac.mcu.advance(1800)
    await _settle()
    after = ac.backend.snapshot()
    assert changes, "an hour of cooling changed nothing on the module"
    assert _number(after["energy"]) > _number(before["energy"])
    assert after == ac.simulator.values()


async def test_mcu_refusal_becomes_link_error(washer: Rig) -> None:
    with pytest.raises(LinkError) as caught:
        await washer.backend.command("pause", {})  # nothing runs: not now
    assert caught.value.code is ErrorCode.INVALID_STATE
    await washer.backend.command("start", {})
    assert washer.backend.snapshot()["operational_state"] == "running"
    with pytest.raises(LinkError) as caught:
        await washer.backend.write({"programme": "quick"})  # settings are locked while running
    assert caught.value.code is ErrorCode.INVALID_STATE
    assert caught.value.key == "programme"
    assert washer.simulator.values()["programme"] != "quick"


async def test_mcu_checks_ranges_itself(ac: Rig) -> None:
    # The server validates first; the MCU still refuses what is out of range.
    with pytest.raises(LinkError) as caught:
        await ac.backend.write({"target_temperature": 45.0})
    assert caught.value.code is ErrorCode.OUT_OF_RANGE
    assert caught.value.key == "target_temperature"
    with pytest.raises(LinkError) as caught:
        await ac.backend.write({"temperature": 20.0})
    assert caught.value.code is ErrorCode.READ_ONLY


async def test_silent_mcu_times_out_and_recovers(ac: Rig) -> None:
    faults: list[list[str]] = []
    ac.backend.add_listener(
        lambda changed: faults.append(list(_faults(changed["faults"])))
        if "faults" in changed
        else None
    )
    ac.mcu_end.mute = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(LinkError) as caught:
        await ac.backend.write({"on": True})
    assert caught.value.code is ErrorCode.MCU_UNAVAILABLE
    assert loop.time() - started < 1.0
    assert not ac.backend.available
    assert COMMUNICATION_FAULT in _faults(ac.backend.snapshot()["faults"])
    ac.mcu_end.mute = False
    for _ in range(100):
        if ac.backend.available:
            break
        await asyncio.sleep(0.02)
    assert ac.backend.available
    assert COMMUNICATION_FAULT not in _faults(ac.backend.snapshot()["faults"])
    assert [COMMUNICATION_FAULT] in faults
    assert faults[-1] == []


async def test_no_mcu_at_all() -> None:
    simulator = create_simulator(ApplianceType.REFRIGERATOR, seed=0, index=0)
    module_end, _mcu_end = memory_link_pair()
    backend = McuBackend(module_end, simulator.declaration, **FAST)
    with pytest.raises(LinkError) as caught:
        await backend.start()
    assert caught.value.code is ErrorCode.MCU_UNAVAILABLE
    await backend.close()


async def test_wrong_appliance_type_is_refused() -> None:
    simulator = create_simulator(ApplianceType.REFRIGERATOR, seed=0, index=0)
    other = create_simulator(ApplianceType.DISHWASHER, seed=0, index=0)
    module_end, mcu_end = memory_link_pair()
    mcu = SimulatedSerialMcu(simulator, mcu_end, speed=0)
    backend = McuBackend(module_end, other.declaration, **FAST)
    await mcu.start()
    with pytest.raises(McuError, match="refrigerator"):
        await backend.start()
    await backend.close()
    await mcu.stop()


async def test_lost_ack_is_not_executed_twice(washer: Rig) -> None:
    washer.mcu_end.drop_next = 1  # the MCU's ACK to "start" is lost
    await washer.backend.command("start", {})  # retransmitted, answered from memory
    assert washer.mcu_end.dropped == 1
    assert washer.simulator.values()["operational_state"] == "running"


async def test_garbage_on_the_line_in_both_directions(ac: Rig) -> None:
    noise = bytes([0xA5, 0x01, 0x04, 0x00, 0x00, 0x40]) + os.urandom(300) + b"\xa5\xa5\x00"
    await ac.mcu_end.send(noise)  # MCU -> module
    await ac.module_end.send(noise)  # module -> MCU
    await ac.backend.write({"mode": "dry"})
    assert ac.simulator.values()["mode"] == "dry"
    await ac.mcu_end.send(noise)
    await ac.mcu.advance(60)
    await _settle()
    await ac.backend.write({"mode": "fan_only"})
    assert ac.backend.snapshot()["mode"] == "fan_only"
    assert ac.backend.frame_stats["bytes_discarded"] >= 300


async def test_invalid_report_entries_are_dropped_not_fatal(ac: Rig) -> None:
    # The MCU reports a mode index out of range next to a good temperature.
    bad = Frame(FrameType.REPORT, 9, bytes.fromhex("00 0021 01 09 0023 04 000000E6")).encode()
    await ac.mcu_end.send(bad)
    await _settle()
    assert ac.backend.snapshot()["temperature"] == 23.0
    assert ac.backend.snapshot()["mode"] in ("cool", "heat", "dry", "fan_only", "auto")
    assert ac.backend.frame_stats["report_problems"] == 1


async def test_factory_reset_request_reaches_listeners(ac: Rig) -> None:
    presses: list[None] = []
    ac.backend.add_factory_reset_listener(lambda: presses.append(None))
    await ac.mcu.press_factory_reset()
    assert presses == [None]


async def test_pairing_button_request_reaches_listeners(ac: Rig) -> None:
    presses: list[str] = []
    ac.backend.add_factory_reset_listener(lambda: presses.append("reset"))
    remove = ac.backend.add_pairing_button_listener(lambda: presses.append("pair"))
    await ac.mcu.press_pairing_button()  # ACKed, or this raises
    assert presses == ["pair"]
    remove()
    await ac.mcu.press_pairing_button()
    assert presses == ["pair"]


async def test_real_serial_link_over_a_pty() -> None:
    """The pyserial-asyncio link, through a pseudo-terminal (a real tty device)."""
    master, slave = os.openpty()
    module_link = await open_serial_link(os.ttyname(slave), 115200)
    simulator = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER, seed=1, index=0)
    mcu = SimulatedSerialMcu(simulator, PtyMasterLink(master), speed=0)
    backend = McuBackend(module_link, simulator.declaration, response_timeout=0.5)
    await mcu.start()
    try:
        info = await backend.start()
        assert info.type is ApplianceType.ROOM_AIR_CONDITIONER
        await backend.write({"fan_speed": "high"})
        assert simulator.values()["fan_speed"] == "high"
        assert backend.snapshot()["fan_speed"] == "high"
    finally:
        await backend.close()
        await mcu.stop()
        os.close(slave)


async def test_simulated_mcu_answers_bad_requests_with_nack() -> None:
    """The MCU end of SERIAL.md: unknown types, other versions and bad payloads get NACKs."""
    from firmware_bridge.mcu import FrameDecoder
    from firmware_bridge.mcu.values import decode_nack

    simulator = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER, seed=0, index=0)
    type_spec = simulator.declaration.type_spec
    module_end, mcu_end = memory_link_pair()
    mcu = SimulatedSerialMcu(simulator, mcu_end, speed=0)
    await mcu.start()
    decoder = FrameDecoder()

    async def ask(frame: Frame) -> Frame:
        await module_end.send(frame.encode())
        while True:
            frames = decoder.feed(await asyncio.wait_for(module_end.receive(), 1))
            if frames:
                assert frames[0].seq == frame.seq
                return frames[0]

    try:
        cases = [
            (Frame(0x7F, 1), ErrorCode.UNKNOWN_MESSAGE),
            (Frame(FrameType.INFO_REQUEST, 2, version=2), ErrorCode.UNSUPPORTED_VERSION),
            (Frame(FrameType.WRITE, 3, bytes.fromhex("0021 01 09")), ErrorCode.MALFORMED),
            (Frame(FrameType.WRITE, 4, bytes.fromhex("0021 05")), ErrorCode.MALFORMED),
            (Frame(FrameType.COMMAND, 5, bytes.fromhex("00 00")), ErrorCode.MALFORMED),
            (Frame(FrameType.FACTORY_RESET, 6), ErrorCode.UNKNOWN_MESSAGE),
        ]
        for request, code in cases:
            reply = await ask(request)
            assert reply.type == FrameType.NACK, request
            assert decode_nack(type_spec, reply.payload).code is code, request
        info = await ask(Frame(FrameType.INFO_REQUEST, 7))
        assert info.type == FrameType.INFO
        assert (await ask(Frame(FrameType.HEARTBEAT, 8))).type == FrameType.ACK
    finally:
        await mcu.stop()
        await module_end.close()


@pytest.mark.parametrize(("speed", "scale"), [(10.0, 10.0), (1.0, 1.0), (0.0, 1.0)])
def test_the_mcu_tells_the_simulator_its_speed(speed: float, scale: float) -> None:
    """Durations on the wire are wall-clock seconds at the MCU's speed (0: a frozen clock)."""
    simulator = create_simulator(ApplianceType.DISHWASHER, seed=3, index=0)
    _, mcu_end = memory_link_pair()
    SimulatedSerialMcu(simulator, mcu_end, speed=speed)
    assert simulator.time_scale == scale
