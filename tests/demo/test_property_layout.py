"""The property's layout: the demo's default, and serviced apartments for the scale run."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from scripts import property_layout
from scripts.property_layout import Place, layout


def test_default_layout_is_the_demos_two_towers() -> None:
    places = layout(40)
    assert property_layout.BUILDINGS == (("Tower A", "tower-a"), ("Tower B", "tower-b"))
    assert property_layout.counts(places) == Counter(
        room_air_conditioner=40, refrigerator=4, laundry_washer=2
    )
    # Ten rooms a floor, numbered from the floor; the fridge in its first room.
    acs = [p for p in places if p.kind == "room_air_conditioner" and p.building == "Tower B"]
    assert [p.room for p in acs if p.floor == 2] == [f"2{n:02d}" for n in range(1, 11)]
    assert Place("Tower A", "tower-a", 1, "101", "refrigerator") in places
    assert Place("Tower B", "tower-b", 1, "Laundry", "laundry_washer") in places


def test_chinese_layout_names_buildings_and_laundry_in_chinese() -> None:
    places = layout(4, language="zh-Hans")
    assert property_layout.buildings(2, "zh-Hans") == [("A栋", "tower-a"), ("B栋", "tower-b")]
    assert Place("B栋", "tower-b", 1, "洗衣房", "laundry_washer") in places
    # The same rooms and appliances as in English: only the names differ.
    assert [(p.building_id, p.floor, p.kind) for p in places] == [
        (p.building_id, p.floor, p.kind) for p in layout(4)
    ]


def test_serviced_apartments_have_their_appliances_in_every_room() -> None:
    places = layout(500, building_count=4, floors_per_building=5, per_room=4)
    assert len(places) == 2000
    assert {(p.building, p.building_id) for p in places} == {
        ("Tower A", "tower-a"),
        ("Tower B", "tower-b"),
        ("Tower C", "tower-c"),
        ("Tower D", "tower-d"),
    }
    rooms = Counter((p.building, p.floor, p.room) for p in places)
    assert len(rooms) == 500
    assert set(rooms.values()) == {4}
    kinds = Counter(p.kind for p in places)
    assert set(kinds.values()) == {500}
    assert set(kinds) == set(property_layout.APARTMENT)
    assert {p.floor for p in places} == {1, 2, 3, 4, 5}
    # 25 rooms a floor; no laundry, no extra fridge.
    assert sorted({p.room for p in places if p.floor == 3}) == [f"3{n:02d}" for n in range(1, 26)]


def test_uneven_rooms_and_wide_room_numbers() -> None:
    places = layout(202, building_count=1, floors_per_building=2, per_room=2)
    floor_rooms = Counter(p.floor for p in places if p.kind == "room_air_conditioner")
    assert floor_rooms == {1: 101, 2: 101}
    # A floor of over 99 rooms numbers them with three digits: 1001, not 1100 or 110.
    assert {"1001", "1101", "2101"} <= {p.room for p in places}
    assert {p.kind for p in places} == {"room_air_conditioner", "refrigerator"}


@pytest.mark.parametrize(
    ("rooms", "options", "message"),
    [
        (3, {}, "at least 4 rooms"),
        (8, {"per_room": 5}, "1 to 4 appliances a room"),
        (8, {"per_room": 0}, "1 to 4 appliances a room"),
        (8, {"building_count": 27}, "1 to 26 buildings"),
        (8, {"floors_per_building": 0}, "at least one floor"),
        (8, {"language": "fr"}, "no building names in 'fr'"),
    ],
)
def test_impossible_layouts_are_refused(rooms: int, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        layout(rooms, **options)
