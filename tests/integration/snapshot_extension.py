"""One snapshot set for every supported Home Assistant release.

Newer Home Assistant releases add fields to what the test plugin's serializer
writes. Each such field is named here together with the rule under which it
is left out; a value that breaks the rule stays in the serialized data, so the
snapshot comparison fails on it. Every other field is compared as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.syrupy import (
    EntityRegistryEntrySnapshot,
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)
from syrupy.extensions.amber import AmberDataSerializer
from syrupy.types import SerializableData

# Entity registry fields that Home Assistant 2025.4 does not have and 2026.2 writes,
# each with the value it may be left out with. ``object_id_base`` is the name the
# entity id was derived from (the registry's own migration fills it with
# ``original_name``, which the snapshot asserts); ``suggested_object_id`` is set only
# for an entity id the integration suggests itself, which this one never does.
NEWER_ENTITY_REGISTRY_FIELDS: dict[str, Callable[[dict[str, Any]], object]] = {
    "object_id_base": lambda entry: entry["original_name"],
    "suggested_object_id": lambda entry: None,
}


def _drop_newer_fields(
    entry: dict[str, Any], fields: dict[str, Callable[[dict[str, Any]], object]]
) -> None:
    """Leave out each of ``fields`` whose value is the expected one; keep any other."""
    for field, expected in fields.items():
        if field in entry and entry[field] == expected(entry):
            del entry[field]


class LiuzhouSnapshotSerializer(HomeAssistantSnapshotSerializer):
    """Home Assistant's serializer, less the newer releases' fields named above."""

    @classmethod
    def _serializable_entity_registry_entry(cls, data: er.RegistryEntry) -> SerializableData:
        serialized = super()._serializable_entity_registry_entry(data)
        assert isinstance(serialized, EntityRegistryEntrySnapshot)
        _drop_newer_fields(serialized, NEWER_ENTITY_REGISTRY_FIELDS)
        return serialized


class LiuzhouSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's extension (snapshots/ beside the test) with that serializer."""

    serializer_class: type[AmberDataSerializer] = LiuzhouSnapshotSerializer
