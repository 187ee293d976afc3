"""Inputs of the room thermal model (``models/room_thermal``) and its rolled-forward state.

The model answers, for one room and one 15-minute step (``STEP_S``), how the
room temperature and humidity change and what the AC draws on average, given
what the AC is told to do (on, mode, setpoint, fan), the outdoor conditions,
the time of day and the room's recent state (its temperature now, 15 minutes,
an hour and three hours ago, the AC's mean power over the last 15 minutes,
hour and three hours, and slow averages of both over about eight hours
(``SLOW_TAU_S``): what the hub can see of the walls' stored heat). The dataset generator, the
predictive controller and the tests all build rows here, so training and use
cannot drift apart. Imports nothing from Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

STEP_S: Final = 900  # one model step: 15 minutes
HOUR_STEPS: Final = 3600 // STEP_S
HISTORY_STEPS: Final = 3 * HOUR_STEPS  # the window a row looks back over: 3 hours
# Time constant of the slow averages (exponential) of the room temperature and the AC's power:
# about the walls' own (the simulator's bedroom: 6.6 MJ/K over 220 W/K, 8.3 hours).
SLOW_TAU_S: Final = 8 * 3600
SLOW_WEIGHT: Final = 1.0 - math.exp(-STEP_S / SLOW_TAU_S)  # one step's weight in them
MODES: Final = ("cool", "heat", "dry", "fan_only")  # the modes the model knows; off is on=0
FAN_LEVELS: Final = {"auto": 0.0, "low": 1.0, "medium": 2.0, "high": 3.0}
# (name, unit) of each input column, in order; the model's metadata repeats them with ranges.
FEATURES: Final = (
    ("on", "0/1"),
    ("cool", "0/1"),
    ("heat", "0/1"),
    ("dry", "0/1"),
    ("fan_only", "0/1"),
    ("setpoint", "°C"),
    ("setpoint_error", "K"),
    ("fan", "level"),
    ("outdoor_temperature", "°C"),
    ("outdoor_humidity", "%"),
    ("hour_sin", "1"),
    ("hour_cos", "1"),
    ("room_temperature", "°C"),
    ("room_humidity", "%"),
    ("temperature_change_15min", "K"),
    ("temperature_change_1h", "K"),
    ("power_15min", "kW"),
    ("power_1h", "kW"),
    ("temperature_change_3h", "K"),
    ("power_3h", "kW"),
    ("temperature_above_slow", "K"),
    ("power_slow", "kW"),
)
OUTPUTS: Final = (
    ("temperature_change", "K"),
    ("humidity_change", "%"),
    ("power", "kW"),
)
WIDTH: Final = len(FEATURES)
COLUMN: Final = {name: i for i, (name, _) in enumerate(FEATURES)}

type FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class AcCommand:
    """What the AC is told for one step: ``mode`` one of ``MODES``, ``fan`` a key of
    ``FAN_LEVELS``, ``setpoint`` in °C (ignored when off)."""

    on: bool
    mode: str = "cool"
    setpoint: float = 26.0
    fan: str = "auto"


@dataclass(frozen=True, slots=True)
class RoomHistory:
    """The room's recent state on the step grid, oldest first.

    ``temperatures`` (°C) and ``humidities`` (%) are readings at the last
    ``HISTORY_STEPS + 1`` step boundaries (the last is now); ``powers`` (kW) the
    AC's mean power over the last ``HISTORY_STEPS`` steps (the last is the step
    just ended). ``slow_temperature`` (°C) and ``slow_power`` (kW) are the slow
    averages (``slow_update`` at every boundary since the history began); None
    stands for the window's own means. Raises ``ValueError`` for other lengths.
    """

    temperatures: tuple[float, ...]
    humidities: tuple[float, ...]
    powers: tuple[float, ...]
    slow_temperature: float | None = None
    slow_power: float | None = None

    def __post_init__(self) -> None:
        size = HISTORY_STEPS + 1
        if len(self.temperatures) != size or len(self.humidities) != size:
            raise ValueError(f"need {size} temperatures and humidities")
        if len(self.powers) != HISTORY_STEPS:
            raise ValueError(f"need {HISTORY_STEPS} powers")

    @property
    def slow(self) -> tuple[float, float]:
        """(slow temperature °C, slow power kW), the window's means when not given."""
        temperature = self.slow_temperature
        power = self.slow_power
        return (
            float(np.mean(self.temperatures)) if temperature is None else temperature,
            float(np.mean(self.powers)) if power is None else power,
        )


def slow_update(average: float | None, value: float) -> float:
    """A slow average after one more step boundary's ``value`` (the value itself at first)."""
    if average is None:
        return value
    return average + SLOW_WEIGHT * (value - average)


def hour_of_day(seconds_of_day: float) -> tuple[float, float]:
    """(sin, cos) of the time of day, so 23:59 and 00:00 are neighbours."""
    angle = 2.0 * math.pi * (seconds_of_day % 86400.0) / 86400.0
    return math.sin(angle), math.cos(angle)


def command_columns(command: AcCommand, room_temperature: float) -> list[float]:
    """Columns 0-7 of a row. Raises ``ValueError`` for an unknown mode or fan speed."""
    if command.mode not in MODES:
        raise ValueError(f"mode {command.mode!r} is not one of {', '.join(MODES)}")
    if command.fan not in FAN_LEVELS:
        raise ValueError(f"fan {command.fan!r} is not one of {', '.join(FAN_LEVELS)}")
    if not command.on:
        # Off: no mode, and the setpoint column holds the room so it says nothing.
        return [0.0, 0.0, 0.0, 0.0, 0.0, room_temperature, 0.0, 0.0]
    flags = [1.0 if command.mode == mode else 0.0 for mode in MODES]
    return [
        1.0,
        *flags,
        command.setpoint,
        command.setpoint - room_temperature,
        FAN_LEVELS[command.fan],
    ]


def room_features(
    command: AcCommand,
    history: RoomHistory,
    *,
    outdoor_temperature: float,
    outdoor_humidity: float,
    seconds_of_day: float,
) -> list[float]:
    """One input row (``WIDTH`` floats in ``FEATURES`` order)."""
    room = history.temperatures[-1]
    sin, cos = hour_of_day(seconds_of_day)
    slow_temperature, slow_power = history.slow
    return [
        *command_columns(command, room),
        outdoor_temperature,
        outdoor_humidity,
        sin,
        cos,
        room,
        history.humidities[-1],
        room - history.temperatures[-2],
        room - history.temperatures[-1 - HOUR_STEPS],
        history.powers[-1],
        float(np.mean(history.powers[-HOUR_STEPS:])),
        room - history.temperatures[0],
        float(np.mean(history.powers)),
        room - slow_temperature,
        slow_power,
    ]


class BatchRollout:
    """Many plans of one room rolled forward together, one step per ``rows``/``advance``.

    Holds for each of ``count`` plans the history the next row needs, starting
    from the same observed ``history``. ``rows`` builds the next input batch
    ``(count, WIDTH)``; ``advance`` applies the model's outputs ``(count, 3)``.
    """

    def __init__(self, history: RoomHistory, count: int) -> None:
        self.temperatures = np.tile(np.asarray(history.temperatures, dtype=np.float64), (count, 1))
        self.humidities = np.tile(np.asarray(history.humidities, dtype=np.float64), (count, 1))
        self.powers = np.tile(np.asarray(history.powers, dtype=np.float64), (count, 1))
        slow_temperature, slow_power = history.slow
        self.slow_temperature = np.full(count, slow_temperature)
        self.slow_power = np.full(count, slow_power)
        self.count = count

    @property
    def temperature(self) -> FloatArray:
        """Each plan's room temperature now (°C)."""
        return self.temperatures[:, -1]

    def rows(
        self,
        commands: FloatArray,
        *,
        outdoor_temperature: float,
        outdoor_humidity: float,
        seconds_of_day: float,
    ) -> NDArray[np.float32]:
        """The input batch for the next step.

        ``commands`` is ``(count, 8)``: each plan's ``command_columns`` with the
        setpoint error column left to be filled here (it depends on the room).
        """
        room = self.temperatures[:, -1]
        out = np.empty((self.count, WIDTH), dtype=np.float64)
        out[:, :8] = commands
        on = commands[:, 0] > 0.5
        # Off rows carry the room as setpoint and no error (see ``command_columns``).
        out[:, 5] = np.where(on, commands[:, 5], room)
        out[:, 6] = np.where(on, commands[:, 5] - room, 0.0)
        sin, cos = hour_of_day(seconds_of_day)
        out[:, 8] = outdoor_temperature
        out[:, 9] = outdoor_humidity
        out[:, 10] = sin
        out[:, 11] = cos
        out[:, 12] = room
        out[:, 13] = self.humidities[:, -1]
        out[:, 14] = room - self.temperatures[:, -2]
        out[:, 15] = room - self.temperatures[:, -1 - HOUR_STEPS]
        out[:, 16] = self.powers[:, -1]
        out[:, 17] = self.powers[:, -HOUR_STEPS:].mean(axis=1)
        out[:, 18] = room - self.temperatures[:, 0]
        out[:, 19] = self.powers.mean(axis=1)
        out[:, 20] = room - self.slow_temperature
        out[:, 21] = self.slow_power
        return out.astype(np.float32)

    def advance(self, outputs: Any) -> None:
        """Apply one step's predicted changes and power (the model's outputs)."""
        predicted = np.asarray(outputs, dtype=np.float64)
        temperature = self.temperatures[:, -1] + predicted[:, 0]
        humidity = np.clip(self.humidities[:, -1] + predicted[:, 1], 0.0, 100.0)
        power = np.maximum(predicted[:, 2], 0.0)
        self.slow_temperature += SLOW_WEIGHT * (temperature - self.slow_temperature)
        self.slow_power += SLOW_WEIGHT * (power - self.slow_power)
        self.temperatures = np.column_stack([self.temperatures[:, 1:], temperature])
        self.humidities = np.column_stack([self.humidities[:, 1:], humidity])
        self.powers = np.column_stack([self.powers[:, 1:], power])
