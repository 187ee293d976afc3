"""Laundry washer: an 8 kg, 1400 rpm front loader (Chinese class "XQG80").

Programmes (``WASHER_PROGRAMMES``) follow what 8 kg front loaders sold in
China and the EU do: main-wash water ~12-14 L (plus what the laundry soaks
up), a 2 kW heater, the drum motor at 80-180 W on average while tumbling
(intermittent), 2-4 rinses of ~12 L cold water each with a short spin, a
final spin whose length and power grow with speed (300 W at 400 rpm to 550
W at 1400 rpm, 5-11 min). The drum, tub and laundry add ~15 kJ/K plus
1.4 kJ/kgK per kg of dry laundry to the water's heat capacity; the tub loses
~2.5 W/K. "eco_40_60" is the EU-label programme (Regulation (EU) 2019/2014):
it washes 40-60 labelled cotton at a low real temperature (~36 °C) for long,
which is where its low energy comes from.

Energy at EN 60456 conditions (15 °C inlet, 23 °C room), checked in tests:
eco_40_60 ~0.8 kWh (EU label class B-C for 8 kg: 0.7-0.9 kWh per cycle),
cotton 60 °C ~1.3 kWh (manufacturer tables: 1.2-1.5), cotton 40 ~0.8, quick
30 °C ~0.3 kWh in ~30 min. Summer mains water in Liuzhou (~27 °C) lowers the
heating energy a lot; a cold wash then uses only the motor.
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

from .base import state_choice
from .climate import LiuzhouClimate
from .wet_cycle import WetApplianceSimulator
from .wet_physics import CycleStep, MachineParameters, StepKind

WASHER_MACHINE: Final = MachineParameters(
    heater_w=2000.0,
    heater_efficiency=0.97,  # immersed element; the rest heats the tub's outside
    loss_w_per_k=2.5,
    standby_w=1.5,
    electronics_w=4.0,
)
DRUM_J_PER_K: Final = 15e3  # stainless drum (~8 kg) and polypropylene tub share in contact
LAUNDRY_J_PER_KG_K: Final = 1400.0  # cotton ~1.3-1.4 kJ/kgK
# Load sensing: the main wash lets in less water for a smaller load (what the laundry
# would have soaked up), so the water to heat, and the heating time, follow the load.
LAUNDRY_ABSORBS_L_PER_KG: Final = 1.0
DRUM_CAPACITY_KG: Final = 8.0
TEMPERATURES: Final = ("cold", "20", "30", "40", "60", "90")
SPIN_SPEEDS: Final = ("0", "400", "800", "1000", "1200", "1400")
RINSES: Final = ("none", "normal", "extra", "max")
LOCK_RELEASE_C: Final = 45.0  # the door stays locked above this water temperature


@dataclass(frozen=True, slots=True)
class WasherProgramme:
    """A washer programme's recipe."""

    id: str
    load_kg: float
    water_l: float  # main wash, including what the laundry absorbs
    temperatures: tuple[str, ...]  # allowed water_temperature options
    default_temperature: str
    wash_s: float  # tumbling at temperature after heating
    wash_motor_w: float
    rinses: int  # "normal"
    rinse_water_l: float
    max_spin: int
    default_spin: int
    heat_motor_w: float = 100.0
    rinse_s: float = 240.0  # tumbling in each rinse
    # Real temperature reached for a nominal setting (eco programmes stay below it).
    heat_to: Mapping[str, float] | None = None


WASHER_PROGRAMMES: Final = (
    WasherProgramme(
        "cotton", 8.0, 13.0, TEMPERATURES, "40", 55 * 60, 130.0, 3, 12.0, 1400, 1400
    ),
    WasherProgramme(
        "eco_40_60", 8.0, 12.0, ("40",), "40", 160 * 60, 70.0, 2, 12.0, 1400, 1400,
        heat_to={"40": 34.0},
    ),
    WasherProgramme(
        "synthetics", 4.0, 11.0, ("cold", "20", "30", "40", "60"), "40", 40 * 60, 110.0, 2,
        11.0, 1200, 1000,
    ),
    WasherProgramme(
        "mixed", 4.0, 11.0, ("cold", "20", "30", "40", "60"), "40", 30 * 60, 120.0, 2, 11.0,
        1400, 1000,
    ),
    WasherProgramme(
        "wool", 2.0, 12.0, ("cold", "20", "30", "40"), "30", 15 * 60, 60.0, 2, 12.0, 800, 800
    ),
    WasherProgramme(
        "delicates", 2.5, 12.0, ("cold", "20", "30", "40"), "30", 20 * 60, 70.0, 3, 12.0, 800,
        400,
    ),
    WasherProgramme(
        "quick", 2.0, 9.0, ("cold", "20", "30", "40"), "30", 7 * 60, 120.0, 2, 9.0, 1000, 800,
        rinse_s=120.0,
    ),
    WasherProgramme(
        "bedding", 2.5, 20.0, ("cold", "20", "30", "40", "60"), "40", 35 * 60, 130.0, 3, 18.0,
        1000, 800,
    ),
)  # fmt: skip
PROGRAMMES_BY_ID: Final = {programme.id: programme for programme in WASHER_PROGRAMMES}


def spin_watts(rpm: int) -> float:
    """Motor power while spinning at ``rpm`` (inverter direct drive)."""
    return 200.0 + 0.25 * rpm


def spin_seconds(rpm: int) -> float:
    """Final spin length: faster spins run longer to reach their residual moisture."""
    return 180.0 + 0.35 * rpm


def rinse_count(programme: WasherProgramme, rinses: str) -> int:
    """Number of rinses for the ``rinses`` option."""
    return {"none": 0, "normal": 0, "extra": 1, "max": 2}[rinses] + (
        0 if rinses == "none" else programme.rinses
    )


def washer_plan(
    programme: WasherProgramme,
    temperature: str,
    spin: int,
    rinses: str,
    load_kg: float | None = None,
) -> tuple[list[CycleStep], float]:
    """The steps of ``programme`` with these options, and the load's heat capacity (J/K).

    ``load_kg`` is the dry laundry in the drum (0-8 kg; None: the programme's rated
    load, as the declared profiles assume). Less laundry takes less main-wash water.
    """
    if load_kg is None:
        load_kg = programme.load_kg
    if not 0.0 <= load_kg <= DRUM_CAPACITY_KG:
        raise ValueError(f"load must be 0-{DRUM_CAPACITY_KG:g} kg, not {load_kg}")
    fill, heat, wash, rinse, spin_phase = "filling", "heating", "washing", "rinsing", "spinning"
    water = max(
        programme.water_l - LAUNDRY_ABSORBS_L_PER_KG * (programme.load_kg - load_kg),
        0.6 * programme.water_l,
    )
    steps = [CycleStep(fill, StepKind.FILL, 150.0, 40.0, water_kg=water)]
    target: float | None = None
    if temperature != "cold":
        target = (programme.heat_to or {}).get(temperature, float(temperature))
        steps.append(
            CycleStep(heat, StepKind.HEAT, motor_w=programme.heat_motor_w, target_c=target)
        )
    steps.append(
        CycleStep(wash, StepKind.HOLD, programme.wash_s, programme.wash_motor_w, target_c=target)
    )
    intermediate = min(spin, 800)
    for _ in range(rinse_count(programme, rinses)):
        steps += [
            CycleStep(rinse, StepKind.DRAIN, 60.0, 35.0),
            *(
                [CycleStep(rinse, StepKind.HOLD, 90.0, spin_watts(intermediate))]
                if intermediate
                else []
            ),
            CycleStep(rinse, StepKind.FILL, 90.0, 30.0, water_kg=programme.rinse_water_l),
            CycleStep(rinse, StepKind.HOLD, programme.rinse_s, programme.wash_motor_w),
        ]
    steps.append(CycleStep(spin_phase, StepKind.DRAIN, 60.0, 35.0))
    if spin:
        steps.append(CycleStep(spin_phase, StepKind.HOLD, spin_seconds(spin), spin_watts(spin)))
    load = DRUM_J_PER_K + load_kg * LAUNDRY_J_PER_KG_K
    return steps, load


def default_options(programme: WasherProgramme) -> tuple[str, int, str]:
    """Water temperature, spin speed and rinses a programme starts with."""
    return programme.default_temperature, programme.default_spin, "normal"


class WasherSimulator(WetApplianceSimulator):
    """An 8 kg front loader on a Liuzhou balcony."""

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
        load_kg: float | None = None,
        remaining: RemainingSource | str = RemainingSource.MODEL,
        module: ModuleClass | str = ModuleClass.LINUX,
    ) -> None:
        """``load_kg``: dry laundry in each run (None: each programme's rated load);
        ``remaining``: where ``remaining_time`` comes from and ``module`` the network
        module's class, which picks the model file (see ``WetApplianceSimulator``)."""
        if load_kg is not None and not 0.0 <= load_kg <= DRUM_CAPACITY_KG:
            raise ValueError(f"load must be 0-{DRUM_CAPACITY_KG:g} kg, not {load_kg}")
        self.load_kg = load_kg
        super().__init__(
            declaration,
            identity,
            pairing_code,
            climate=climate,
            start=start,
            machine=WASHER_MACHINE,
            recipe_ids=PROGRAMMES_BY_ID.keys(),
            inlet_water_c=inlet_water_c,
            ambient_c=ambient_c,
            remaining=remaining,
            module=module,
        )
        self._select(self.programme)

    def _select(self, programme_id: str) -> None:
        self.programme = programme_id
        recipe = PROGRAMMES_BY_ID[programme_id]
        self.water_temperature, self.spin_speed, self.rinses = default_options(recipe)
        self.spin_speed = self._spin_within_declaration(self.spin_speed)

    def _spin_within_declaration(self, rpm: int) -> int:
        capability = self.declaration.capabilities.get("spin_speed")
        if capability is None:
            return rpm
        allowed = [int(option) for option in capability.options if int(option) <= rpm]
        return max(allowed, default=0)

    @property
    def recipe(self) -> WasherProgramme:
        """The selected programme's recipe."""
        return PROGRAMMES_BY_ID[self.programme]

    def plan(self) -> tuple[list[CycleStep], float]:
        """The selected programme's steps with the current options."""
        return washer_plan(
            self.recipe, self.water_temperature, self.spin_speed, self.rinses, self.load_kg
        )

    def run_options(self) -> tuple[str, float, str]:
        """The options the predictor takes: water temperature, final spin (rpm), rinses."""
        return self.water_temperature, float(self.spin_speed), self.rinses

    def _settings_key(self) -> tuple[Any, ...]:
        return (self.programme, self.water_temperature, self.spin_speed, self.rinses)

    @property
    def door_locked(self) -> bool:
        """Locked while it runs; paused or in error it opens once the water is cool."""
        run = self._run
        if run is None:
            return False
        if self._state is OperationalState.RUNNING:
            return self._delay_s <= 0
        started = run.index > 0 or run.in_step_s > 0
        return started and run.temperature_c > LOCK_RELEASE_C

    def _all_values(self) -> dict[str, Value]:
        return {
            **self._operation_values(),
            "water_temperature": self.water_temperature,
            "spin_speed": str(self.spin_speed),
            "rinses": self.rinses,
            "door_locked": self.door_locked,
        }

    def _write(self, key: str, value: Value) -> None:
        assert isinstance(value, str)
        self._require_settable(key)
        recipe = self.recipe
        if key == "programme":
            self._select(value)
        elif key == "water_temperature":
            if value not in recipe.temperatures:
                raise LinkError(
                    ErrorCode.OUT_OF_RANGE,
                    f"{recipe.id} washes at {', '.join(recipe.temperatures)}; not {value}",
                    key=key,
                )
            self.water_temperature = value
        elif key == "spin_speed":
            if int(value) > recipe.max_spin:
                raise LinkError(
                    ErrorCode.OUT_OF_RANGE,
                    f"{recipe.id} spins at most {recipe.max_spin} rpm",
                    key=key,
                )
            self.spin_speed = int(value)
        elif key == "rinses":
            self.rinses = value
        else:
            raise LinkError(ErrorCode.READ_ONLY, f"{key} is read-only", key=key)

    def _export_extra(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "water_temperature": self.water_temperature,
            "spin_speed": self.spin_speed,
            "rinses": self.rinses,
        }

    def _restore_extra(self, state: Mapping[str, Any]) -> Callable[[], None]:
        programme = self._restore_programme(state)
        temperature = state_choice(
            state, "water_temperature", PROGRAMMES_BY_ID[programme].temperatures
        )
        spin = state.get("spin_speed")
        if not isinstance(spin, int) or isinstance(spin, bool) or str(spin) not in SPIN_SPEEDS:
            raise ValueError(f"state 'spin_speed' must be one of {', '.join(SPIN_SPEEDS)}")
        rinses = state_choice(state, "rinses", RINSES)
        reset = self._after_restore()

        def apply() -> None:
            reset()
            self.programme = programme
            self.water_temperature, self.spin_speed, self.rinses = temperature, spin, rinses

        return apply
