"""Fixtures: the repository's blueprints in a Home Assistant config folder of the test's own.

``blueprint_config_dir`` points ``hass.config.config_dir`` at a temporary
folder holding ``blueprints/automation/liuzhou_appliances/*.yaml`` copied from
this repository, so Home Assistant's own blueprint loader reads the files
exactly as a user's installation would. ``setup_blueprint_automation`` sets up
one automation from a blueprint and its inputs; ``advance`` moves the frozen
clock and fires the timers that came due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

BLUEPRINT_SOURCE = (
    Path(__file__).resolve().parents[2] / "blueprints" / "automation" / "liuzhou_appliances"
)
BLUEPRINT_FILES = sorted(BLUEPRINT_SOURCE.glob("*.yaml"))

type SetupBlueprint = Callable[[str, dict[str, Any]], Awaitable[None]]
type Advance = Callable[[timedelta], Awaitable[None]]


@pytest.fixture
async def blueprint_config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder of this test's own with the blueprints in it."""
    target = tmp_path / "blueprints" / "automation" / "liuzhou_appliances"
    await hass.async_add_executor_job(shutil.copytree, BLUEPRINT_SOURCE, target)
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.fixture
def setup_blueprint_automation(
    hass: HomeAssistant, blueprint_config_dir: Path
) -> SetupBlueprint:
    """Set up one automation from ``<name>.yaml`` with the given inputs; it must load."""

    async def setup(name: str, inputs: dict[str, Any]) -> None:
        config = {
            AUTOMATION_DOMAIN: {
                "id": f"test_{name}",
                "alias": f"Test {name}",
                "use_blueprint": {
                    "path": f"liuzhou_appliances/{name}.yaml",
                    "input": inputs,
                },
            }
        }
        assert await async_setup_component(hass, AUTOMATION_DOMAIN, config)
        await hass.async_block_till_done()
        entity_id = f"{AUTOMATION_DOMAIN}.test_{name}"
        state = hass.states.get(entity_id)
        # An automation that failed validation is created "unavailable".
        assert state is not None, f"{entity_id} was not created"
        assert state.state == "on", f"{entity_id} is {state.state}: {state.attributes}"

    return setup


@pytest.fixture
def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Advance:
    """Move the clock on by ``delta`` and run whatever came due."""

    async def move(delta: timedelta) -> None:
        freezer.tick(delta)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    return move
