"""The property demo's property: buildings, floors, rooms and what stands in each.

``layout(rooms)`` spreads the rooms over two buildings of two floors each (40
rooms: 10 a floor), with an air conditioner in every room, a refrigerator in
each floor's first room and a washing machine in each building's laundry on
its first floor. With ``per_room`` it is a block of serviced apartments
instead (the scale benchmark's): the first ``per_room`` of an air conditioner,
a refrigerator, a washer and a dishwasher in every room, over as many
buildings and floors as asked. ``write_roster`` turns the simulators' ids,
addresses and printed pairing codes into the roster fleet.provision reads
(docs/fleet.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLOORS_PER_BUILDING = 2
# The laundry room and a building's name in the demo's languages (scripts/demo.LANGUAGES).
LAUNDRY = {"en": "Laundry", "zh-Hans": "洗衣房"}
BUILDING_NAME = {"en": "Tower {letter}", "zh-Hans": "{letter}栋"}
# What a serviced apartment holds, in this order: ``per_room`` takes the first ones.
APARTMENT = ("room_air_conditioner", "refrigerator", "laundry_washer", "dishwasher")


@dataclass(frozen=True, slots=True)
class Place:
    """Where one appliance of ``kind`` (a simulator type) goes."""

    building: str
    building_id: str
    floor: int
    room: str
    kind: str


def buildings(count: int, language: str = "en") -> list[tuple[str, str]]:
    """(name, building id) of ``count`` buildings (1 to 26).

    English: Tower A (tower-a), Tower B ...; zh-Hans: A栋 (tower-a), B栋 ... The
    id is a topic segment, the same in every language. ValueError for a count
    out of range or a language without names.
    """
    if not 1 <= count <= 26:
        raise ValueError(f"1 to 26 buildings, not {count}")
    if language not in BUILDING_NAME:
        raise ValueError(f"no building names in {language!r}")
    name = BUILDING_NAME[language]
    return [(name.format(letter=chr(65 + i)), f"tower-{chr(97 + i)}") for i in range(count)]


BUILDINGS = tuple(buildings(2))  # the demo's two


def layout(
    rooms: int,
    *,
    building_count: int = len(BUILDINGS),
    floors_per_building: int = FLOORS_PER_BUILDING,
    per_room: int | None = None,
    language: str = "en",
) -> list[Place]:
    """The appliances of a property of ``rooms`` rooms, at least one per floor.

    Without ``per_room`` (the demo): an AC a room, a fridge in each floor's
    first room, a washer in each building's laundry. With ``per_room`` (1 to 4):
    the first ``per_room`` of ``APARTMENT`` in every room and nothing else.
    Buildings and the laundry are named in ``language`` (en or zh-Hans).
    ValueError for fewer rooms than floors, a ``per_room`` out of range or
    another language.
    """
    if per_room is not None and not 1 <= per_room <= len(APARTMENT):
        raise ValueError(f"1 to {len(APARTMENT)} appliances a room, not {per_room}")
    if floors_per_building < 1:
        raise ValueError("at least one floor a building")
    names = buildings(building_count, language)
    floors = building_count * floors_per_building
    if rooms < floors:
        raise ValueError(f"at least {floors} rooms: one per floor")
    places: list[Place] = []
    for index in range(floors):
        building, building_id = names[index // floors_per_building]
        floor = index % floors_per_building + 1
        # The rooms left are shared out as evenly as they go, earlier floors first.
        count = rooms // floors + (1 if index < rooms % floors else 0)
        width = max(2, len(str(count)))
        numbers = [f"{floor}{n:0{width}d}" for n in range(1, count + 1)]
        if per_room is not None:
            kinds = APARTMENT[:per_room]
            places += [Place(building, building_id, floor, n, k) for n in numbers for k in kinds]
            continue
        places += [Place(building, building_id, floor, n, "room_air_conditioner") for n in numbers]
        places.append(Place(building, building_id, floor, numbers[0], "refrigerator"))
        if floor == 1:
            places.append(Place(building, building_id, floor, LAUNDRY[language], "laundry_washer"))
    return places


def counts(places: Iterable[Place]) -> Counter[str]:
    """How many appliances of each simulator type the places need."""
    return Counter(place.kind for place in places)


def label_code(code: str) -> str:
    """A pairing code as printed on the label: 1234-5678."""
    digits = code.replace("-", "")
    return f"{digits[:4]}-{digits[4:]}" if len(digits) == 8 else code


def assign(
    places: list[Place], appliances: Sequence[Mapping[str, Any]]
) -> list[tuple[Place, Mapping[str, Any]]]:
    """Each place with a simulated appliance of its type, in the simulators' order."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for appliance in appliances:
        by_kind.setdefault(str(appliance["type"]), []).append(appliance)
    try:
        return [(place, by_kind[place.kind].pop(0)) for place in places]
    except (KeyError, IndexError):
        raise ValueError("fewer simulated appliances than places") from None


def write_roster(path: Path, pairs: list[tuple[Place, Mapping[str, Any]]]) -> None:
    """The roster CSV: building, floor, room, the appliance's address, its printed code."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        file.write("# Written by the property demo from the simulated appliances.\n")
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["building", "floor", "room", "appliance", "code", "name"])
        for place, appliance in pairs:
            writer.writerow(
                [
                    place.building,
                    place.floor,
                    place.room,
                    f"{appliance['host']}:{appliance['port']}",
                    label_code(str(appliance["code"])),
                    "",
                ]
            )
