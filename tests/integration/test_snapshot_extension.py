"""The snapshot serializer leaves out newer releases' fields only with their expected values."""

from __future__ import annotations

import attr
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.liuzhou_appliances.const import DOMAIN

from .snapshot_extension import (
    NEWER_ENTITY_REGISTRY_FIELDS,
    LiuzhouSnapshotSerializer,
    _drop_newer_fields,
)


def test_fields_with_the_expected_values_are_left_out() -> None:
    entry = {"original_name": "Power", "object_id_base": "Power", "suggested_object_id": None}
    _drop_newer_fields(entry, NEWER_ENTITY_REGISTRY_FIELDS)
    assert entry == {"original_name": "Power"}


def test_fields_with_other_values_stay_to_be_compared() -> None:
    entry = {"original_name": "Power", "object_id_base": "Energy", "suggested_object_id": "ac"}
    _drop_newer_fields(entry, NEWER_ENTITY_REGISTRY_FIELDS)
    assert entry == {
        "original_name": "Power",
        "object_id_base": "Energy",
        "suggested_object_id": "ac",
    }


def test_an_entry_without_them_is_unchanged() -> None:
    entry = {"original_name": None, "name": None}
    _drop_newer_fields(entry, NEWER_ENTITY_REGISTRY_FIELDS)
    assert entry == {"original_name": None, "name": None}


async def test_a_real_registry_entry(hass: HomeAssistant) -> None:
    entry = er.async_get(hass).async_get_or_create("sensor", DOMAIN, "power", original_name="Power")
    serialized = LiuzhouSnapshotSerializer.serialize(entry)
    assert "'original_name': 'Power'," in serialized
    assert "suggested_object_id" not in serialized
    if not hasattr(entry, "object_id_base"):  # Home Assistant 2025.4
        return
    # Registered without an entity, so nothing set it: it differs and is compared.
    assert entry.object_id_base is None
    assert "'object_id_base': None," in serialized
    # The field is newer than the Home Assistant release mypy checks against.
    derived = attr.evolve(entry, object_id_base="Power")  # type: ignore[call-arg]
    assert "object_id_base" not in LiuzhouSnapshotSerializer.serialize(derived)
