"""Where provisioning puts an appliance: its floor, area and building label.

The names are the property's contract (docs/fleet.md): floor
``"{building} / {floor}"`` (level = the floor when it is an integer), area
``"{building} / {room}"`` on that floor, and a label named after the building
on the area and the device. Everything is found by name first, so running the
same roster again creates nothing new; a room a person has put on another
floor is moved back, which is reported as a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    floor_registry as fr,
    label_registry as lr,
)

from .const import DOMAIN
from .roster import RosterRow


@dataclass(slots=True)
class Created:
    """What one provisioning run created, by name, in the order created."""

    floors: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def floor_name(row: RosterRow) -> str:
    """The Home Assistant floor of a row: "{building} / {floor}"."""
    return f"{row.building} / {row.floor}"


def area_name(row: RosterRow) -> str:
    """The Home Assistant area of a row's room: "{building} / {room}"."""
    return f"{row.building} / {row.room}"


@callback
def async_place_device(
    hass: HomeAssistant, row: RosterRow, appliance_id: str, entry_id: str, created: Created
) -> tuple[str, str, list[str]]:
    """Put the appliance's device in its room: (device id, area id, what changed).

    The changes are "area" (the device moved), "label" (the building's label
    added), "floor" (the room moved back to its floor). Creates the floor, area,
    label and, if the entry is not set up yet, the device (named after the entry).
    """
    label_id = _label(hass, row.building, created)
    floor_id = _floor(hass, row, created)
    area_id, changes = _area(hass, row, floor_id, label_id, created)
    devices = dr.async_get(hass)
    device = devices.async_get_device(identifiers={(DOMAIN, appliance_id)})
    if device is None:
        entry = hass.config_entries.async_get_entry(entry_id)
        device = devices.async_get_or_create(
            config_entry_id=entry_id,
            identifiers={(DOMAIN, appliance_id)},
            name=entry.title if entry is not None else None,
        )
    if device.area_id != area_id:
        devices.async_update_device(device.id, area_id=area_id)
        changes.append("area")
    if label_id not in device.labels:
        devices.async_update_device(device.id, labels={*device.labels, label_id})
        changes.append("label")
    return device.id, area_id, changes


def _label(hass: HomeAssistant, building: str, created: Created) -> str:
    labels = lr.async_get(hass)
    if (label := labels.async_get_label_by_name(building)) is None:
        label = labels.async_create(building)
        created.labels.append(building)
    return label.label_id


def _floor(hass: HomeAssistant, row: RosterRow, created: Created) -> str:
    floors = fr.async_get(hass)
    name = floor_name(row)
    if (floor := floors.async_get_floor_by_name(name)) is None:
        floor = floors.async_create(name, level=row.floor_level)
        created.floors.append(name)
    return floor.floor_id


def _area(
    hass: HomeAssistant, row: RosterRow, floor_id: str, label_id: str, created: Created
) -> tuple[str, list[str]]:
    areas = ar.async_get(hass)
    name = area_name(row)
    changes: list[str] = []
    if (area := areas.async_get_area_by_name(name)) is None:
        area = areas.async_create(name, floor_id=floor_id, labels={label_id})
        created.areas.append(name)
        return area.id, changes
    if area.floor_id != floor_id:
        areas.async_update(area.id, floor_id=floor_id)
        changes.append("floor")
    if label_id not in area.labels:
        areas.async_update(area.id, labels={*area.labels, label_id})
        changes.append("label")
    return area.id, changes
