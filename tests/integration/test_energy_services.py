"""plan_run and cancel_run against real simulated washers and dishwashers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance, wait_until
from .energy_helpers import (
    add_household,
    at_valley_night,
    energy_status,
    entity_id,
    set_energy_optimisation,
)

# The plans depend on the tariff hours ahead of "now": every test starts at the same instant.
pytestmark = at_valley_night


def _device_id(hass: HomeAssistant, machine: PairedAppliance) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device.id


def _dear_now_cheap_in_three_hours() -> tuple[str, datetime]:
    """A custom table: 1.0 CNY/kWh for the next full hours, 0.2 from the boundary on.

    Typed as a user would, in Home Assistant's time zone.
    """
    now = dt_util.now()
    boundary = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    start, end = now.hour, boundary.hour
    table = f"{start:02d}:00-{end:02d}:00 1.0\n{end:02d}:00-{start:02d}:00 0.2"
    return table, boundary


async def _plan(hass: HomeAssistant, **data: object) -> Mapping[str, object]:
    response = await hass.services.async_call(
        DOMAIN, "plan_run", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


@pytest.mark.parametrize("kind", [ApplianceType.DISHWASHER, ApplianceType.LAUNDRY_WASHER])
async def test_plan_run_starts_with_the_planned_delay_and_credits_savings(
    hass: HomeAssistant, start_appliance: StartAppliance, kind: ApplianceType
) -> None:
    table, boundary = _dear_now_cheap_in_three_hours()
    await add_household(hass, tariff="custom_tou", custom_table=table)
    machine = await start_appliance(kind)
    programme = machine.coordinator.declaration.programmes[-2].id
    finish_by = dt_util.utcnow() + timedelta(hours=9)
    response = await _plan(
        hass,
        device_id=_device_id(hass, machine),
        programme=programme,
        finish_by=finish_by.isoformat(),
    )
    # The cheapest start is the first minute at the cheap price.
    assert datetime.fromisoformat(str(response["start"])) == boundary
    delay = int(response["delay_s"])  # type: ignore[call-overload]
    assert abs(delay - (boundary - dt_util.utcnow()).total_seconds()) < 5
    values = machine.simulator.values()
    assert values["programme"] == programme
    assert values["operational_state"] == "running"
    assert values["delay_remaining"] == delay
    await machine.push()
    await wait_until(hass, lambda: machine.coordinator.data.get("delay_remaining") == delay)
    planned_id = entity_id(hass, "sensor", machine.appliance.id, "planned_start")
    await wait_until(
        hass,
        lambda: dt_util.parse_datetime(hass.states.get(planned_id).state) == boundary,  # type: ignore[union-attr]
    )
    cost = hass.states.get(entity_id(hass, "sensor", machine.appliance.id, "expected_cost"))
    assert cost is not None
    assert float(cost.state) == pytest.approx(float(response["expected_cost"]), abs=1e-3)  # type: ignore[arg-type]
    savings = float(response["savings"])  # type: ignore[arg-type]
    assert savings > 0  # the run moved from 1.0 to 0.2 CNY/kWh
    savings_id = entity_id(hass, "sensor", machine.appliance.id, "energy_savings")
    assert float(hass.states.get(savings_id).state) == 0  # type: ignore[union-attr]
    # The delay runs out: the run starts and its savings are credited.
    await machine.appliance.mcu.advance(delay + 5)
    await wait_until(hass, lambda: not machine.coordinator.data.get("delay_remaining"))
    await wait_until(
        hass,
        lambda: float(hass.states.get(savings_id).state) == pytest.approx(savings, abs=1e-3),  # type: ignore[union-attr]
    )
    # With energy optimisation on, the status follows the plan: active while the
    # planned run is under way, nothing planned once it has finished.
    await set_energy_optimisation(hass, machine, True)
    assert energy_status(hass, machine).state == "active"
    # remaining_time is the appliance's own estimate (its wet_cycle model): a few minutes
    # of margin past it.
    remaining = int(machine.simulator.values()["remaining_time"])
    await machine.appliance.mcu.advance(remaining + 900)
    await wait_until(hass, lambda: machine.coordinator.data.get("operational_state") == "finished")
    # Entities show pushes at once unless the loop is overloaded (hub_limits.PushPacing).
    await wait_until(hass, lambda: energy_status(hass, machine).state == "nothing_planned")


async def test_an_infeasible_plan_reads_in_chinese(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The reasons and the nearest plan come in the home's language, as the frontend shows them."""
    hass.config.language = "zh-Hans"
    await add_household(hass, tariff="commercial_tou", power_cap_kw=1.0)
    machine = await start_appliance(ApplianceType.DISHWASHER)
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(
            hass,
            device_id=_device_id(hass, machine),
            finish_by=(dt_util.utcnow() + timedelta(hours=12)).isoformat(),
        )
    strings = await async_get_translations(hass, "zh-Hans", "exceptions", {DOMAIN})
    text = strings[f"component.{DOMAIN}.exceptions.plan_infeasible.message"]
    message = text.format(**(caught.value.translation_placeholders or {}))
    assert message.startswith(
        "无法按要求预约运行：功率上限低于电器的功率。最接近的可行方案（未执行）："
    )
    assert message.endswith("完成。")
    assert not any("a" <= char.lower() <= "z" for char in message), message


async def test_infeasible_plans_name_the_reason_and_start_nothing(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household(hass, tariff="commercial_tou", power_cap_kw=1.0)
    machine = await start_appliance(ApplianceType.DISHWASHER)
    device_id = _device_id(hass, machine)
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(
            hass, device_id=device_id, finish_by=(dt_util.utcnow() - timedelta(hours=1)).isoformat()
        )
    assert caught.value.translation_key == "plan_infeasible"
    assert caught.value.translation_placeholders is not None
    assert "deadline_passed" in caught.value.translation_placeholders["code"]
    assert "has passed" in caught.value.translation_placeholders["reason"]
    # The cap (1 kW) is below the dishwasher's heater: named, with the nearest plan.
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(
            hass,
            device_id=device_id,
            finish_by=(dt_util.utcnow() + timedelta(hours=12)).isoformat(),
        )
    placeholders = caught.value.translation_placeholders or {}
    assert "cap_below_appliance_power" in placeholders["code"]
    assert placeholders["nearest"].startswith("start ")
    assert machine.simulator.values()["operational_state"] == "stopped"
    # A programme the appliance does not have.
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(
            hass,
            device_id=device_id,
            programme="turbo",
            finish_by=(dt_util.utcnow() + timedelta(hours=12)).isoformat(),
        )
    assert caught.value.translation_key == "unknown_programme"


async def test_wrong_targets_and_missing_household_are_validation_errors(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    machine = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    finish_by = (dt_util.utcnow() + timedelta(hours=6)).isoformat()
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(hass, device_id=_device_id(hass, machine), finish_by=finish_by)
    assert caught.value.translation_key == "household_not_configured"
    await add_household(hass)
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(hass, device_id=_device_id(hass, ac), finish_by=finish_by)
    assert caught.value.translation_key == "not_a_run_appliance"
    with pytest.raises(ServiceValidationError) as caught:
        await _plan(hass, device_id="no-such-device", finish_by=finish_by)
    assert caught.value.translation_key == "unknown_device"
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "cancel_run", {"device_id": _device_id(hass, machine)}, blocking=True
        )
    assert caught.value.translation_key == "nothing_to_cancel"


async def test_cancel_run_stops_the_delayed_start(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household(hass, tariff="commercial_tou")
    machine = await start_appliance(ApplianceType.DISHWASHER)
    await set_energy_optimisation(hass, machine, True)
    assert energy_status(hass, machine).state == "nothing_planned"
    device_id = _device_id(hass, machine)
    earliest = dt_util.utcnow() + timedelta(hours=2)
    response = await _plan(
        hass,
        device_id=device_id,
        earliest_start=earliest.isoformat(),
        finish_by=(earliest + timedelta(hours=5)).isoformat(),
    )
    assert int(response["delay_s"]) >= 7200  # type: ignore[call-overload]
    assert energy_status(hass, machine).state == "active"
    await machine.push()
    await wait_until(hass, lambda: bool(machine.coordinator.data.get("delay_remaining")))
    await hass.services.async_call(DOMAIN, "cancel_run", {"device_id": device_id}, blocking=True)
    values = machine.simulator.values()
    assert values["operational_state"] == "stopped"
    assert values["delay_remaining"] == 0
    planned = hass.states.get(entity_id(hass, "sensor", machine.appliance.id, "planned_start"))
    assert planned is not None
    assert planned.state == "unknown"
    await machine.push()
    await wait_until(hass, lambda: energy_status(hass, machine).state == "nothing_planned")
