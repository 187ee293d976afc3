"""Home Assistant reads services.yaml: every action shows its fields in the UI.

Home Assistant drops the whole file, with one warning in its log, when any
action in it breaks its schema (a target limited to areas did): every action
of the integration then shows no fields in the developer tools and the
automation editor, though the actions still run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component
import pytest
import yaml

from custom_components.liuzhou_appliances.const import DOMAIN

SERVICES_YAML = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "services.yaml"


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_every_action_has_its_fields_in_home_assistant(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    written: dict[str, Any] = yaml.safe_load(SERVICES_YAML.read_text(encoding="utf-8"))
    assert await async_setup_component(hass, DOMAIN, {})
    described = (await async_get_all_descriptions(hass))[DOMAIN]
    assert "Unable to parse services.yaml" not in caplog.text
    assert set(described) == set(written)
    for action, spec in written.items():
        fields = set((spec or {}).get("fields", {}))
        assert set(described[action].get("fields", {})) == fields, action
    # The rooms are chosen with an area picker.
    for action in ("set_room_state", "export_stay"):
        assert described[action]["fields"]["area_id"]["selector"] == {"area": {"multiple": True}}
