"""Fridge door left open, end to end: notification after N minutes, escalation, silence."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_mock_service

from .conftest import PHONE, Advance, BlueprintHarness, set_state

DOOR = "binary_sensor.kitchen_fridge_door"
SECOND_DOOR = "binary_sensor.garage_fridge_door"


async def _set_up_fridge_door_open(
    blueprint: BlueprintHarness, doors: list[str] | None = None, **inputs: object
) -> None:
    """The fridge_door_open automation on ``doors`` (the kitchen door), 3 minutes, the phone."""
    await blueprint.setup(
        "fridge_door_open",
        {"door_sensors": doors or [DOOR], "open_minutes": 3, "notify_service": PHONE, **inputs},
    )


async def test_door_closed_in_time_sends_nothing(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Open for 2 of 3 minutes, then closed: silence, also long after."""
    await set_state(hass, DOOR, "off")
    await _set_up_fridge_door_open(blueprint)
    await set_state(hass, DOOR, "on")
    await advance(timedelta(minutes=2))
    await set_state(hass, DOOR, "off")
    await advance(timedelta(minutes=10))
    assert blueprint.phone == []
    assert blueprint.panel["create"] == []


async def test_door_open_too_long_notifies_once_and_clears(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Open for 3 minutes: one message with the minutes; closing dismisses the panel entry."""
    await set_state(hass, DOOR, "off", {"friendly_name": "Kitchen fridge Door"})
    await _set_up_fridge_door_open(blueprint)
    await set_state(hass, DOOR, "on", {"friendly_name": "Kitchen fridge Door"})
    await advance(timedelta(minutes=2, seconds=50))
    assert blueprint.phone == []
    await advance(timedelta(seconds=15))
    assert len(blueprint.phone) == 1
    message = blueprint.phone[0].data["message"]
    assert "Kitchen fridge Door 的门已经开了 3 分钟" in message
    assert "open for 3 minutes" in message
    assert len(blueprint.panel["create"]) == 1

    await advance(timedelta(minutes=30))
    assert len(blueprint.phone) == 1, "no escalation configured"
    assert blueprint.panel["dismiss"] == []
    await set_state(hass, DOOR, "off")
    assert [call.data["notification_id"] for call in blueprint.panel["dismiss"]] == [
        "liuzhou_fridge_door_binary_sensor_kitchen_fridge_door"
    ]


async def test_escalation_reaches_the_second_person_and_runs_actions(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Still open 5 minutes after the first message: the escalation target and actions run."""
    parent = async_mock_service(hass, "notify", "parent")
    lights = async_mock_service(hass, "light", "turn_on")
    await set_state(hass, DOOR, "off")
    await _set_up_fridge_door_open(
        blueprint,
        persistent=False,
        escalate_after=5,
        escalation_notify_service="notify.parent",
        escalation_actions=[{"action": "light.turn_on", "target": {"entity_id": "light.kitchen"}}],
    )
    await set_state(hass, DOOR, "on")
    await advance(timedelta(minutes=3, seconds=1))
    assert len(blueprint.phone) == 1
    await advance(timedelta(minutes=4))
    assert parent == []
    await advance(timedelta(minutes=1, seconds=1))
    assert len(parent) == 1
    assert "8 分钟" in parent[0].data["message"]
    assert lights[0].data["entity_id"] == ["light.kitchen"]
    assert len(blueprint.phone) == 1
    assert blueprint.panel["create"] == []


async def test_closing_before_escalation_stops_it(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Closed between the first message and the escalation: no escalation."""
    await set_state(hass, DOOR, "off")
    await _set_up_fridge_door_open(blueprint, escalate_after=5)
    await set_state(hass, DOOR, "on")
    await advance(timedelta(minutes=3, seconds=1))
    await set_state(hass, DOOR, "off")
    await advance(timedelta(minutes=10))
    assert len(blueprint.phone) == 1


async def test_each_fridge_is_watched_on_its_own(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Two doors open at different times: one message each, each when its time is up."""
    await set_state(hass, DOOR, "off")
    await set_state(hass, SECOND_DOOR, "off")
    await _set_up_fridge_door_open(blueprint, [DOOR, SECOND_DOOR])
    await set_state(hass, DOOR, "on")
    await advance(timedelta(minutes=2))
    await set_state(hass, SECOND_DOOR, "on")
    await advance(timedelta(minutes=1, seconds=1))
    assert len(blueprint.phone) == 1
    await advance(timedelta(minutes=2))
    assert len(blueprint.phone) == 2
    assert {call.data["notification_id"] for call in blueprint.panel["create"]} == {
        "liuzhou_fridge_door_binary_sensor_kitchen_fridge_door",
        "liuzhou_fridge_door_binary_sensor_garage_fridge_door",
    }


async def test_a_lost_connection_neither_closes_the_door_nor_restarts_the_minutes(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Open 2 minutes, unavailable 30 s, back open: the message comes at 3 minutes, and
    the escalation and the panel entry survive a second blip."""
    escalation = async_mock_service(hass, "notify", "partner")
    await set_state(hass, DOOR, "off")
    await _set_up_fridge_door_open(
        blueprint, escalate_after=5, escalation_notify_service="notify.partner"
    )
    await set_state(hass, DOOR, "on")
    await advance(timedelta(minutes=2))
    await set_state(hass, DOOR, "unavailable")
    await advance(timedelta(seconds=30))
    await set_state(hass, DOOR, "on")
    await advance(timedelta(seconds=31))
    assert len(blueprint.phone) == 1, "3 minutes after it was opened, blip or not"

    await set_state(hass, DOOR, "unavailable")
    await set_state(hass, DOOR, "on")
    assert blueprint.panel["dismiss"] == []
    await advance(timedelta(minutes=5))
    assert len(escalation) == 1, "the door never closed, so the escalation runs"
    await set_state(hass, DOOR, "off")
    assert len(blueprint.panel["dismiss"]) == 1
