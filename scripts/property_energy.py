"""A hub's Energy dashboard in the property demo: rooms and floors, the property as the grid.

What the site engineer does in Settings → Dashboards → Energy once a building
is provisioned, through the same websocket commands the frontend sends
(``energy/save_prefs``, then ``energy/validate``): every floor's **Energy**
sensor as an individual device, every room's **Energy** sensor as a device
included in its floor's (so the dashboard does not count a room twice), and
the property's **Energy** with its **Energy cost** as the grid consumption
(docs/fleet.md, "Energy per room and floor"). What the user configured before
is kept. aiohttp is imported by the callers; only the standard library at
import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scripts import demo_owner as owner
from scripts.demo_owner import DOMAIN, DemoError

if TYPE_CHECKING:
    import aiohttp

SENSORS_DEADLINE = 60.0  # seconds until the household has a sensor for every room and floor
STATISTICS_DEADLINE = 420.0  # seconds until the recorder's first compile (every 5 minutes)
STATISTICS_POLL = 15.0  # seconds between validations while waiting for it
# Home Assistant's recorder compiles statistics every 5 minutes: until its first
# compile after the sensors appear, validation says their statistics are not
# defined. That is expected on a new hub, and not a fault of the sensors.
NOT_YET = frozenset({"statistics_not_defined"})


@dataclass(frozen=True, slots=True)
class EnergySensors:
    """The household's energy sensors (entity ids) of a hub."""

    rooms: dict[str, str]  # room (area) id -> its Energy sensor
    room_floor: dict[str, str]  # room (area) id -> its floor id
    floors: dict[str, str]  # floor id -> its Energy sensor
    property_energy: str | None
    property_cost: str | None

    @property
    def all(self) -> list[str]:
        """Every sensor the dashboard is given."""
        extra = [s for s in (self.property_energy, self.property_cost) if s is not None]
        return [*self.floors.values(), *self.rooms.values(), *extra]


@dataclass(frozen=True, slots=True)
class EnergyDashboard:
    """What the hub's Energy dashboard shows and what Home Assistant's validation said.

    ``sensors``: the entity ids it was given; ``pending``: issue types of
    NOT_YET per entity id (statistics not compiled yet).
    """

    rooms: int
    floors: int
    sensors: list[str]
    pending: dict[str, set[str]]

    def summary(self) -> str:
        """One line, e.g. ``10 rooms, 2 floors, the property as the grid``."""
        text = f"{self.rooms} rooms, {self.floors} floors, the property as the grid"
        if self.pending:
            text += "; statistics from the recorder's next 5-minute compile"
        return text


def find_sensors(
    registry: Iterable[Mapping[str, Any]], areas: Iterable[Mapping[str, Any]]
) -> EnergySensors:
    """The room, floor and property energy sensors in the entity registry's list.

    Unique ids (docs/fleet.md): ``room_{area_id}_energy``,
    ``floor_{floor_id}_energy``, ``property_energy``, ``property_energy_cost``.
    ``areas``: the area registry's list (each area's ``floor_id``).
    """
    by_unique_id = {
        str(entity["unique_id"]): str(entity["entity_id"])
        for entity in registry
        if entity.get("platform") == DOMAIN and str(entity["entity_id"]).startswith("sensor.")
    }
    rooms: dict[str, str] = {}
    room_floor: dict[str, str] = {}
    floors: dict[str, str] = {}
    for area in areas:
        entity_id = by_unique_id.get(f"room_{area['area_id']}_energy")
        if entity_id is not None:
            rooms[area["area_id"]] = entity_id
            if area.get("floor_id"):
                room_floor[area["area_id"]] = area["floor_id"]
    for floor_id in dict.fromkeys(room_floor.values()):  # in the areas' order
        if (entity_id := by_unique_id.get(f"floor_{floor_id}_energy")) is not None:
            floors[floor_id] = entity_id
    return EnergySensors(
        rooms=rooms,
        room_floor=room_floor,
        floors=floors,
        property_energy=by_unique_id.get("property_energy"),
        property_cost=by_unique_id.get("property_energy_cost"),
    )


def merged_prefs(prefs: Mapping[str, Any], sensors: EnergySensors) -> dict[str, Any]:
    """``energy/save_prefs``'s arguments: ``prefs`` with the sensors added.

    Floors are devices; each room is a device included in its floor's
    (``included_in_stat``); the property's energy and cost are a grid
    consumption. Devices and sources already there are kept as they are.
    """
    devices: list[dict[str, Any]] = [dict(d) for d in prefs.get("device_consumption", [])]
    present = {device["stat_consumption"] for device in devices}
    devices += [{"stat_consumption": s} for s in sensors.floors.values() if s not in present]
    for area_id, sensor in sensors.rooms.items():
        if sensor in present:
            continue
        device: dict[str, Any] = {"stat_consumption": sensor}
        floor_sensor = sensors.floors.get(sensors.room_floor.get(area_id, ""))
        if floor_sensor is not None:
            device["included_in_stat"] = floor_sensor
        devices.append(device)
    sources: list[dict[str, Any]] = [dict(s) for s in prefs.get("energy_sources", [])]
    if sensors.property_energy is not None:
        grid = next((s for s in sources if s.get("type") == "grid"), None)
        if grid is None:
            grid = {"type": "grid", "flow_from": [], "flow_to": [], "cost_adjustment_day": 0}
            sources.append(grid)
        flows = list(grid.get("flow_from", []))
        if all(flow["stat_energy_from"] != sensors.property_energy for flow in flows):
            flows.append(
                {
                    "stat_energy_from": sensors.property_energy,
                    "stat_cost": sensors.property_cost,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
            )
        grid["flow_from"] = flows
    return {"device_consumption": devices, "energy_sources": sources}


def issues_for(validation: Mapping[str, Any], entity_ids: Iterable[str]) -> dict[str, set[str]]:
    """Issue types per entity id of ``entity_ids`` in ``energy/validate``'s answer.

    The answer: ``{"energy_sources": [[issue]], "device_consumption": [[issue]]}``,
    each issue ``{"type", "affected_entities": [[entity id, detail]], ...}``.
    """
    wanted = set(entity_ids)
    found: dict[str, set[str]] = {}
    for group in ("energy_sources", "device_consumption"):
        for issues in validation.get(group, []):
            for issue in issues:
                for affected in issue.get("affected_entities", []):
                    if affected[0] in wanted:
                        found.setdefault(affected[0], set()).add(str(issue["type"]))
    return found


async def _sensors(ws: owner.Websocket, rooms: int) -> EnergySensors:
    """The hub's energy sensors once every one of its ``rooms`` rooms has one."""
    sensors = EnergySensors({}, {}, {}, None, None)
    try:
        async with asyncio.timeout(SENSORS_DEADLINE):
            while True:
                registry = await ws.call("config/entity_registry/list")
                areas = await ws.call("config/area_registry/list")
                sensors = find_sensors(registry, areas)
                if (
                    len(sensors.rooms) >= rooms
                    and len(sensors.floors) == len(set(sensors.room_floor.values()))
                    and sensors.property_energy is not None
                    and sensors.property_cost is not None
                ):
                    return sensors
                await asyncio.sleep(1)
    except TimeoutError:
        raise DemoError(
            f"the household has energy sensors for {len(sensors.rooms)} of {rooms} rooms "
            f"after {SENSORS_DEADLINE:.0f} s"
        ) from None


async def set_up_energy_dashboard(
    session: aiohttp.ClientSession, base: str, token: str, rooms: int
) -> EnergyDashboard:
    """Put the hub's ``rooms`` rooms, their floors and the property on its Energy dashboard.

    DemoError if the sensors do not all appear, or if Home Assistant's
    validation reports an issue for one of them other than NOT_YET.
    """
    async with owner.websocket(session, base, token) as ws:
        sensors = await _sensors(ws, rooms)
        try:
            prefs = await ws.call("energy/get_prefs")
        except owner.WebsocketError as err:
            if err.code != "not_found":  # no preferences saved yet
                raise
            prefs = {}
        await ws.call("energy/save_prefs", **merged_prefs(prefs, sensors))
        issues = issues_for(await ws.call("energy/validate"), sensors.all)
    if faults := _faults(issues):
        raise DemoError(f"Home Assistant's energy validation reports {faults}")
    return EnergyDashboard(
        rooms=len(sensors.rooms), floors=len(sensors.floors), sensors=sensors.all, pending=issues
    )


def _faults(issues: Mapping[str, set[str]]) -> str:
    """The issues but NOT_YET, in words; empty if none."""
    return "; ".join(
        f"{entity}: {', '.join(sorted(kinds - NOT_YET))}"
        for entity, kinds in issues.items()
        if kinds - NOT_YET
    )


async def statistics_compiled(
    session: aiohttp.ClientSession, base: str, token: str, dashboard: EnergyDashboard
) -> None:
    """Wait for the recorder's first statistics of the dashboard's sensors, then validate.

    Returns once Home Assistant's validation reports no issue for them;
    DemoError if it reports another issue, or the statistics are still
    missing after STATISTICS_DEADLINE.
    """
    issues: dict[str, set[str]] = dict(dashboard.pending)
    try:
        async with asyncio.timeout(STATISTICS_DEADLINE):
            while issues:
                await asyncio.sleep(STATISTICS_POLL)
                async with owner.websocket(session, base, token) as ws:
                    issues = issues_for(await ws.call("energy/validate"), dashboard.sensors)
                if faults := _faults(issues):
                    raise DemoError(f"Home Assistant's energy validation reports {faults}")
    except TimeoutError:
        raise DemoError(
            f"no statistics for {len(issues)} energy sensors {STATISTICS_DEADLINE:.0f} s "
            "after they were put on the Energy dashboard"
        ) from None
