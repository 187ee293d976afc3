"""Integration benchmark: setup, command round trip and push latency through Home Assistant.

``./scripts/bench integration [--rounds N]`` runs a test Home Assistant and
real simulated appliances (firmware_bridge) on 127.0.0.1 in one process and
one event loop, and measures side by side:

* setup: config entry setup (connect, describe, read, subscribe, entities) per appliance;
* command: ``climate.set_temperature`` service call until the appliance acknowledged,
  against the bare ``ApplianceClient.write`` to the same appliance;
* push: simulator change until the Home Assistant state changed, against
  until the bare client's state listener heard it.

Prints a table and one JSON line; the ratios are Home Assistant's overhead.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import json
import logging
import math
import statistics
import tempfile
import time
from typing import Any

from homeassistant import loader
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.liuzhou_appliances.config_flow import async_get_hub_id
from custom_components.liuzhou_appliances.const import (
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEY,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances


def timing_summary(samples: list[float]) -> dict[str, float]:
    """Median and 90th percentile of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[math.ceil(0.9 * len(ordered)) - 1] * 1000, 3),
    }


async def paired_entry(hass: HomeAssistant, appliance: SimulatedProduct) -> MockConfigEntry:
    """Pair ``appliance`` with this hub and add its config entry (not set up yet)."""
    hub_id = await async_get_hub_id(hass)
    result = await pair(appliance.host, appliance.port, appliance.code, hub_id=hub_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{result.hello.model} {result.hello.appliance_id}",
        unique_id=result.hello.appliance_id,
        data={
            CONF_HOST: appliance.host,
            CONF_PORT: appliance.port,
            CONF_APPLIANCE_ID: result.hello.appliance_id,
            CONF_KEY: result.key.hex(),
            CONF_HUB_ID: hub_id,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def _wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5.0):
        while not condition():  # noqa: ASYNC110 - polling every loop turn is the measurement
            await asyncio.sleep(0)


async def run(rounds: int) -> dict[str, Any]:
    """Measure everything; return the results."""
    # Home Assistant writes .storage/ into its config dir: keep that out of the checkout.
    with tempfile.TemporaryDirectory(prefix="liuzhou-bench-") as config_dir:
        return await _run_in(config_dir, rounds)


async def _run_in(config_dir: str, rounds: int) -> dict[str, Any]:
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        # Load custom integrations from this repository (the test harness blocks them).
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        # No multicast here: discovery is not measured.
        hass.config.components.add("zeroconf")
        async with simulated_appliances(
            ac=4, fridge=4, washer=4, dishwasher=4, speed=0.0, zeroconf=False
        ) as fleet:
            setup_times: dict[str, list[float]] = {}
            first_setup: float | None = None
            entries = []
            for appliance in fleet:
                entry = await paired_entry(hass, appliance)
                started = time.perf_counter()
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                elapsed = time.perf_counter() - started
                if first_setup is None:
                    first_setup = elapsed  # includes importing the platform modules
                else:
                    setup_times.setdefault(str(appliance.type), []).append(elapsed)
                entries.append(entry)

            ac = fleet[0]
            ac_entry = entries[0]
            climate = next(
                e.entity_id
                for e in er.async_entries_for_config_entry(er.async_get(hass), ac_entry.entry_id)
                if e.domain == "climate"
            )
            bare = ApplianceClient(
                ac.host,
                ac.port,
                bytes.fromhex(ac_entry.data[CONF_KEY]),
                hub_id="bench-bare-client",
            )
            await bare.connect()
            targets = [20.0 + 0.5 * (i % 16) for i in range(rounds)]

            via_ha: list[float] = []
            for target in targets:
                started = time.perf_counter()
                await hass.services.async_call(
                    "climate",
                    "set_temperature",
                    {"entity_id": climate, "temperature": target},
                    blocking=True,
                )
                via_ha.append(time.perf_counter() - started)
            bare_write: list[float] = []
            for target in targets:
                started = time.perf_counter()
                await bare.write({"target_temperature": target})
                bare_write.append(time.perf_counter() - started)

            # Push: the simulator's target changes (as from the remote control).
            push_ha: list[float] = []
            push_bare: list[float] = []
            heard: dict[str, float] = {}

            def on_state(event: Event[EventStateChangedData]) -> None:
                new = event.data["new_state"]
                if new is not None and new.attributes.get("temperature") == heard.get("want"):
                    heard["ha"] = time.perf_counter()

            def on_bare(values: Any) -> None:
                if values.get("target_temperature") == heard.get("want"):
                    heard["bare"] = time.perf_counter()

            unsubscribe = hass.bus.async_listen(
                EVENT_STATE_CHANGED,
                lambda event: on_state(event) if event.data["entity_id"] == climate else None,
            )
            remove_bare = bare.add_state_listener(on_bare)
            for index in range(rounds):
                want = 16.0 + 0.5 * (index % 2)
                heard.clear()
                heard["want"] = want
                started = time.perf_counter()
                ac.simulator.write("target_temperature", want)
                await ac.mcu.report_changes()
                await _wait_for(lambda: "ha" in heard and "bare" in heard)
                push_ha.append(heard["ha"] - started)
                push_bare.append(heard["bare"] - started)
            unsubscribe()
            remove_bare()
            await bare.disconnect()

            for entry in entries:
                await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()

    setup = {kind: timing_summary(times) for kind, times in setup_times.items()}
    assert first_setup is not None
    command = {
        "via_home_assistant": timing_summary(via_ha),
        "bare_client": timing_summary(bare_write),
    }
    push = {
        "to_home_assistant_state": timing_summary(push_ha),
        "to_bare_client": timing_summary(push_bare),
    }
    return {
        "rounds": rounds,
        "first_setup_ms": round(first_setup * 1000, 3),
        "setup_per_appliance": setup,
        "command_round_trip": command,
        "command_ratio_ha_to_bare": round(
            command["via_home_assistant"]["median_ms"] / command["bare_client"]["median_ms"], 2
        ),
        "push_latency": push,
        "push_ratio_ha_to_bare": round(
            push["to_home_assistant_state"]["median_ms"] / push["to_bare_client"]["median_ms"], 2
        ),
    }


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(run(args.rounds))
    print("setup per appliance (connect + describe + read + subscribe + entities):")
    print(f"  first entry (imports the platforms): {results['first_setup_ms']:.2f} ms")
    for kind, numbers in results["setup_per_appliance"].items():
        print(
            f"  {kind:22} median {numbers['median_ms']:8.2f} ms   p90 {numbers['p90_ms']:8.2f} ms"
        )
    for title, key, ratio in (
        ("command round trip", "command_round_trip", "command_ratio_ha_to_bare"),
        ("push latency", "push_latency", "push_ratio_ha_to_bare"),
    ):
        print(f"{title} ({results['rounds']} rounds):")
        for name, numbers in results[key].items():
            median, p90 = numbers["median_ms"], numbers["p90_ms"]
            print(f"  {name:24} median {median:8.3f} ms   p90 {p90:8.3f} ms")
        print(f"  ratio Home Assistant / bare client: {results[ratio]}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
