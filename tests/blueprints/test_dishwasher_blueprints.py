"""Dishwasher blueprints end to end: done + refill reminder, and the cheap-hour start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from .conftest import PHONE, Advance, BlueprintHarness, SetupBlueprint, set_state

STATUS = "sensor.dishwasher_status"
DOOR = "binary_sensor.dishwasher_door"
RINSE_AID = "binary_sensor.dishwasher_rinse_aid"
SALT = "binary_sensor.dishwasher_salt"
FAULT = "binary_sensor.dishwasher_fault"
START = "button.dishwasher_start"
LOADED = "input_boolean.dishwasher_loaded"
FINISH = "sensor.dishwasher_finish_time"


async def test_done_message_asks_for_what_is_low(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Salt low at the end of the run: the message says so; a refill drops it from the reminder."""
    await set_state(hass, DOOR, "off")
    await set_state(hass, RINSE_AID, "off")
    await set_state(hass, SALT, "off")
    await blueprint.setup(
        "dishwasher_done",
        {
            "dishwasher_status": STATUS,
            "door_sensor": DOOR,
            "rinse_aid_sensor": RINSE_AID,
            "salt_sensor": SALT,
            "notify_service": PHONE,
            "remind_every": 30,
            "max_reminders": 2,
        },
    )
    await set_state(hass, STATUS, "running")
    await set_state(hass, SALT, "on")
    await set_state(hass, STATUS, "finished")
    assert len(blueprint.phone) == 1
    first = blueprint.phone[0].data["message"]
    assert "碗碟洗好了" in first
    assert "Dishwasher salt is low" in first
    assert "Rinse aid" not in first

    await set_state(hass, SALT, "off")
    await advance(timedelta(minutes=30, seconds=1))
    assert len(blueprint.phone) == 2
    assert "salt" not in blueprint.phone[1].data["message"]

    await set_state(hass, DOOR, "on")
    await advance(timedelta(hours=2))
    assert len(blueprint.phone) == 2
    assert len(blueprint.panel["dismiss"]) == 1


@dataclass(frozen=True)
class CheapHour:
    """The cheap-hour start on a fake dishwasher: what it pressed and switched off."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    setup: SetupBlueprint
    start_presses: list[ServiceCall]
    toggle_offs: list[ServiceCall]

    async def arm(self, **extra: object) -> None:
        """At 20:00, a loaded, stopped dishwasher, door shut, no fault: the automation set up."""
        self.freezer.move_to(dt_util.as_utc(dt_util.now().replace(hour=20, minute=0, second=0)))
        await set_state(self.hass, LOADED, "on")
        await set_state(self.hass, STATUS, "stopped", {"friendly_name": "Dishwasher Status"})
        await set_state(self.hass, FAULT, "off")
        await set_state(self.hass, DOOR, "off")
        await self.setup(
            "cheap_hour_dishwasher",
            {
                "loaded_toggle": LOADED,
                "dishwasher_status": STATUS,
                "start_button": START,
                "fault_sensor": FAULT,
                "door_sensor": DOOR,
                "finish_time_sensor": FINISH,
                "notify_service": PHONE,
                "persistent": False,
                **extra,
            },
        )


@pytest.fixture
def cheap_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, blueprint: BlueprintHarness
) -> CheapHour:
    """The cheap-hour start, with Home Assistant's button.press (the dishwasher is a fake
    state here) and homeassistant.turn_off captured."""
    return CheapHour(
        hass,
        freezer,
        blueprint.setup,
        start_presses=async_mock_service(hass, "button", "press"),
        toggle_offs=async_mock_service(hass, "homeassistant", "turn_off"),
    )


async def test_loaded_dishwasher_starts_at_23_and_the_toggle_goes_off(
    hass: HomeAssistant, blueprint: BlueprintHarness, cheap_hour: CheapHour, advance: Advance
) -> None:
    """Nothing before 23:00; at 23:00 Start is pressed, and once Running the toggle goes off."""
    await cheap_hour.arm()
    await advance(timedelta(hours=2, minutes=59))
    assert cheap_hour.start_presses == []

    await advance(timedelta(minutes=1, seconds=1))
    assert [call.data["entity_id"] for call in cheap_hour.start_presses] == [[START]]
    assert cheap_hour.toggle_offs == [], "not before the dishwasher confirms"

    finish = dt_util.as_utc(dt_util.now().replace(hour=23, minute=0) + timedelta(hours=2))
    await set_state(hass, FINISH, finish.isoformat())
    await set_state(hass, STATUS, "running")
    assert [call.data["entity_id"] for call in cheap_hour.toggle_offs] == [[LOADED]]
    assert len(blueprint.phone) == 1
    assert "已启动，预计 01:00 完成" in blueprint.phone[0].data["message"]


async def test_an_active_fault_blocks_the_start(
    hass: HomeAssistant, blueprint: BlueprintHarness, cheap_hour: CheapHour, advance: Advance
) -> None:
    """A fault at 23:00: no Start, the toggle stays on, the message names the fault."""
    await cheap_hour.arm()
    await set_state(hass, FAULT, "on", {"faults": ["drain"]})
    await advance(timedelta(hours=3, seconds=1))
    assert cheap_hour.start_presses == []
    assert cheap_hour.toggle_offs == []
    assert len(blueprint.phone) == 1
    assert "drain" in blueprint.phone[0].data["message"]
    assert "A fault is active" in blueprint.phone[0].data["message"]


@pytest.mark.parametrize(
    ("entity_id", "state", "reason"),
    [
        (STATUS, "running", "The dishwasher is running"),
        (STATUS, "error", "The dishwasher is error"),
        (DOOR, "on", "The door is open"),
    ],
)
async def test_busy_or_open_dishwasher_is_not_started(
    hass: HomeAssistant,
    blueprint: BlueprintHarness,
    cheap_hour: CheapHour,
    advance: Advance,
    entity_id: str,
    state: str,
    reason: str,
) -> None:
    """Running already, in error, or the door open: no Start, and the message says why."""
    await cheap_hour.arm()
    await set_state(hass, entity_id, state)
    await advance(timedelta(hours=3, seconds=1))
    assert cheap_hour.start_presses == []
    assert reason in blueprint.phone[0].data["message"]


async def test_toggle_off_means_no_start(
    hass: HomeAssistant, blueprint: BlueprintHarness, cheap_hour: CheapHour, advance: Advance
) -> None:
    """Not marked as loaded: nothing happens at 23:00."""
    await cheap_hour.arm()
    await set_state(hass, LOADED, "off")
    await advance(timedelta(hours=3, seconds=1))
    assert cheap_hour.start_presses == []
    assert blueprint.phone == []


async def test_a_start_that_does_not_happen_is_reported_and_kept_for_tomorrow(
    hass: HomeAssistant, blueprint: BlueprintHarness, cheap_hour: CheapHour, advance: Advance
) -> None:
    """Start pressed but still "stopped" two minutes later: reported, toggle stays on."""
    await cheap_hour.arm(notify_on_start=False)
    await advance(timedelta(hours=3, seconds=1))
    assert len(cheap_hour.start_presses) == 1
    await advance(timedelta(minutes=2, seconds=1))
    assert cheap_hour.toggle_offs == []
    assert len(blueprint.phone) == 1
    assert "did not start after the start command" in blueprint.phone[0].data["message"]


# --- lost connections -------------------------------------------------------------


async def test_done_reminders_survive_a_lost_connection(
    hass: HomeAssistant, blueprint: BlueprintHarness, advance: Advance
) -> None:
    """Dishwasher and door unavailable for a while, back as they were: no new message,
    no dismissed panel entry, the next reminder when it was due."""
    await set_state(hass, DOOR, "off")
    await blueprint.setup(
        "dishwasher_done",
        {
            "dishwasher_status": STATUS,
            "door_sensor": DOOR,
            "notify_service": PHONE,
            "remind_every": 30,
            "max_reminders": 2,
        },
    )
    await set_state(hass, STATUS, "running")
    await set_state(hass, STATUS, "finished")
    await advance(timedelta(minutes=10))
    await set_state(hass, STATUS, "unavailable")
    await set_state(hass, DOOR, "unavailable")
    await advance(timedelta(minutes=1))
    await set_state(hass, DOOR, "off")
    await set_state(hass, STATUS, "finished")
    assert len(blueprint.phone) == 1
    assert blueprint.panel["dismiss"] == []
    await advance(timedelta(minutes=19, seconds=1))
    assert len(blueprint.phone) == 2
    await set_state(hass, DOOR, "on")  # now really opened
    assert len(blueprint.panel["dismiss"]) == 1


async def test_cheap_hour_start_waits_for_a_dishwasher_that_is_briefly_away(
    hass: HomeAssistant, blueprint: BlueprintHarness, cheap_hour: CheapHour, advance: Advance
) -> None:
    """Unavailable at 23:00, back (stopped) a minute later: started then, not tomorrow."""
    await cheap_hour.arm()
    await set_state(hass, STATUS, "unavailable")
    await advance(timedelta(hours=3, seconds=1))
    assert cheap_hour.start_presses == []
    assert blueprint.phone == []
    await advance(timedelta(minutes=1))
    await set_state(hass, STATUS, "stopped")
    assert [call.data["entity_id"] for call in cheap_hour.start_presses] == [[START]]
