"""Room air conditioner: a Liuzhou bedroom's thermal model and an inverter split unit.

``RoomModel`` and ``InverterAirConditioner`` are plain classes with explicit
parameters so the energy team can drive them directly (``RoomModel.advance``
with any heat input) in long benchmarks; ``RoomAirConditionerSimulator`` wires
them to the climate and the declaration.

Room (``RoomParameters``): a 20 m² bedroom, 2.7 m ceiling, in a 1990s-2000s
brick-concrete block (hot-summer-warm-winter zone, no wall insulation), one
external wall with a 2.5 m² single-glazed aluminium window. Two thermal nodes
(a "2R2C" model):

* the air node (air 54 m³ ≈ 65 kJ/K, plus furniture, bedding and the surface
  layer of the walls that follows the air within minutes: ≈ 450 kJ/K),
* the structure node (≈ 5 cm of the room's ~75 m² of concrete and brick
  surfaces: 75 · 0.05 · 2000 kg/m³ · 0.88 kJ/kgK ≈ 6.6 MJ/K), coupled to the
  air by surface convection and radiation (~2.5 W/m²K · 75 m² ≈ 190 W/K).

Heat paths: window U ≈ 5.8 W/m²K · 2.5 m² ≈ 15 W/K straight to the air; the
opaque external wall (7 m², U ≈ 2 W/m²K) and the partition walls toward
unconditioned neighbouring rooms (~30 % coupling) ≈ 30 W/K into the structure;
infiltration 0.5 air changes per hour ≈ 9 W/K sensible and the matching
moisture exchange. Solar gain through the west/south-west window peaks at
~450 W on a clear July afternoon (2.5 m² · ~400 W/m² on the facade · g ≈ 0.45
with the curtain half drawn), split between the air (furniture) and the
structure (floor). Internal gains follow a bedroom's day: two sleepers at
night (~140 W sensible, ~80 g/h of moisture), mostly empty by day, phone,
laptop and lights in the evening.

Humidity: one moisture node (the air's vapour plus what furniture, bedding
and walls buffer, ~5x the air's own capacity), exchanging with the outdoor
air by infiltration, fed by the occupants and drained by condensation on the
indoor coil.

Air conditioner (``AirConditionerParameters``): an inverter wall unit of the
Chinese "KFR-35GW" class: 3.5 kW rated cooling at 35 °C outdoor (GB 21455
test point), 4.2 kW rated heating at 7 °C, modulating 25-100 %. Capacity
falls ~1.2 %/K above 35 °C outdoor in cooling and rises ~2.5 %/K with outdoor
temperature in heating. Efficiency is a fraction (38 % cooling, 45 % heating)
of the Carnot COP between the evaporating and condensing temperatures, whose
distance from the air temperatures grows with load; that yields a full-load
EER ~2.9 (≈1.2-1.3 kW drawn on a 35 °C day) and a part-load COP of 4-5, as
inverter units show (their SEER is well above their full-load EER). Indoor fan
15/25/40 W (low/medium/high), outdoor fan 35 W, electronics 2 W in standby.

Control: a PI controller on the room temperature error sets the compressor
demand; below the minimum modulation the unit cycles off with hysteresis and
a 3-minute restart delay. Fan speed limits capacity (airflow); ``auto`` fan
follows the error. Eco caps the compressor at 70 % and offsets the setpoint
by 1 K toward the outdoor side. Sleep raises the cooling setpoint by 1 K per
hour up to 2 K (lowers the heating one likewise) from when it is switched on,
with the fan at low. Dry runs the compressor at ~35 % with the fan at low
(colder coil, more moisture removed) until the room reaches the setpoint
minus 2 K or ~45 % humidity. Auto mode picks cool above the setpoint + 1 K
and heat below the setpoint − 1.5 K. The unit reports what it does as
``running_state``: cooling, heating or drying while the compressor runs, fan in
fan-only mode, idle while the compressor rests or the unit is off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import math
from typing import Any, Final

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity

from .base import AppliancePhysics, number_value, state_bool, state_choice, state_number
from .climate import LiuzhouClimate, humidity_ratio, relative_humidity, saturation_pressure_pa

AIR_DENSITY: Final = 1.2  # kg/m³
AIR_CP: Final = 1005.0  # J/kgK
LATENT_HEAT: Final = 2.45e6  # J/kg, condensing water near room temperature
ZERO_C_K: Final = 273.15
MAX_SUBSTEP_S: Final = 10.0

MODES: Final = ("cool", "heat", "dry", "fan_only", "auto")
FAN_SPEEDS: Final = ("auto", "low", "medium", "high")
SWINGS: Final = ("off", "vertical", "horizontal", "both")


@dataclass(frozen=True, slots=True)
class RoomParameters:
    """A room's thermal and moisture parameters (see the module docstring)."""

    volume_m3: float = 54.0
    air_capacity_j_per_k: float = 450e3
    structure_capacity_j_per_k: float = 6.6e6
    air_structure_w_per_k: float = 190.0
    window_w_per_k: float = 15.0  # outdoor -> air
    wall_w_per_k: float = 30.0  # outdoor -> structure
    air_changes_per_hour: float = 0.5
    solar_peak_w: float = 450.0
    solar_to_air: float = 0.5  # the rest warms the structure (floor)
    moisture_buffer: float = 5.0  # furniture/bedding/walls hold this many times the air's vapour

    @property
    def infiltration_kg_per_s(self) -> float:
        """Outdoor air exchanged by infiltration."""
        return self.air_changes_per_hour * self.volume_m3 * AIR_DENSITY / 3600.0


def internal_gains(hour: float) -> tuple[float, float]:
    """Sensible heat (W) and moisture (kg/s) released in the bedroom at ``hour`` (0-24)."""
    if hour >= 22.5 or hour < 7.0:  # two people asleep
        return 140.0, 80e-3 / 3600.0
    if hour < 8.0:  # getting up
        return 200.0, 120e-3 / 3600.0
    if hour >= 18.5:  # evening: one or two people, laptop, lights
        return 260.0, 90e-3 / 3600.0
    return 50.0, 5e-3 / 3600.0  # empty, a charger and standby loads


class RoomModel:
    """A 2R2C room with a moisture node; advance it with any air-side heat input."""

    def __init__(
        self, parameters: RoomParameters, *, temperature_c: float, humidity_pct: float
    ) -> None:
        self.parameters = parameters
        self.air_c = temperature_c
        self.structure_c = temperature_c
        self.moisture = humidity_ratio(temperature_c, min(max(humidity_pct, 1.0), 100.0))

    @property
    def humidity_pct(self) -> float:
        """Relative humidity of the room air."""
        return min(100.0, relative_humidity(self.air_c, self.moisture))

    def advance(
        self,
        dt: float,
        *,
        outdoor_c: float,
        outdoor_moisture: float,
        solar: float,
        hour: float,
        sensible_w: float = 0.0,
        moisture_kg_per_s: float = 0.0,
    ) -> None:
        """Explicit Euler over ``dt`` (<= ~30 s is stable; callers sub-step).

        ``sensible_w`` is heat added to the air (negative when cooling),
        ``moisture_kg_per_s`` water vapour added (negative when condensing).
        """
        p = self.parameters
        gain_w, occupant_moisture = internal_gains(hour)
        solar_w = p.solar_peak_w * solar
        infiltration = p.infiltration_kg_per_s
        to_structure = p.air_structure_w_per_k * (self.structure_c - self.air_c)
        air_w = (
            p.window_w_per_k * (outdoor_c - self.air_c)
            + infiltration * AIR_CP * (outdoor_c - self.air_c)
            + p.solar_to_air * solar_w
            + gain_w
            + to_structure
            + sensible_w
        )
        structure_w = (
            p.wall_w_per_k * (outdoor_c - self.structure_c)
            + (1.0 - p.solar_to_air) * solar_w
            - to_structure
        )
        moisture_in = (
            infiltration * (outdoor_moisture - self.moisture)
            + occupant_moisture
            + moisture_kg_per_s
        )
        buffer_kg = p.volume_m3 * AIR_DENSITY * p.moisture_buffer
        self.air_c += air_w * dt / p.air_capacity_j_per_k
        self.structure_c += structure_w * dt / p.structure_capacity_j_per_k
        # Air cannot hold more than saturation; the excess condenses on cold surfaces.
        saturated = humidity_ratio(self.air_c, 100.0)
        self.moisture = min(max(self.moisture + moisture_in * dt / buffer_kg, 1e-4), saturated)


@dataclass(frozen=True, slots=True)
class AirConditionerParameters:
    """An inverter split unit (see the module docstring)."""

    rated_cooling_w: float = 3500.0  # at 35 °C outdoor
    rated_heating_w: float = 4200.0  # at 7 °C outdoor
    min_modulation: float = 0.25
    cooling_carnot_fraction: float = 0.38
    heating_carnot_fraction: float = 0.45
    standby_w: float = 2.0
    electronics_w: float = 5.0
    indoor_fan_w: Mapping[str, float] | None = None
    outdoor_fan_w: float = 35.0
    airflow_m3_per_h: Mapping[str, float] | None = None
    coil_bypass: float = 0.15
    max_latent_share: float = 0.4
    eco_cap: float = 0.7
    eco_offset_k: float = 1.0
    restart_delay_s: float = 180.0

    def fan_power(self, speed: str) -> float:
        """Indoor fan power at ``speed`` (low/medium/high)."""
        table = self.indoor_fan_w or {"low": 15.0, "medium": 25.0, "high": 40.0}
        return table[speed]

    def airflow(self, speed: str) -> float:
        """Indoor airflow in kg/s at ``speed``."""
        table = self.airflow_m3_per_h or {"low": 380.0, "medium": 520.0, "high": 650.0}
        return table[speed] * AIR_DENSITY / 3600.0

    def capacity_factor(self, speed: str) -> float:
        """Share of the compressor's capacity the coil can move at ``speed``."""
        return {"low": 0.72, "medium": 0.87, "high": 1.0}[speed]

    def max_cooling_w(self, outdoor_c: float) -> float:
        """Full-load cooling capacity at ``outdoor_c``."""
        return self.rated_cooling_w * min(1.1, max(0.6, 1.0 - 0.012 * (outdoor_c - 35.0)))

    def max_heating_w(self, outdoor_c: float) -> float:
        """Full-load heating capacity at ``outdoor_c``."""
        return self.rated_heating_w * min(1.2, max(0.5, 1.0 + 0.025 * (outdoor_c - 7.0)))

    def cooling_cop(self, load: float, indoor_c: float, outdoor_c: float) -> float:
        """Compressor COP in cooling at ``load`` (0-1 of full capacity)."""
        evaporating = indoor_c - 6.0 - 10.0 * load
        condensing = max(outdoor_c, indoor_c) + 5.0 + 9.0 * load
        carnot = (evaporating + ZERO_C_K) / max(condensing - evaporating, 5.0)
        part_load = 1.0 - 0.25 * (1.0 - load) ** 2  # small compressor losses at low speed
        return min(8.0, self.cooling_carnot_fraction * carnot * part_load)

    def heating_cop(self, load: float, indoor_c: float, outdoor_c: float) -> float:
        """Compressor COP in heating at ``load``."""
        condensing = indoor_c + 8.0 + 10.0 * load
        evaporating = min(outdoor_c, indoor_c) - 4.0 - 6.0 * load
        carnot = (condensing + ZERO_C_K) / max(condensing - evaporating, 5.0)
        part_load = 1.0 - 0.25 * (1.0 - load) ** 2
        return min(8.0, self.heating_carnot_fraction * carnot * part_load)


@dataclass(slots=True)
class AcOutput:
    """What the unit does to the room over a sub-step, and what it draws."""

    sensible_w: float = 0.0
    moisture_kg_per_s: float = 0.0
    electric_w: float = 0.0


class InverterAirConditioner:
    """The unit's controller and refrigeration cycle (settings are plain attributes)."""

    KP: Final = 0.45  # demand per K of error
    KI: Final = 1.0 / 1500.0  # demand per K·s

    def __init__(self, parameters: AirConditionerParameters) -> None:
        self.parameters = parameters
        self.on = False
        self.mode = "cool"
        self.target_c = 26.0
        self.fan_speed = "auto"
        self.eco = False
        self.sleep = False
        self.sleep_since_s = 0.0
        self.compressor_running = False
        self.modulation = 0.0
        self.integral = 0.0
        self.off_since_s = -1e9
        self.auto_heating = False
        self.dry_paused = False
        self.faults: frozenset[str] = frozenset()

    def effective_target(self, now_s: float, heating: bool) -> float:
        """Setpoint after eco offset and the sleep curve."""
        target = self.target_c
        direction = -1.0 if heating else 1.0
        if self.eco:
            target += direction * self.parameters.eco_offset_k
        if self.sleep:
            hours = max(0.0, now_s - self.sleep_since_s) / 3600.0
            target += direction * min(2.0, hours)
        return target

    def _fan(self, error_k: float) -> str:
        if self.sleep:
            return "low"
        if self.fan_speed != "auto":
            return self.fan_speed
        if error_k > 2.0:
            return "high"
        return "medium" if error_k > 0.8 else "low"

    @property
    def running_state(self) -> str:
        """What the unit does now (the data model's ``running_state``).

        ``idle`` when off or while the compressor rests (setpoint reached, restart
        delay, dry mode paused, a fault blocking it), even though the indoor fan
        may keep turning; ``fan`` in fan-only mode.
        """
        if not self.on:
            return "idle"
        if self.mode == "fan_only":
            return "fan"
        if not self.compressor_running:
            return "idle"
        if self.mode == "dry":
            return "drying"
        heating = self.mode == "heat" or (self.mode == "auto" and self.auto_heating)
        return "heating" if heating else "cooling"

    def _compressor_blocked(self) -> bool:
        return bool(self.faults & {"outdoor_unit", "compressor_overheat", "indoor_sensor"})

    def run(self, dt: float, now_s: float, room: RoomModel, outdoor_c: float) -> AcOutput:
        """Decide and apply the unit's action for one sub-step."""
        p = self.parameters
        if not self.on:
            self._stop_compressor(now_s)
            return AcOutput(electric_w=p.standby_w)
        mode = self.mode
        if mode == "auto":
            if room.air_c > self.target_c + 1.0:
                self.auto_heating = False
            elif room.air_c < self.target_c - 1.5:
                self.auto_heating = True
            mode = "heat" if self.auto_heating else "cool"
        heating = mode == "heat"
        electric = p.electronics_w
        if mode == "fan_only":
            self._stop_compressor(now_s)
            fan = self._fan(0.0)
            fan_w = p.fan_power(fan)
            return AcOutput(sensible_w=fan_w, electric_w=electric + fan_w)

        target = self.effective_target(now_s, heating)
        error = (target - room.air_c) if heating else (room.air_c - target)
        demand = self._demand(dt, now_s, error, mode, room)
        fan = "low" if mode == "dry" else self._fan(error)
        fan_w = p.fan_power(fan)
        electric += fan_w
        if not self.compressor_running:
            return AcOutput(sensible_w=fan_w, electric_w=electric)

        self.modulation = demand
        refrigerant = 0.5 if "refrigerant_low" in self.faults else 1.0
        if heating:
            capacity = p.max_heating_w(outdoor_c) * p.capacity_factor(fan) * demand * refrigerant
            cop = p.heating_cop(demand, room.air_c, outdoor_c) * (0.7 if refrigerant < 1 else 1)
            compressor_w = capacity / cop
            return AcOutput(
                sensible_w=capacity + fan_w, electric_w=electric + compressor_w + p.outdoor_fan_w
            )
        capacity = p.max_cooling_w(outdoor_c) * p.capacity_factor(fan) * demand * refrigerant
        cop = p.cooling_cop(demand, room.air_c, outdoor_c) * (0.7 if refrigerant < 1 else 1)
        compressor_w = capacity / cop
        # Coil surface ~2 K above the evaporating temperature; air touching it leaves
        # saturated at the coil temperature (bypass factor model).
        coil_c = room.air_c - 4.0 - 10.0 * demand / p.capacity_factor(fan)
        coil_moisture = (
            0.622 * saturation_pressure_pa(coil_c) / (101_325.0 - saturation_pressure_pa(coil_c))
        )
        condensing = max(0.0, room.moisture - coil_moisture) * p.airflow(fan) * (1 - p.coil_bypass)
        latent_w = min(condensing * LATENT_HEAT, p.max_latent_share * capacity)
        return AcOutput(
            sensible_w=-(capacity - latent_w) + fan_w,
            moisture_kg_per_s=-latent_w / LATENT_HEAT,
            electric_w=electric + compressor_w + p.outdoor_fan_w,
        )

    def _demand(self, dt: float, now_s: float, error: float, mode: str, room: RoomModel) -> float:
        p = self.parameters
        if self._compressor_blocked():
            self._stop_compressor(now_s)
            return 0.0
        if mode == "dry":
            # Dry: fixed low capacity, pausing when dry enough or too cold.
            if room.air_c < self.target_c - 2.0 or room.humidity_pct < 45.0:
                self.dry_paused = True
            elif room.air_c > self.target_c - 1.0 and room.humidity_pct > 52.0:
                self.dry_paused = False
            want = not self.dry_paused
            demand = 0.35
        else:
            self.integral = min(max(self.integral + error * dt, -0.3 / self.KI), 1.0 / self.KI)
            demand = self.KP * error + self.KI * self.integral
            cap = p.eco_cap if self.eco else 1.0
            demand = min(max(demand, p.min_modulation), cap)
            want = error > -0.6 if self.compressor_running else error > 0.4
        if want and not self.compressor_running:
            if now_s - self.off_since_s < p.restart_delay_s:
                return 0.0
            self.compressor_running = True
            # Soft start: the inverter ramps the compressor up over about a minute.
            self.modulation = p.min_modulation
        elif not want and self.compressor_running:
            self._stop_compressor(now_s)
            return 0.0
        if self.compressor_running:
            ramp = 0.02 * dt  # 2 %/s
            return min(demand, self.modulation + ramp) if demand > self.modulation else demand
        return 0.0

    def _stop_compressor(self, now_s: float) -> None:
        if self.compressor_running:
            self.compressor_running = False
            self.off_since_s = now_s
        self.modulation = 0.0


class RoomAirConditionerSimulator(AppliancePhysics):
    """A wall-mounted inverter AC in a Liuzhou bedroom."""

    def __init__(
        self,
        declaration: Declaration,
        identity: ApplianceIdentity,
        pairing_code: str,
        *,
        climate: LiuzhouClimate,
        start: datetime,
        room: RoomParameters | None = None,
        unit: AirConditionerParameters | None = None,
        initial_temperature_c: float | None = None,
        initial_humidity_pct: float | None = None,
    ) -> None:
        super().__init__(declaration, identity, pairing_code, climate=climate, start=start)
        t = self.climate_time_s
        outdoor = climate.outdoor(t)
        # An unconditioned room sits a little above the day's mean outdoor temperature.
        temperature = (
            initial_temperature_c
            if initial_temperature_c is not None
            else climate.indoor_unconditioned(t)
        )
        humidity = (
            initial_humidity_pct
            if initial_humidity_pct is not None
            else min(
                100.0,
                relative_humidity(
                    temperature, humidity_ratio(outdoor.temperature_c, outdoor.humidity_pct)
                ),
            )
        )
        self.room = RoomModel(
            room or RoomParameters(), temperature_c=temperature, humidity_pct=humidity
        )
        self.unit = InverterAirConditioner(unit or AirConditionerParameters())
        self.swing = "off"
        self._power_w = self.unit.parameters.standby_w
        self._outdoor_c = outdoor.temperature_c
        self._reported_temperature = temperature

    # --- physics -------------------------------------------------------------------

    def _advance(self, dt: float) -> None:
        steps = max(1, math.ceil(dt / MAX_SUBSTEP_S - 1e-9))
        h = dt / steps
        energy_j = 0.0
        for n in range(steps):
            now = self._elapsed_s + n * h
            t = self._climate_origin_s + now + h / 2.0
            outdoor = self.climate.outdoor(t)
            output = self.unit.run(h, now, self.room, outdoor.temperature_c)
            self.room.advance(
                h,
                outdoor_c=outdoor.temperature_c,
                outdoor_moisture=humidity_ratio(outdoor.temperature_c, outdoor.humidity_pct),
                solar=outdoor.solar,
                hour=(t % 86400.0) / 3600.0,
                sensible_w=output.sensible_w,
                moisture_kg_per_s=output.moisture_kg_per_s,
            )
            energy_j += output.electric_w * h
            self._power_w = output.electric_w
            self._outdoor_c = outdoor.temperature_c
        self._energy.add(energy_j / dt, dt)
        if "indoor_sensor" not in self._faults:
            self._reported_temperature = self.room.air_c

    def _faults_changed(self) -> None:
        self.unit.faults = frozenset(self._faults)

    # --- MCU interface -------------------------------------------------------------

    def _all_values(self) -> dict[str, Value]:
        unit = self.unit
        return {
            "power": self._power_w,
            "energy": self._energy.kwh,
            "on": unit.on,
            "mode": unit.mode,
            "target_temperature": unit.target_c,
            "temperature": self._reported_temperature,
            "humidity": self.room.humidity_pct,
            "outdoor_temperature": self._outdoor_c,
            "fan_speed": unit.fan_speed,
            "swing": self.swing,
            "eco": unit.eco,
            "sleep": unit.sleep,
            "running_state": unit.running_state,
        }

    def _write(self, key: str, value: Value) -> None:
        unit = self.unit
        if key == "on":
            assert isinstance(value, bool)
            if value and not unit.on:
                unit.integral = 0.0
                unit.sleep_since_s = self._elapsed_s
            unit.on = value
        elif key == "mode":
            assert isinstance(value, str)
            if value != unit.mode:
                unit.integral = 0.0
                unit.auto_heating = self.room.air_c < unit.target_c
            unit.mode = value
        elif key == "target_temperature":
            unit.target_c = number_value(value)
        elif key == "fan_speed":
            assert isinstance(value, str)
            unit.fan_speed = value
        elif key == "swing":
            assert isinstance(value, str)
            self.swing = value
        elif key == "eco":
            assert isinstance(value, bool)
            unit.eco = value
        elif key == "sleep":
            assert isinstance(value, bool)
            if value and not unit.sleep:
                unit.sleep_since_s = self._elapsed_s
            unit.sleep = value
        else:  # validate_write lets only writable keys through
            raise LinkError(ErrorCode.READ_ONLY, f"{key} is read-only", key=key)

    # --- persistence ---------------------------------------------------------------

    def _export_extra(self) -> dict[str, Any]:
        unit = self.unit
        return {
            "on": unit.on,
            "mode": unit.mode,
            "target_temperature": unit.target_c,
            "fan_speed": unit.fan_speed,
            "swing": self.swing,
            "eco": unit.eco,
            "sleep": unit.sleep,
            "room_air_c": self.room.air_c,
            "room_structure_c": self.room.structure_c,
            "room_moisture": self.room.moisture,
        }

    def _restore_extra(self, state: Mapping[str, Any]) -> Callable[[], None]:
        on = state_bool(state, "on")
        mode = state_choice(state, "mode", MODES)
        target = state_number(state, "target_temperature", minimum=16, maximum=30)
        fan = state_choice(state, "fan_speed", FAN_SPEEDS)
        swing = state_choice(state, "swing", SWINGS)
        eco = state_bool(state, "eco")
        sleep = state_bool(state, "sleep")
        air = state_number(state, "room_air_c", minimum=-30, maximum=70)
        structure = state_number(state, "room_structure_c", minimum=-30, maximum=70)
        moisture = state_number(state, "room_moisture", minimum=0, maximum=0.2)

        def apply() -> None:
            unit = self.unit
            unit.on, unit.mode, unit.target_c, unit.fan_speed = on, mode, target, fan
            unit.eco, unit.sleep, self.swing = eco, sleep, swing
            unit.sleep_since_s = self._elapsed_s
            unit.compressor_running = False
            unit.integral = 0.0
            self.room.air_c, self.room.structure_c, self.room.moisture = air, structure, moisture
            self._reported_temperature = air

        return apply
