"""The real simulators of all four types pass every check (in-process)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.bridge import simulated_appliances
from firmware_bridge.conformance import CHECK_NAMES, Status, run_conformance

from .conftest import explain, options_for

TYPES = {
    ApplianceType.ROOM_AIR_CONDITIONER: "ac",
    ApplianceType.REFRIGERATOR: "fridge",
    ApplianceType.LAUNDRY_WASHER: "washer",
    ApplianceType.DISHWASHER: "dishwasher",
}


@pytest.mark.parametrize("appliance_type", list(TYPES), ids=list(TYPES.values()))
async def test_simulator_passes_every_check(appliance_type: ApplianceType) -> None:
    count: dict[str, Any] = {TYPES[appliance_type]: 1}  # ac=1, fridge=1, ...
    async with simulated_appliances(**count, seed=101) as (appliance,):
        results = await run_conformance(options_for(appliance))
        assert [result.check for result in results] == list(CHECK_NAMES)
        assert all(result.passed for result in results), explain(results)
        # The run leaves the appliance as it found it (settings restored, re-paired).
        assert appliance.module.paired
        state = appliance.simulator.values()
        if "operational_state" in state:
            assert state["operational_state"] == "stopped"
        assert all(result.duration_ms < 10_000 for result in results), explain(results)
    assert {r.status for r in results} == {Status.PASSED}


async def test_skipped_discovery_is_reported_and_not_a_pass() -> None:
    async with simulated_appliances(ac=1, seed=102, zeroconf=False) as (appliance,):
        results = await run_conformance(options_for(appliance), skip_discovery=True)
    first = results[0]
    assert first.check == "discovery_record"
    assert first.status is Status.SKIPPED
    assert not first.passed
    assert first.to_json()["skipped"] is True
    assert all(result.passed for result in results[1:]), explain(results)


async def test_missing_advertisement_fails_discovery_only() -> None:
    # An appliance that does not advertise at all: the hub could never find it.
    async with simulated_appliances(ac=1, seed=103, zeroconf=False) as (appliance,):
        results = await run_conformance(options_for(appliance, discovery_timeout=1.0))
    assert {r.check for r in results if not r.passed} == {"discovery_record"}, explain(results)
    assert "no _liuzhou._tcp.local. service" in results[0].detail


async def test_unreachable_device_fails_every_check_quickly() -> None:
    async with simulated_appliances(ac=1, seed=104, zeroconf=False) as (appliance,):
        options = options_for(appliance, discovery_timeout=0.5)
    # The appliance is gone: nothing passes, every check says why, nothing hangs.
    results = await run_conformance(options)
    assert [r.check for r in results] == list(CHECK_NAMES)
    assert not any(r.passed for r in results)
    assert all(r.detail for r in results)
    assert "not run" in results[-1].detail


async def test_a_paired_device_needs_its_pairing_button_before_a_run() -> None:
    async with simulated_appliances(washer=1, seed=105, zeroconf=False) as (appliance,):
        options = options_for(appliance)
        first = await run_conformance(options, skip_discovery=True)
        assert all(result.passed for result in first[1:]), explain(first)
        # Paired by the first run: the window is closed, and the kit says what to do.
        again = await run_conformance(options, skip_discovery=True)
        commissioning = next(r for r in again if r.check == "commissioning")
        assert not commissioning.passed
        assert "press its pairing button" in commissioning.detail, explain(again)
        assert appliance.module.server.pairing_limiter.failures == 0
        await appliance.press_pairing_button()
        third = await run_conformance(options, skip_discovery=True)
        assert all(result.passed for result in third[1:]), explain(third)
