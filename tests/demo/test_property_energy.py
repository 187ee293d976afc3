"""The property demo's Energy dashboard preferences, from registries as HA lists them."""

from __future__ import annotations

from typing import Any

from scripts.property_energy import find_sensors, issues_for, merged_prefs

DOMAIN = "liuzhou_appliances"


def _entity(unique_id: str, entity_id: str, platform: str = DOMAIN) -> dict[str, Any]:
    return {"unique_id": unique_id, "entity_id": entity_id, "platform": platform}


REGISTRY = [
    _entity("room_tower_a_101_energy", "sensor.tower_a_101_energy"),
    _entity("room_tower_a_101_energy_cost", "sensor.tower_a_101_energy_cost"),
    _entity("room_tower_a_201_energy", "sensor.tower_a_201_energy"),
    _entity("floor_tower_a_1_energy", "sensor.tower_a_1_energy"),
    _entity("floor_tower_a_2_energy", "sensor.tower_a_2_energy"),
    _entity("property_energy", "sensor.property_energy"),
    _entity("property_energy_cost", "sensor.property_energy_cost"),
    _entity("lz-ac-1_energy", "sensor.air_conditioner_energy"),
    # Another integration's entity with a look-alike unique id is not ours.
    _entity("room_tower_a_101_energy", "sensor.other_room_energy", platform="other"),
]
AREAS: list[dict[str, Any]] = [
    {"area_id": "tower_a_101", "floor_id": "tower_a_1"},
    {"area_id": "tower_a_201", "floor_id": "tower_a_2"},
    {"area_id": "kitchen", "floor_id": None},  # no appliance, no room sensor
]


def test_sensors_are_found_by_unique_id_with_each_room_s_floor() -> None:
    sensors = find_sensors(REGISTRY, AREAS)
    assert sensors.rooms == {
        "tower_a_101": "sensor.tower_a_101_energy",
        "tower_a_201": "sensor.tower_a_201_energy",
    }
    assert sensors.room_floor == {"tower_a_101": "tower_a_1", "tower_a_201": "tower_a_2"}
    assert sensors.floors == {
        "tower_a_1": "sensor.tower_a_1_energy",
        "tower_a_2": "sensor.tower_a_2_energy",
    }
    assert (sensors.property_energy, sensors.property_cost) == (
        "sensor.property_energy",
        "sensor.property_energy_cost",
    )


def test_prefs_add_floors_rooms_in_their_floor_and_the_grid_keeping_the_user_s() -> None:
    sensors = find_sensors(REGISTRY, AREAS)
    before = {
        "device_consumption": [{"stat_consumption": "sensor.air_conditioner_energy"}],
        "energy_sources": [{"type": "solar", "stat_energy_from": "sensor.solar"}],
    }
    prefs = merged_prefs(before, sensors)
    assert prefs["device_consumption"] == [
        {"stat_consumption": "sensor.air_conditioner_energy"},
        {"stat_consumption": "sensor.tower_a_1_energy"},
        {"stat_consumption": "sensor.tower_a_2_energy"},
        {
            "stat_consumption": "sensor.tower_a_101_energy",
            "included_in_stat": "sensor.tower_a_1_energy",
        },
        {
            "stat_consumption": "sensor.tower_a_201_energy",
            "included_in_stat": "sensor.tower_a_2_energy",
        },
    ]
    solar, grid = prefs["energy_sources"]
    assert solar == before["energy_sources"][0]
    assert grid["type"] == "grid"
    assert [(f["stat_energy_from"], f["stat_cost"]) for f in grid["flow_from"]] == [
        ("sensor.property_energy", "sensor.property_energy_cost")
    ]
    # A second run (the demo over the same state directory) adds nothing twice.
    assert merged_prefs(prefs, sensors) == prefs


def test_issues_are_those_of_the_given_sensors_by_type() -> None:
    validation = {
        "energy_sources": [
            [
                {
                    "type": "statistics_not_defined",
                    "affected_entities": [["sensor.property_energy", None]],
                }
            ]
        ],
        "device_consumption": [
            [{"type": "entity_unavailable", "affected_entities": [["sensor.x", "unavailable"]]}],
            [
                {
                    "type": "entity_unexpected_unit_energy",
                    "affected_entities": [["sensor.tower_a_1_energy", "W"]],
                }
            ],
        ],
    }
    assert issues_for(validation, ["sensor.property_energy", "sensor.tower_a_1_energy"]) == {
        "sensor.property_energy": {"statistics_not_defined"},
        "sensor.tower_a_1_energy": {"entity_unexpected_unit_energy"},
    }
