"""The shipped room thermal model: both runtimes, its metadata, its rows and its quality."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.liuzhou_appliances.neural import (
    CorruptModelError,
    ModelError,
    ModelInputError,
    litert_available,
    load_model,
    load_model_bytes,
)
from custom_components.liuzhou_appliances.neural.room_thermal import (
    FEATURES,
    HISTORY_STEPS,
    OUTPUTS,
    SLOW_WEIGHT,
    WIDTH,
    AcCommand,
    BatchRollout,
    RoomHistory,
    room_features,
    slow_update,
)
from models.room_thermal import dataset

MODEL = Path(__file__).resolve().parents[2] / "models" / "room_thermal" / "room_thermal.tflite"


@pytest.fixture(scope="module")
def held_out() -> dict[str, np.ndarray[Any, Any]]:
    """Rows of two held-out runs (other rooms, a weather year never trained on)."""
    return dataset.build("test", limit=2)


def test_metadata_matches_the_row_builder() -> None:
    model = load_model(MODEL, "numpy")
    assert model.name == "room_thermal"
    assert [(f.name, f.unit) for f in model.inputs] == list(FEATURES)
    assert [(f.name, f.unit) for f in model.outputs] == list(OUTPUTS)


@pytest.mark.skipif(not litert_available(), reason="LiteRT (ai-edge-litert) is not installed")
def test_both_runtimes_agree_on_held_out_rows(held_out: dict[str, Any]) -> None:
    numpy_model = load_model(MODEL, "numpy")
    litert_model = load_model(MODEL, "litert")
    assert (numpy_model.runtime, litert_model.runtime) == ("numpy", "litert")
    difference = np.abs(numpy_model.predict(held_out["x"]) - litert_model.predict(held_out["x"]))
    assert difference.max() <= 1e-5


def test_beats_persistence_on_held_out_rows(held_out: dict[str, Any]) -> None:
    predicted = load_model(MODEL, "numpy").predict(held_out["x"])
    model_mae = np.abs(predicted - held_out["y"]).mean(axis=0)
    persistence_mae = np.abs(held_out["baseline"] - held_out["y"]).mean(axis=0)
    assert model_mae[0] < 0.6 * persistence_mae[0]  # temperature change
    assert model_mae[2] < 0.6 * persistence_mae[2]  # power


def test_nan_and_truncated_file_are_refused() -> None:
    model = load_model(MODEL, "numpy")
    row = np.full(WIDTH, 0.5, dtype=np.float32)
    row[12] = np.nan
    with pytest.raises(ModelInputError, match="room_temperature"):
        model.predict(row)
    with pytest.raises(CorruptModelError):
        load_model_bytes(MODEL.read_bytes()[:2000], "numpy")


def test_rollout_rows_equal_the_row_builder() -> None:
    history = RoomHistory(
        (31.0, 30.8, 30.6, 30.4, 30.3, 30.2, 30.1, 30.0, 30.0, 29.5, 29.0, 28.8, 28.5),
        (72.0,) * 8 + (70.0, 68.0, 66.0, 65.0, 64.0),
        (0.0,) * 8 + (0.9,) * 4,
        slow_temperature=30.4,
        slow_power=0.2,
    )
    commands = [AcCommand(True, "cool", 26.0, "auto"), AcCommand(False)]
    rollout = BatchRollout(history, len(commands))
    columns = np.array([[1, 1, 0, 0, 0, 26.0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]], dtype=np.float64)
    rows = rollout.rows(
        columns, outdoor_temperature=33.0, outdoor_humidity=60.0, seconds_of_day=15 * 3600
    )
    for got, command in zip(rows, commands, strict=True):
        expected = room_features(
            command, history, outdoor_temperature=33.0, outdoor_humidity=60.0, seconds_of_day=54000
        )
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    rollout.advance(np.array([[-0.5, -2.0, 0.8], [0.3, 1.0, 0.0]]))
    np.testing.assert_allclose(rollout.temperature, [28.0, 28.8])
    assert rollout.powers[:, -1].tolist() == pytest.approx([0.8, 0.0])
    # The slow averages move by one step's weight towards the new temperature and power.
    np.testing.assert_allclose(
        rollout.slow_temperature, 30.4 + SLOW_WEIGHT * (np.array([28.0, 28.8]) - 30.4)
    )
    np.testing.assert_allclose(rollout.slow_power, 0.2 + SLOW_WEIGHT * (np.array([0.8, 0.0]) - 0.2))


def test_history_columns_look_back_15_minutes_1_and_3_hours() -> None:
    temperatures = tuple(20.0 + 0.5 * k for k in range(HISTORY_STEPS + 1))  # 20.0 .. 26.0
    powers = (2.0,) * 8 + (1.0,) * 3 + (0.6,)
    history = RoomHistory(temperatures, (60.0,) * (HISTORY_STEPS + 1), powers)
    row = dict(
        zip(
            (name for name, _ in FEATURES),
            room_features(
                AcCommand(False),
                history,
                outdoor_temperature=30.0,
                outdoor_humidity=60.0,
                seconds_of_day=0.0,
            ),
            strict=True,
        )
    )
    assert row["temperature_change_15min"] == pytest.approx(0.5)
    assert row["temperature_change_1h"] == pytest.approx(2.0)
    assert row["temperature_change_3h"] == pytest.approx(6.0)
    assert row["power_15min"] == pytest.approx(0.6)
    assert row["power_1h"] == pytest.approx(0.9)
    assert row["power_3h"] == pytest.approx((16.0 + 3.0 + 0.6) / 12)
    # Without slow averages the window's means stand for them.
    assert row["temperature_above_slow"] == pytest.approx(26.0 - 23.0)
    assert row["power_slow"] == pytest.approx((16.0 + 3.0 + 0.6) / 12)
    assert slow_update(None, 25.0) == 25.0
    assert slow_update(25.0, 27.0) == pytest.approx(25.0 + 2.0 * SLOW_WEIGHT)
    with pytest.raises(ValueError, match="powers"):
        RoomHistory(temperatures, (60.0,) * (HISTORY_STEPS + 1), powers[1:])


def test_command_columns_reject_unknown_modes() -> None:
    history = RoomHistory(
        (26.0,) * (HISTORY_STEPS + 1), (60.0,) * (HISTORY_STEPS + 1), (0.0,) * HISTORY_STEPS
    )
    with pytest.raises(ValueError, match="mode"):
        room_features(
            AcCommand(True, "turbo"),
            history,
            outdoor_temperature=30.0,
            outdoor_humidity=60.0,
            seconds_of_day=0.0,
        )
    assert issubclass(CorruptModelError, ModelError)
