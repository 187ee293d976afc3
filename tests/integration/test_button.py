"""Start / pause / resume / stop buttons against real simulated washers and dishwashers."""

from __future__ import annotations

from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance
from .platform_helpers import entity_id, only_platform, wait_for_state

MACHINES = [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER]


async def _start(start_appliance: StartAppliance, kind: ApplianceType) -> PairedAppliance:
    with only_platform(Platform.BUTTON):
        return await start_appliance(kind)


async def _press(hass: HomeAssistant, machine: PairedAppliance, command: str) -> None:
    button = entity_id(hass, "button", machine.appliance.id, command)
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: button}, blocking=True
    )


@pytest.mark.parametrize("kind", MACHINES)
async def test_button_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    start_appliance: StartAppliance,
    kind: ApplianceType,
) -> None:
    """Start, pause, resume and stop, with translated names."""
    machine = await _start(start_appliance, kind)
    await snapshot_platform(hass, entity_registry, snapshot, machine.entry.entry_id)


@pytest.mark.parametrize("kind", MACHINES)
async def test_buttons_drive_a_run(
    hass: HomeAssistant, start_appliance: StartAppliance, kind: ApplianceType
) -> None:
    """Each press reaches the appliance and moves its operational state."""
    machine = await _start(start_appliance, kind)
    steps = [
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
        ("stop", "stopped"),
    ]
    for command, expected in steps:
        await _press(hass, machine, command)
        assert machine.simulator.values()["operational_state"] == expected, command
    start = entity_id(hass, "button", machine.appliance.id, "start")
    # A pressed button records when it was pressed.
    state = await wait_for_state(hass, start, lambda s: s.state != STATE_UNKNOWN)
    assert state.state != STATE_UNAVAILABLE


@pytest.mark.parametrize("kind", MACHINES)
async def test_presses_the_appliance_refuses(
    hass: HomeAssistant, start_appliance: StartAppliance, kind: ApplianceType
) -> None:
    """Invalid presses are still sent; the appliance's refusal reaches the user."""
    machine = await _start(start_appliance, kind)
    # Nothing to pause or resume while stopped.
    for command in ("pause", "resume"):
        with pytest.raises(HomeAssistantError) as error:
            await _press(hass, machine, command)
        assert error.value.translation_key == "command_rejected"
        assert error.value.translation_placeholders is not None
        assert error.value.translation_placeholders["command"] == command
        assert error.value.translation_placeholders["error"] == "INVALID_STATE"
    # Start while paused: resume (or stop) first.
    await _press(hass, machine, "start")
    await _press(hass, machine, "pause")
    with pytest.raises(HomeAssistantError) as error:
        await _press(hass, machine, "start")
    assert error.value.translation_key == "command_rejected"
    assert machine.simulator.values()["operational_state"] == "paused"


async def test_dishwasher_will_not_start_with_its_door_open(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The appliance's own reason (door open) comes back translated."""
    dishwasher = await _start(start_appliance, ApplianceType.DISHWASHER)
    dishwasher.simulator.open_door()
    with pytest.raises(HomeAssistantError) as error:
        await _press(hass, dishwasher, "start")
    assert error.value.translation_key == "command_rejected"
    assert error.value.translation_placeholders is not None
    assert "door" in error.value.translation_placeholders["detail"]
    assert dishwasher.simulator.values()["operational_state"] == "stopped"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "en",
            "The appliance rejected start: not possible in its current state (for example "
            "while running or with the door open).",
        ),
        ("zh-Hans", "电器拒绝了指令 start：电器当前状态下无法执行（例如正在运行或门开着）。"),
    ],
)
async def test_a_refusal_reads_in_the_home_language(
    hass: HomeAssistant, start_appliance: StartAppliance, language: str, message: str
) -> None:
    """The reason is the code's translation; a Chinese home reads no English from the appliance.

    The message is put together as the frontend does: the language's exception
    text with the error's placeholders.
    """
    hass.config.language = language
    dishwasher = await _start(start_appliance, ApplianceType.DISHWASHER)
    dishwasher.simulator.open_door()
    with pytest.raises(HomeAssistantError) as error:
        await _press(hass, dishwasher, "start")
    strings = await async_get_translations(hass, language, "exceptions", {DOMAIN})
    text = strings[f"component.{DOMAIN}.exceptions.{error.value.translation_key}.message"]
    assert text.format(**(error.value.translation_placeholders or {})) == message
