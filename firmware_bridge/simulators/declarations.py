"""Generate the reference declarations of the simulated models.

``python -m firmware_bridge.simulators.declarations`` rewrites
``firmware_bridge/declarations/*.json``. The programme profiles of the washer
and the dishwasher are simulated, not typed in: each is the programme's
default options run at EN 60456 / EN 60436 conditions (15 °C inlet water,
23 °C room), so the declared duration, energy and power profile are exactly
what the simulator does under those conditions. Both run the ``wet_cycle``
model for their remaining time (PROTOCOL.md 7.6); its declared version is read
from the shipped file.
"""

from __future__ import annotations

import json
from typing import Any, Final

from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.models import FRIDGE_FAULT, WET_CYCLE, declared_model

from .base import DECLARATIONS_DIR
from .dishwasher import DISHWASHER_MACHINE, DISHWASHER_PROGRAMMES, LOAD_J_PER_K
from .washer import WASHER_MACHINE, WASHER_PROGRAMMES, default_options, washer_plan
from .wet_physics import NOMINAL_AMBIENT_C, NOMINAL_INLET_C, nominal_profile, simulate_cycle

MANUFACTURER: Final = "Liuzhou Appliance Hub (simulated)"
MAX_DELAY_S: Final = 24 * 3600
# Every simulated model has a voice panel (PROTOCOL.md 7.5), Chinese first.
VOICE_PANEL: Final = {"languages": ["zh-CN", "en"]}


def _programme(programme_id: str, records: Any) -> dict[str, Any]:
    duration, energy, profile = nominal_profile(records)
    return {"id": programme_id, "duration_s": duration, "energy_kwh": energy, "profile": profile}


def washer_programmes() -> list[dict[str, Any]]:
    """The washer's programmes at their default options, simulated at nominal conditions."""
    out = []
    for programme in WASHER_PROGRAMMES:
        steps, load = washer_plan(programme, *default_options(programme))
        records = simulate_cycle(
            steps, WASHER_MACHINE, load, inlet_c=NOMINAL_INLET_C, ambient_c=NOMINAL_AMBIENT_C
        )
        out.append(_programme(programme.id, records))
    return out


def dishwasher_programmes() -> list[dict[str, Any]]:
    """The dishwasher's programmes, simulated at nominal conditions."""
    out = []
    for programme in DISHWASHER_PROGRAMMES:
        records = simulate_cycle(
            programme.steps,
            DISHWASHER_MACHINE,
            LOAD_J_PER_K,
            inlet_c=NOMINAL_INLET_C,
            ambient_c=NOMINAL_AMBIENT_C,
        )
        out.append(_programme(programme.id, records))
    return out


def build_declarations() -> dict[ApplianceType, dict[str, Any]]:
    """The four reference declarations as JSON-ready data."""
    return {
        ApplianceType.REFRIGERATOR: {
            "schema": 1,
            "type": "refrigerator",
            "manufacturer": MANUFACTURER,
            "model": "SIM-BCD-300W",
            "name": "300 L frost-free fridge-freezer",
            "rated_power_w": 190,
            "notes": "Simulated; ~1.0 kWh/day in a 30 °C kitchen (see simulators/refrigerator.py)",
            "capabilities": {
                "fridge_target_temperature": {"min": 1, "max": 8, "step": 1},
                "freezer_temperature": {},
                "freezer_target_temperature": {"min": -24, "max": -16, "step": 1},
                "compressor_running": {},
                "defrost_active": {},
            },
            "voice_panel": VOICE_PANEL,
            "models": [declared_model(FRIDGE_FAULT)],
        },
        ApplianceType.ROOM_AIR_CONDITIONER: {
            "schema": 1,
            "type": "room_air_conditioner",
            "manufacturer": MANUFACTURER,
            "model": "SIM-KFR-35GW",
            "name": "3.5 kW inverter split air conditioner",
            "rated_power_w": 1300,
            "notes": "Simulated; 3.5 kW cooling / 4.2 kW heating (see simulators/room_ac.py)",
            "capabilities": {
                "target_temperature": {"min": 16, "max": 30, "step": 0.5},
                "humidity": {},
                "outdoor_temperature": {},
                "swing": {},
                "eco": {},
                "sleep": {},
                "running_state": {},
            },
            "voice_panel": VOICE_PANEL,
        },
        ApplianceType.LAUNDRY_WASHER: {
            "schema": 1,
            "type": "laundry_washer",
            "manufacturer": MANUFACTURER,
            "model": "SIM-XQG80-1400",
            "name": "8 kg front-loading washer",
            "rated_power_w": 2200,
            "notes": "Simulated; profiles at 15 °C inlet water, default options",
            "capabilities": {
                "water_temperature": {},
                "spin_speed": {},
                "rinses": {},
            },
            "programmes": washer_programmes(),
            "max_delay_s": MAX_DELAY_S,
            # Nothing to alarm about at once: a proxy's slot is freed when idle (PROTOCOL.md 11.6).
            "ble_connection": "on_demand",
            "voice_panel": VOICE_PANEL,
            "models": [declared_model(WET_CYCLE)],
        },
        ApplianceType.DISHWASHER: {
            "schema": 1,
            "type": "dishwasher",
            "manufacturer": MANUFACTURER,
            "model": "SIM-WQP13",
            "name": "13 place-setting dishwasher",
            "rated_power_w": 2100,
            "notes": "Simulated; profiles at 15 °C cold fill (EN 60436 conditions)",
            "capabilities": {
                "rinse_aid_low": {},
                "salt_low": {},
                "door_open": {},
            },
            "programmes": dishwasher_programmes(),
            "max_delay_s": MAX_DELAY_S,
            # Nothing to alarm about at once: a proxy's slot is freed when idle (PROTOCOL.md 11.6).
            "ble_connection": "on_demand",
            "voice_panel": VOICE_PANEL,
            "models": [declared_model(WET_CYCLE)],
        },
    }


def render(declaration: dict[str, Any]) -> str:
    """The file text of a declaration."""
    return json.dumps(declaration, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the declaration files."""
    DECLARATIONS_DIR.mkdir(parents=True, exist_ok=True)
    for appliance_type, declaration in build_declarations().items():
        path = DECLARATIONS_DIR / f"{appliance_type.value}.json"
        path.write_text(render(declaration), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
