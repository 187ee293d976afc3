"""Bringing the estate up for the scale benchmark: the property demo's parts, at scale.

The broker (scripts/property_broker.py: a password per hub and head office, the
estate ACL), one ``python -m firmware_bridge simulate`` process per building (its
own seed, so ids never clash; ports chosen by the system), one Home Assistant per
building set up as the property demo sets its hubs up (scripts/property_hub.py),
and ``python -m fleet.provision --building --json`` into every hub at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
import json
import os
from pathlib import Path
import sys
import time
from typing import IO, Any

from scripts import demo, demo_owner as owner, property_broker, property_hub
from scripts.demo_owner import DOMAIN, DemoError
from scripts.property_demo import Hub

ROOT = Path(__file__).resolve().parents[2]


async def start_simulators(
    need: Counter[str], seed: int, speed: float, state_dir: Path, log: IO[str]
) -> tuple[asyncio.subprocess.Process, list[dict[str, Any]]]:
    """One simulate process for ``need`` (simulator type -> count); it and what it printed.

    DemoError if it exits or has not printed every appliance within a deadline
    that grows with the count (their keys are made at start).
    """
    command = [sys.executable, "-m", "firmware_bridge", "simulate"]
    for flag, kind in (
        ("--ac", "room_air_conditioner"),
        ("--fridge", "refrigerator"),
        ("--washer", "laundry_washer"),
        ("--dishwasher", "dishwasher"),
    ):
        command += [flag, str(need.get(kind, 0))]
    command += ["--seed", str(seed), "--speed", str(speed), "--state-dir", str(state_dir)]
    command += ["--json", "--no-zeroconf"]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    assert process.stdout is not None
    wanted = sum(need.values())
    appliances: list[dict[str, Any]] = []
    deadline = 60 + 0.2 * wanted
    try:
        async with asyncio.timeout(deadline):
            while len(appliances) < wanted:
                line = await process.stdout.readline()
                if not line:
                    raise DemoError(f"simulators (seed {seed}) exited at start; see {log.name}")
                appliances.append(json.loads(line))
    except TimeoutError:
        process.terminate()
        raise DemoError(
            f"simulators (seed {seed}) did not start within {deadline:.0f} s; see {log.name}"
        ) from None
    return process, appliances


async def start_hub(hub: Hub, log: IO[str]) -> asyncio.subprocess.Process:
    """Write the hub's configuration (the demo's) and start its Home Assistant.

    Each hub gets a temporary directory of its own: Home Assistant's file upload
    keeps uploads in ``<tmp>/home-assistant-file_upload`` and empties that folder
    when it first uploads, so hubs on one machine sharing /tmp delete each other's
    uploaded rosters (seen: "cannot read .../roster.csv" when four hubs provision
    at once).
    """
    demo._write_ha_config(hub.directory / "config", "127.0.0.1", hub.port)
    tmp = hub.directory / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return await asyncio.create_subprocess_exec(
        *demo._home_assistant_command(hub.directory / "config"),
        env={**os.environ, "TMPDIR": str(tmp)},
        cwd=ROOT,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )


async def set_up_hub(
    hub: Hub, process: asyncio.subprocess.Process, broker: property_broker.Broker, estate: str
) -> str:
    """Onboard the hub, log its MQTT in as the hub's user, set up its household; its token."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        await demo._wait_for_http(session, hub.base, process, str(hub.log))
        access = await owner.onboard(session, hub.base, hub.directory / "credentials.json")
        await owner.remove_online_only_entries(session, hub.base, access)
        token = await property_hub.long_lived_token(session, hub.base, access, hub.token_file)
        user = property_broker.hub_user(hub.building_id)
        login = property_hub.MqttLogin(
            broker.port, user, broker.passwords[user], broker.ca, hub.trusted_ca
        )
        await property_hub.set_up_mqtt(
            session, hub.base, token, login, f"liuzhou/{estate}/{hub.building_id}/status"
        )
        await property_hub.set_up_household(session, hub.base, token, estate, hub.building_id)
    return token


@dataclass(slots=True)
class Provisioned:
    """One hub's provisioning: wall time (s), exit status and fleet.provision's report."""

    building: str
    wall_s: float
    status: int
    report: dict[str, Any]


async def provision(hub: Hub, roster: Path, deadline: float) -> Provisioned:
    """Run ``fleet.provision --building --json`` into the hub; DemoError past ``deadline`` s."""
    progress = hub.directory / "provision.log"
    output = hub.directory / "provision.json"
    started = time.monotonic()
    with progress.open("w") as err, output.open("w") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fleet.provision",
            str(roster),
            "--url",
            hub.base,
            "--token-file",
            str(hub.token_file),
            "--building",
            hub.building,
            "--json",
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
        try:
            async with asyncio.timeout(deadline):
                status = await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise DemoError(
                f"provisioning {hub.building} did not finish within {deadline:.0f} s; "
                f"see {progress}"
            ) from None
    wall = time.monotonic() - started
    try:
        report: dict[str, Any] = json.loads(output.read_text())
    except ValueError:
        raise DemoError(
            f"provisioning {hub.building} gave no report (exit status {status}); see {progress}"
        ) from None
    return Provisioned(hub.building, wall, status, report)


async def climate_entities(hub: Hub, token: str) -> dict[str, str]:
    """The hub's AC climate entities by appliance id (entity and device registries)."""
    import aiohttp

    async with aiohttp.ClientSession() as session, owner.websocket(session, hub.base, token) as ws:
        devices = await ws.call("config/device_registry/list")
        entities = await ws.call("config/entity_registry/list")
    appliance_of = {
        device["id"]: identifier[1]
        for device in devices
        for identifier in device.get("identifiers", [])
        if len(identifier) == 2 and identifier[0] == DOMAIN
    }
    return {
        appliance_of[entity["device_id"]]: entity["entity_id"]
        for entity in entities
        if entity["platform"] == DOMAIN
        and entity["entity_id"].startswith("climate.")
        and entity.get("device_id") in appliance_of
    }
