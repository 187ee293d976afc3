"""Fixtures: the repository's blueprints in a Home Assistant config folder of the test's own.

``blueprint_config_dir`` points ``hass.config.config_dir`` at a temporary
folder holding ``blueprints/automation/liuzhou_appliances/*.yaml`` copied from
this repository, so Home Assistant's own blueprint loader reads the files
exactly as a user's installation would. ``setup_blueprint_automation`` sets up
one automation from a blueprint and its inputs. The clock is frozen at
``START``; ``advance`` moves it on and fires the timers that came due.
``blueprint`` bundles the setup with the captured notifications (``phone``,
``panel``) most tests look at.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

BLUEPRINT_SOURCE = (
    Path(__file__).resolve().parents[2] / "blueprints" / "automation" / "liuzhou_appliances"
)
BLUEPRINT_FILES = sorted(BLUEPRINT_SOURCE.glob("*.yaml"))

# The notify action the ``phone`` fixture captures.
PHONE = "notify.phone"

# The instant every test here starts at: 09:00 on a summer weekday in the time zone the
# test harness gives Home Assistant (US/Pacific; no daylight-saving change near), before
# any time trigger of the blueprints under test. Tests that need another time of day move
# the clock on that day themselves.
START = datetime.fromisoformat("2026-07-15T09:00:00-07:00")

# Loop iterations that let a state change or a fired timer run through the
# triggers and scripts it wakes (all call_soon chains; no I/O involved).
_SETTLE_ITERATIONS = 50

type SetupBlueprint = Callable[[str, dict[str, Any]], Awaitable[None]]
type Advance = Callable[[timedelta], Awaitable[None]]


@pytest.fixture(autouse=True)
def _clock_at_start(freezer: FrozenDateTimeFactory) -> None:
    """The wall clock frozen at ``START`` (not the machine's date and time of day)."""
    freezer.move_to(START)


@pytest.fixture
async def blueprint_config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder of this test's own with the blueprints in it."""
    target = tmp_path / "blueprints" / "automation" / "liuzhou_appliances"
    await hass.async_add_executor_job(shutil.copytree, BLUEPRINT_SOURCE, target)
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.fixture
async def setup_blueprint_automation(
    hass: HomeAssistant, blueprint_config_dir: Path
) -> AsyncIterator[SetupBlueprint]:
    """Set up one automation from ``<name>.yaml`` with the given inputs; it must load.

    Afterwards the automations are turned off, which detaches their triggers (a
    time trigger keeps a timer for the next day otherwise).
    """

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

    yield setup
    await hass.services.async_call(
        AUTOMATION_DOMAIN,
        "turn_off",
        {"entity_id": "all", "stop_actions": True},
        blocking=True,
    )


async def settle(hass: HomeAssistant) -> None:
    """Let the event loop run what is ready (state events, triggers, woken scripts).

    Not ``hass.async_block_till_done()``: that waits for every automation run to
    end, and these automations wait minutes for a door or a timeout.
    """
    for _ in range(_SETTLE_ITERATIONS):
        await asyncio.sleep(0)


async def set_state(
    hass: HomeAssistant, entity_id: str, state: str, attributes: dict[str, Any] | None = None
) -> None:
    """Set a fake state and let the automations react."""
    hass.states.async_set(entity_id, state, attributes)
    await settle(hass)


@pytest.fixture
def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> Advance:
    """Move the clock on by ``delta`` and run whatever came due.

    The wall clock is frozen (``freezer``), so ``now()`` in templates and the
    time triggers follow it. The event loop's clock, which schedules the script
    waits' timeouts, is moved by the same amount, so both agree whether or not
    the freezer already moves the loop's clock.
    """
    loop = hass.loop
    loop_clock = loop.time
    # What the loop clock lags behind the frozen wall clock by.
    offset_s = 0.0

    def loop_time() -> float:
        return loop_clock() + offset_s

    monkeypatch.setattr(loop, "time", loop_time)

    async def move(delta: timedelta) -> None:
        nonlocal offset_s
        before = loop_clock()
        freezer.tick(delta)
        # Depending on who calls it, the freezer may already move the loop clock.
        offset_s += max(0.0, delta.total_seconds() - (loop_clock() - before))
        async_fire_time_changed(hass)
        await settle(hass)

    return move


@pytest.fixture
def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """Home Assistant's notify action, captured."""
    return async_mock_service(hass, "notify", "phone")


@pytest.fixture
def panel(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """Home Assistant's notification panel, captured."""
    return {
        service: async_mock_service(hass, "persistent_notification", service)
        for service in ("create", "dismiss")
    }


@dataclass(frozen=True)
class BlueprintHarness:
    """Set up a blueprint's automation; what it sent to the phone and the panel."""

    setup: SetupBlueprint
    phone: list[ServiceCall]
    panel: dict[str, list[ServiceCall]]


@pytest.fixture
def blueprint(
    setup_blueprint_automation: SetupBlueprint,
    phone: list[ServiceCall],
    panel: dict[str, list[ServiceCall]],
) -> BlueprintHarness:
    """The automation setup with the phone and panel notifications captured."""
    return BlueprintHarness(setup_blueprint_automation, phone, panel)
