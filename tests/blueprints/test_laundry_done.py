"""Laundry done, end to end: Home Assistant runs the blueprint's automation on washer states."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant

from .conftest import PHONE, Advance, BlueprintHarness, set_state

STATUS = "sensor.washer_status"
DOOR = "binary_sensor.washer_door"


async def _set_up_laundry_done(blueprint: BlueprintHarness, **inputs: object) -> None:
    """The laundry_done automation on the washer's status sensor with ``inputs``."""
    await blueprint.setup("laundry_done", {"washer_status": STATUS, **inputs})


async def _washer_finishes(hass: HomeAssistant) -> None:
    await set_state(hass, STATUS, "running", {"friendly_name": "Balcony washer Status"})
    await set_state(hass, STATUS, "finished", {"friendly_name": "Balcony washer Status"})


async def test_finish_notifies_once_without_reminders(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Running -> finished sends one message naming the washer; no reminder follows."""
    await _set_up_laundry_done(blueprint, notify_service=PHONE, remind_every=0)
    await _washer_finishes(hass)

    assert len(blueprint.phone) == 1
    assert blueprint.phone[0].data["title"] == "洗衣完成 / Laundry done"
    assert "Balcony washer Status" in blueprint.phone[0].data["message"]
    assert "衣服洗好了" in blueprint.phone[0].data["message"]
    assert len(blueprint.panel["create"]) == 1
    assert (
        blueprint.panel["create"][0].data["notification_id"]
        == "liuzhou_laundry_done_sensor_washer_status"
    )

    await advance(timedelta(hours=2))
    assert len(blueprint.phone) == 1


async def test_reminders_repeat_until_the_door_opens(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """A reminder every 10 minutes while the door stays shut; opening it ends them."""
    await set_state(hass, DOOR, "off")
    await _set_up_laundry_done(
        blueprint, door_sensor=DOOR, notify_service=PHONE, remind_every=10, max_reminders=5
    )
    await _washer_finishes(hass)
    assert len(blueprint.phone) == 1

    await advance(timedelta(minutes=9))
    assert len(blueprint.phone) == 1
    await advance(timedelta(minutes=2))
    assert len(blueprint.phone) == 2
    await advance(timedelta(minutes=10))
    assert len(blueprint.phone) == 3

    await set_state(hass, DOOR, "on")
    assert blueprint.panel["dismiss"][-1].data["notification_id"] == (
        "liuzhou_laundry_done_sensor_washer_status"
    )
    await advance(timedelta(hours=1))
    assert len(blueprint.phone) == 3


async def test_reminders_stop_at_the_maximum(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Nobody comes: the first message plus exactly ``max_reminders`` reminders."""
    await _set_up_laundry_done(blueprint, notify_service=PHONE, remind_every=15, max_reminders=2)
    await _washer_finishes(hass)
    for _ in range(6):
        await advance(timedelta(minutes=15, seconds=1))
    assert len(blueprint.phone) == 3
    # Still not handled: the panel message stays.
    assert blueprint.panel["dismiss"] == []


async def test_washer_leaving_finished_ends_reminders(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Starting the next programme (finished -> running) ends the reminders."""
    await _set_up_laundry_done(blueprint, notify_service=PHONE, remind_every=10)
    await _washer_finishes(hass)
    await set_state(hass, STATUS, "running")
    await advance(timedelta(minutes=45))
    assert len(blueprint.phone) == 1
    assert len(blueprint.panel["dismiss"]) == 1


async def test_reconnecting_to_a_finished_washer_is_not_a_new_finish(
    hass: HomeAssistant, blueprint: BlueprintHarness
) -> None:
    """unavailable -> finished (a lost connection coming back) sends nothing."""
    await _set_up_laundry_done(blueprint, notify_service=PHONE)
    await set_state(hass, STATUS, "unavailable")
    await set_state(hass, STATUS, "finished")
    assert blueprint.phone == []
    assert blueprint.panel["create"] == []


async def test_a_lost_connection_after_the_finish_is_no_news(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Washer and door unavailable for 30 s, then back as they were: reminders go on.

    The door was already open when the washer finished (the reminders then wait for
    the washer to leave "Finished"), so it comes back "on": that is not the door being
    opened, and the reminder stays due when it was, not earlier.
    """
    await set_state(hass, DOOR, "on")
    await _set_up_laundry_done(
        blueprint, door_sensor=DOOR, notify_service=PHONE, remind_every=10, max_reminders=5
    )
    await _washer_finishes(hass)
    await advance(timedelta(minutes=4))
    await set_state(hass, STATUS, "unavailable")
    await set_state(hass, DOOR, "unavailable")
    await advance(timedelta(seconds=30))
    await set_state(hass, STATUS, "finished")
    await set_state(hass, DOOR, "on")
    assert len(blueprint.phone) == 1, "coming back is not a reminder"
    assert blueprint.panel["dismiss"] == []

    await advance(timedelta(minutes=5))
    assert len(blueprint.phone) == 1
    await advance(timedelta(minutes=1))
    assert len(blueprint.phone) == 2, "the reminder came when it was due"
    await advance(timedelta(minutes=10))
    assert len(blueprint.phone) == 3
    assert blueprint.panel["dismiss"] == []


async def test_a_new_programme_seen_after_a_lost_connection_ends_reminders(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """finished -> unavailable -> running: the washer did leave "Finished"."""
    await _set_up_laundry_done(blueprint, notify_service=PHONE, remind_every=10)
    await _washer_finishes(hass)
    await set_state(hass, STATUS, "unavailable")
    await set_state(hass, STATUS, "running")
    assert len(blueprint.panel["dismiss"]) == 1
    await advance(timedelta(minutes=45))
    assert len(blueprint.phone) == 1


async def test_without_a_notify_action_only_the_panel_is_used(
    hass: HomeAssistant, blueprint: BlueprintHarness
) -> None:
    """The defaults need no phone: the message goes to Home Assistant's panel."""
    await _set_up_laundry_done(blueprint)
    await _washer_finishes(hass)
    assert blueprint.phone == []
    assert len(blueprint.panel["create"]) == 1
