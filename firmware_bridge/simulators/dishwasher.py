"""Dishwasher: a 60 cm, 13 place-setting freestanding model (Chinese class "WQP13").

Thermal mass: 13 place settings of crockery, glass and cutlery (~20 kg,
c ≈ 0.8 kJ/kgK) plus the stainless tub, racks and sump: ~23 kJ/K besides the
3-4 L of water per fill; the insulated tub loses ~4 W/K, ~3x that with the
vent open while drying. A 2 kW flow-through heater, a 35-40 W circulation
pump, a 30 W drain pump, 10 W for the inlet valve and a 5 W drying fan.

Programmes (``DISHWASHER_PROGRAMMES``), each a pre-wash / wash / rinse / dry
recipe: "eco" is the EU-label programme (Regulation (EU) 2019/2017 and EN
60436: cold fill at 15 °C) — a long, cool main wash (45 °C) and a 55 °C hot
rinse whose heat dries the dishes; "intensive" heats the pre-wash, washes at
70 °C, rinses hot and dries with the heater; "quick" skips pre-wash and
drying. Energy at EN 60436 conditions (checked in tests): eco ~0.9 kWh in
~3 h 40 (label class D-E for 13 place settings: 0.85-0.95), intensive ~1.5,
auto ~1.0, quick ~0.7, glass ~0.7, pre_rinse ~0.01.

Consumables: the rinse-aid reservoir and the salt container last a number of
cycles (defaults: rinse aid ~40 doses, salt ~30 regenerations at medium water
hardness); ``rinse_aid_low``/``salt_low`` turn on when they run out and
``refill`` resets them. The door: ``open_door`` while running pauses the
programme, as real dishwashers do; it cannot start or resume with the door
open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import OperationalState, Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity
from firmware_bridge.models import ModuleClass, RemainingSource

from .base import state_bool, state_number
from .climate import LiuzhouClimate
from .wet_cycle import WetApplianceSimulator
from .wet_physics import CycleStep, MachineParameters, StepKind

DISHWASHER_MACHINE: Final = MachineParameters(
    heater_w=2000.0,
    heater_efficiency=0.98,  # flow-through heater in the sump
    loss_w_per_k=4.0,
    standby_w=1.5,
    electronics_w=3.0,
)
TUB_J_PER_K: Final = 7e3  # tub, racks and sump
DISHES_J_PER_K: Final = 16e3  # 13 place settings, ~20 kg at ~0.8 kJ/kgK
LOAD_J_PER_K: Final = TUB_J_PER_K + DISHES_J_PER_K  # full load (the declared profiles)
PUMP_W: Final = 38.0
DRAIN_W: Final = 30.0
VALVE_W: Final = 10.0
FAN_W: Final = 5.0
DRYING_LOSS_FACTOR: Final = 3.0

PRE, WASH, RINSE, DRY = "pre_wash", "washing", "rinsing", "drying"


def _fill(phase: str, litres: float) -> CycleStep:
    return CycleStep(phase, StepKind.FILL, 60.0, VALVE_W, water_kg=litres)


def _drain(phase: str) -> CycleStep:
    return CycleStep(phase, StepKind.DRAIN, 60.0, DRAIN_W)


def _bath(phase: str, litres: float, minutes: float, hot_c: float | None = None) -> list[CycleStep]:
    """Fill, optionally heat, circulate (keeping ``hot_c``), drain."""
    steps = [_fill(phase, litres)]
    if hot_c is not None:
        steps.append(CycleStep(phase, StepKind.HEAT, motor_w=PUMP_W, target_c=hot_c))
    steps.append(CycleStep(phase, StepKind.HOLD, minutes * 60.0, PUMP_W, target_c=hot_c))
    steps.append(_drain(phase))
    return steps


def _dry(
    minutes: float, heated_c: float | None = None, heated_minutes: float = 0.0
) -> list[CycleStep]:
    steps = []
    if heated_c is not None:
        steps.append(
            CycleStep(
                DRY, StepKind.HOLD, heated_minutes * 60.0, FAN_W, target_c=heated_c, band_k=3.0
            )
        )
    steps.append(
        CycleStep(DRY, StepKind.HOLD, minutes * 60.0, FAN_W, loss_factor=DRYING_LOSS_FACTOR)
    )
    return steps


@dataclass(frozen=True, slots=True)
class DishwasherProgramme:
    """A dishwasher programme's recipe."""

    id: str
    steps: tuple[CycleStep, ...]
    uses_rinse_aid: bool = True
    uses_salt: bool = True


DISHWASHER_PROGRAMMES: Final = (
    DishwasherProgramme("eco", (
        *_bath(PRE, 3.0, 10), *_bath(WASH, 3.5, 100, 45.0),
        *_bath(RINSE, 3.0, 5), *_bath(RINSE, 3.0, 10, 55.0), *_dry(70),
    )),
    DishwasherProgramme("auto", (
        *_bath(PRE, 3.0, 8), *_bath(WASH, 3.5, 45, 60.0),
        *_bath(RINSE, 3.0, 5), *_bath(RINSE, 3.0, 8, 65.0), *_dry(45),
    )),
    DishwasherProgramme("intensive", (
        *_bath(PRE, 3.0, 10, 50.0), *_bath(WASH, 4.0, 40, 70.0),
        *_bath(RINSE, 3.0, 5), *_bath(RINSE, 3.0, 5), *_bath(RINSE, 3.5, 10, 70.0),
        *_dry(25, heated_c=70.0, heated_minutes=15),
    )),
    DishwasherProgramme("quick", (
        *_bath(WASH, 3.5, 10, 50.0), *_bath(RINSE, 3.0, 3), *_bath(RINSE, 3.0, 2, 58.0),
        *_dry(5),
    )),
    DishwasherProgramme("glass", (
        *_bath(PRE, 3.0, 5), *_bath(WASH, 3.5, 25, 45.0),
        *_bath(RINSE, 3.0, 5), *_bath(RINSE, 3.0, 8, 55.0), *_dry(30),
    )),
    DishwasherProgramme("pre_rinse", tuple(_bath(PRE, 3.0, 12)), uses_rinse_aid=False,
                        uses_salt=False),
)  # fmt: skip
PROGRAMMES_BY_ID: Final = {programme.id: programme for programme in DISHWASHER_PROGRAMMES}


def dishwasher_load_j_per_k(load_fraction: float) -> float:
    """Heat capacity (J/K) of tub and dishes with the racks ``load_fraction`` full (0-1)."""
    return TUB_J_PER_K + DISHES_J_PER_K * load_fraction


class DishwasherSimulator(WetApplianceSimulator):
    """A 13 place-setting dishwasher in a Liuzhou kitchen."""

    def __init__(
        self,
        declaration: Declaration,
        identity: ApplianceIdentity,
        pairing_code: str,
        *,
        climate: LiuzhouClimate,
        start: datetime,
        inlet_water_c: float | None = None,
        ambient_c: float | None = None,
        rinse_aid_cycles: int = 40,
        salt_cycles: int = 30,
        load_fraction: float = 1.0,
        remaining: RemainingSource | str = RemainingSource.MODEL,
        module: ModuleClass | str = ModuleClass.LINUX,
    ) -> None:
        """``load_fraction``: how full the racks are (0-1; 1 = 13 place settings);
        ``remaining``: where ``remaining_time`` comes from and ``module`` the network
        module's class, which picks the model file (see ``WetApplianceSimulator``)."""
        if not 0.0 <= load_fraction <= 1.0:
            raise ValueError(f"load fraction must be 0-1, not {load_fraction}")
        self.load_fraction = load_fraction
        super().__init__(
            declaration,
            identity,
            pairing_code,
            climate=climate,
            start=start,
            machine=DISHWASHER_MACHINE,
            recipe_ids=PROGRAMMES_BY_ID.keys(),
            inlet_water_c=inlet_water_c,
            ambient_c=ambient_c,
            remaining=remaining,
            module=module,
        )
        if rinse_aid_cycles < 1 or salt_cycles < 1:
            raise ValueError("consumables must last at least one cycle")
        self.rinse_aid_cycles = rinse_aid_cycles
        self.salt_cycles = salt_cycles
        self.rinse_aid_used = 0
        self.salt_used = 0
        self._door_open = False

    @property
    def dishwasher(self) -> bool:
        """A dishwasher."""
        return True

    def plan(self) -> tuple[list[CycleStep], float]:
        """The selected programme's steps."""
        return list(PROGRAMMES_BY_ID[self.programme].steps), dishwasher_load_j_per_k(
            self.load_fraction
        )

    def _settings_key(self) -> tuple[Any, ...]:
        return (self.programme,)

    # --- door and consumables ------------------------------------------------------

    @property
    def door_open(self) -> bool:
        """Whether the door is open."""
        return self._door_open

    def open_door(self) -> None:
        """Open the door; a running programme pauses."""
        self._door_open = True
        if self._state is OperationalState.RUNNING and self._delay_s <= 0:
            self._state = OperationalState.PAUSED

    def close_door(self) -> None:
        """Close the door (resume with the ``resume`` command)."""
        self._door_open = False

    def _check_startable(self) -> None:
        if self._door_open:
            raise LinkError(ErrorCode.INVALID_STATE, "close the dishwasher door first")

    def refill(self, what: str | None = None) -> None:
        """Refill ``"rinse_aid"``, ``"salt"`` or both (None)."""
        if what not in (None, "rinse_aid", "salt"):
            raise ValueError(f"refill rinse_aid or salt, not {what!r}")
        if what in (None, "rinse_aid"):
            self.rinse_aid_used = 0
        if what in (None, "salt"):
            self.salt_used = 0

    @property
    def rinse_aid_low(self) -> bool:
        """The rinse-aid reservoir is empty."""
        return self.rinse_aid_used >= self.rinse_aid_cycles

    @property
    def salt_low(self) -> bool:
        """The salt container is empty."""
        return self.salt_used >= self.salt_cycles

    def _finished(self) -> None:
        recipe = PROGRAMMES_BY_ID[self.programme]
        if recipe.uses_rinse_aid:
            self.rinse_aid_used = min(self.rinse_aid_used + 1, self.rinse_aid_cycles)
        if recipe.uses_salt:
            self.salt_used = min(self.salt_used + 1, self.salt_cycles)

    # --- MCU interface -------------------------------------------------------------

    def _all_values(self) -> dict[str, Value]:
        return {
            **self._operation_values(),
            "rinse_aid_low": self.rinse_aid_low,
            "salt_low": self.salt_low,
            "door_open": self._door_open,
        }

    def _write(self, key: str, value: Value) -> None:
        if key != "programme":
            raise LinkError(ErrorCode.READ_ONLY, f"{key} is read-only", key=key)
        assert isinstance(value, str)
        self._require_settable(key)
        self.programme = value

    def _export_extra(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "rinse_aid_used": self.rinse_aid_used,
            "salt_used": self.salt_used,
            "door_open": self._door_open,
        }

    def _restore_extra(self, state: Mapping[str, Any]) -> Callable[[], None]:
        programme = self._restore_programme(state)
        rinse_aid = int(
            state_number(state, "rinse_aid_used", minimum=0, maximum=self.rinse_aid_cycles)
        )
        salt = int(state_number(state, "salt_used", minimum=0, maximum=self.salt_cycles))
        door_open = state_bool(state, "door_open")
        reset = self._after_restore()

        def apply() -> None:
            reset()
            self.programme = programme
            self.rinse_aid_used, self.salt_used, self._door_open = rinse_aid, salt, door_open

        return apply
