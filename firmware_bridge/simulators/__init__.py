"""Physics models (``AppliancePhysics``) of the four appliance types.

``mcu.SimulatedSerialMcu`` puts one behind the MCU serial link, as the appliance's MCU.

``create_simulator(type, seed=..., index=...)`` builds one with its reference
declaration (``firmware_bridge/declarations``), a deterministic id such as
``lz-ac-3f2a9c01`` and an 8-digit pairing code. Simulators created with the
same seed share the Liuzhou weather (one simulated home); ``index`` tells
appliances of a home apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity

from .base import (
    SIMULATOR_FIRMWARE,
    AppliancePhysics,
    appliance_id_for,
    load_declaration,
    pairing_code_for,
    resolve_start,
)
from .climate import LiuzhouClimate, Season
from .dishwasher import DishwasherSimulator
from .refrigerator import RefrigeratorSimulator
from .room_ac import RoomAirConditionerSimulator
from .washer import WasherSimulator

__all__ = [
    "AppliancePhysics",
    "DishwasherSimulator",
    "LiuzhouClimate",
    "RefrigeratorSimulator",
    "RoomAirConditionerSimulator",
    "Season",
    "WasherSimulator",
    "create_simulator",
]


def create_simulator(
    appliance_type: ApplianceType | str,
    *,
    seed: int = 0,
    index: int = 0,
    season: Season | str = Season.SUMMER,
    start: datetime | None = None,
    declaration: Declaration | None = None,
    firmware: str = SIMULATOR_FIRMWARE,
    climate: LiuzhouClimate | None = None,
    **options: Any,
) -> AppliancePhysics:
    """Build the simulator of ``appliance_type``.

    ``season`` picks a mid-July or mid-January start unless ``start`` (local
    time) is given. ``declaration`` overrides the reference declaration (e.g.
    a fridge without freezer); ``firmware`` is the version the MCU reports
    (a firmware update is a restart with another version and declaration).
    Other ``options`` go to the type's simulator:
    ``ambient_c``, ``door_alarm_after_s``, ``random_door_openings``,
    ``parameters``, ``physical_faults``, ``fault_detector`` (False: a firmware without
    the fridge_fault detector) (refrigerator); ``initial_temperature_c``,
    ``initial_humidity_pct``, ``room``, ``unit`` (air conditioner);
    ``inlet_water_c``, ``ambient_c``, ``remaining`` ("model", "declared" or "physics":
    where ``remaining_time`` comes from), ``module`` ("linux" or "mcu": the network
    module's class, which runs wet_cycle.tflite or wet_cycle_int8.tflite and declares
    that file's version) (washer, dishwasher); ``load_kg`` (washer);
    ``rinse_aid_cycles``, ``salt_cycles``, ``load_fraction`` (dishwasher).
    """
    try:
        kind = ApplianceType(appliance_type)
    except ValueError:
        raise ValueError(
            f"unknown appliance type {appliance_type!r}; one of {', '.join(ApplianceType)}"
        ) from None
    declaration = declaration or load_declaration(kind)
    if declaration.type is not kind:
        raise ValueError(f"the declaration is for {declaration.type}, not {kind}")
    identity = ApplianceIdentity(
        appliance_id_for(kind, seed, index), kind, declaration.model, firmware
    )
    common: dict[str, Any] = {
        "climate": climate or LiuzhouClimate(seed=seed),
        "start": resolve_start(season, start),
    }
    code = pairing_code_for(kind, seed, index)
    if kind is ApplianceType.REFRIGERATOR:
        return RefrigeratorSimulator(
            declaration, identity, code, door_seed=f"{seed}:{index}", **common, **options
        )
    if kind is ApplianceType.ROOM_AIR_CONDITIONER:
        return RoomAirConditionerSimulator(declaration, identity, code, **common, **options)
    if kind is ApplianceType.LAUNDRY_WASHER:
        return WasherSimulator(declaration, identity, code, **common, **options)
    return DishwasherSimulator(declaration, identity, code, **common, **options)
