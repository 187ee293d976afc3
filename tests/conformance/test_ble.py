"""The kit over BLE: simulated appliances served on virtual controllers, the kit's central
on the same in-process link."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import dataclasses
from typing import Literal

import pytest

from custom_components.liuzhou_appliances.link import ble_advertisement
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.ble import VirtualLink, fleet, peripheral
from firmware_bridge.ble.central import BleCentral
from firmware_bridge.ble.peripheral import BlePeripheral
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances
from firmware_bridge.conformance import BLE_CHECK_NAMES, ConformanceOptions, Status, run_conformance

from .conftest import explain, failed_checks, options_for


@contextlib.asynccontextmanager
async def over_ble(
    seed: int, kind: Literal["ac", "dishwasher"] = "ac"
) -> AsyncIterator[tuple[SimulatedProduct, ConformanceOptions]]:
    """One simulated appliance (an air conditioner) served over BLE, kit options aimed at it."""
    async with (
        simulated_appliances(
            ac=int(kind == "ac"), dishwasher=int(kind == "dishwasher"), seed=seed, zeroconf=False
        ) as (appliance,),
        contextlib.AsyncExitStack() as stack,
    ):
        link = VirtualLink()
        (served,) = await fleet.serve_over_ble([appliance], [], None, stack, link)
        central = await BleCentral.open("virtual", link=link)
        stack.push_async_callback(central.close)
        side = await BleCentral.open("virtual", link=link, address="F5:F4:F3:F2:F1:F1")
        stack.push_async_callback(side.close)
        options = dataclasses.replace(
            options_for(appliance, discovery_timeout=2.0),
            host=served.address,
            ble=central,
            ble_side=side,
        )
        yield appliance, options


async def test_simulator_over_ble_passes_every_check() -> None:
    async with over_ble(201) as (appliance, options):
        results = await run_conformance(options)
        assert [r.check for r in results] == list(BLE_CHECK_NAMES)
        assert all(r.counts for r in results), explain(results)
        assert results[0].status is Status.NOT_APPLICABLE
        assert "zeroconf" in results[0].detail
        assert appliance.module.paired
    mtu = next(r for r in results if r.check == "ble_mtu")
    assert "negotiated 517" in mtu.detail, explain(results)
    counter = next(r for r in results if r.check == "ble_change_counter")
    assert counter.status is Status.NOT_APPLICABLE  # an air conditioner stays connected


async def test_on_demand_dishwasher_advertises_its_changes() -> None:
    async with over_ble(203, "dishwasher") as (_, options):
        results = await run_conformance(options)
    counter = next(r for r in results if r.check == "ble_change_counter")
    assert counter.status is Status.PASSED, explain(results)
    assert all(r.counts for r in results), explain(results)


async def test_a_counter_that_does_not_follow_the_state_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = ble_advertisement.advertising_data

    def stuck(
        appliance_id: str, appliance_type: ApplianceType, *, paired: bool, seq: int = 0
    ) -> bytes:
        return real(appliance_id, appliance_type, paired=paired)

    monkeypatch.setattr(peripheral, "advertising_data", stuck)  # as imported there
    async with over_ble(204, "dishwasher") as (_, options):
        results = await run_conformance(options)
    assert failed_checks(results) == {"ble_change_counter"}, explain(results)


async def test_wrong_advertisement_format_fails_ble_advertisement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = ble_advertisement.advertising_data

    def format_two(
        appliance_id: str, appliance_type: ApplianceType, *, paired: bool, seq: int = 0
    ) -> bytes:
        data = bytearray(real(appliance_id, appliance_type, paired=paired, seq=seq))
        data[21] = (2 << 4) | (data[21] & 0x0F)  # format_flags: after flags (3) and AD header+UUID
        return bytes(data)

    monkeypatch.setattr(peripheral, "advertising_data", format_two)  # as imported there
    async with over_ble(202) as (_, options):
        results = await run_conformance(options)
    assert failed_checks(results) == {"ble_advertisement", "ble_paired_flag"}, explain(results)
    assert "unknown service data format 2" in results[1].detail


async def test_appliance_that_never_reassembles_fails_the_mtu_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Firmware that handles single-fragment frames only: fine at MTU 517 for small
    # frames, lost at MTU 23 where every frame is several fragments.
    real = BlePeripheral._on_write

    def first_fragments_only(self: BlePeripheral, connection: object, value: bytes) -> None:
        if value[0] & 0x80:
            real(self, connection, bytes([value[0] | 0x40]) + value[1:])  # type: ignore[arg-type]

    monkeypatch.setattr(BlePeripheral, "_on_write", first_fragments_only)
    async with over_ble(203) as (_, options):
        results = await run_conformance(options)
    assert "ble_mtu" in failed_checks(results), explain(results)
    assert "ble_advertisement" not in failed_checks(results), explain(results)
