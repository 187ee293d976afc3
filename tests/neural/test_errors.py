"""Bad files and bad inputs: always a ``ModelError`` subclass naming the cause, nothing else."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
import pytest

from custom_components.liuzhou_appliances.neural import (
    CorruptModelError,
    ModelError,
    ModelInputError,
    ModelOutputError,
    UnsupportedOperatorError,
    litert_available,
    load_model,
    load_model_bytes,
)
from custom_components.liuzhou_appliances.neural.graph import read_graph
from custom_components.liuzhou_appliances.neural.numpy_runtime import numpy_supports
from custom_components.liuzhou_appliances.neural.wet_cycle import FEATURES

from .tiny import tiny_model

RUNTIMES = [
    "numpy",
    pytest.param("auto", marks=pytest.mark.skipif(not litert_available(), reason="no LiteRT")),
]


def _load_or_model_error(data: bytes, prefer: Any) -> None:
    """Loading either works (and the model answers or refuses with a ModelError) or raises a
    ModelError: never anything else."""
    try:
        model = load_model_bytes(data, prefer)
    except ModelError:
        return
    with contextlib.suppress(ModelError):
        model.predict(np.zeros(model.width))


@pytest.mark.parametrize("prefer", RUNTIMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0))
def test_truncated_files_raise_corrupt_model_error(
    model_bytes: bytes, prefer: Any, cut: int
) -> None:
    truncated = model_bytes[: cut % len(model_bytes)]
    with pytest.raises(CorruptModelError):
        load_model_bytes(truncated, prefer)


@pytest.mark.parametrize("prefer", RUNTIMES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=4))
def test_byte_flips_raise_only_model_errors(
    model_bytes: bytes, prefer: Any, flips: list[tuple[int, int]]
) -> None:
    damaged = bytearray(model_bytes)
    for position, mask in flips:
        damaged[position % len(damaged)] ^= mask
    _load_or_model_error(bytes(damaged), prefer)


def _structure_positions(data: bytes) -> list[int]:
    """Offsets of every byte that is not constant tensor data: tables, vectors, strings."""
    graph = read_graph(data, numpy_supports)
    is_weight = np.zeros(len(data), dtype=bool)
    for tensor in graph.tensors:
        if tensor.data is not None and tensor.data.nbytes >= 16:
            start = data.find(tensor.data.tobytes())
            assert start >= 0
            is_weight[start : start + tensor.data.nbytes] = True
    return [int(i) for i in np.flatnonzero(~is_weight)]


@pytest.mark.parametrize("prefer", RUNTIMES)
def test_flipping_every_structure_byte_raises_only_model_errors(
    model_bytes: bytes, prefer: Any
) -> None:
    positions = _structure_positions(model_bytes)
    assert 500 < len(positions) < len(model_bytes) // 2
    for position in positions:
        damaged = bytearray(model_bytes)
        damaged[position] ^= 0xFF
        _load_or_model_error(bytes(damaged), prefer)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a TFLite flatbuffer"),
        (b"PK\x03\x04" + bytes(60), "not a TFLite flatbuffer"),
        (b"\x00" * 4 + b"TFL3" + b"\xff" * 40, "no subgraph|damaged flatbuffer"),
    ],
)
def test_not_a_model(data: bytes, message: str) -> None:
    with pytest.raises(CorruptModelError, match=message):
        load_model_bytes(data)


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "absent.tflite")


@pytest.mark.parametrize("prefer", RUNTIMES)
@pytest.mark.parametrize(("operator", "custom"), [("SOFTMAX", None), ("CUSTOM", "Sparkle")])
def test_unsupported_operator_is_named(prefer: Any, operator: str, custom: str | None) -> None:
    data = tiny_model(operator, custom_code=custom)
    with pytest.raises(UnsupportedOperatorError) as raised:
        load_model_bytes(data, prefer)
    name = operator if custom is None else f"CUSTOM:{custom}"
    assert raised.value.operator == name
    assert name in str(raised.value)


def test_non_finite_output_is_reported() -> None:
    weights = np.array([[np.nan, 1.0]], dtype=np.float32)
    model = load_model_bytes(tiny_model("FULLY_CONNECTED", 2, weights, np.zeros(1)), "numpy")
    with pytest.raises(ModelOutputError, match="non-finite"):
        model.predict(np.array([1.0, 1.0]))


@pytest.mark.parametrize("prefer", RUNTIMES)
def test_bad_inputs_are_named(
    model_bytes: bytes, held_out: dict[str, np.ndarray[Any, Any]], prefer: Any
) -> None:
    model = load_model_bytes(model_bytes, prefer)
    row = held_out["x"][0].copy()
    assert model.predict(row).shape == (1, 2)
    with pytest.raises(ModelInputError, match=r"takes \(batch, 15\) inputs, not \(14,\)"):
        model.predict(row[:-1])
    with pytest.raises(ModelInputError, match=r"not \(2, 3, 15\)"):
        model.predict(np.zeros((2, 3, 15)))
    with pytest.raises(ModelInputError, match="not numbers"):
        model.predict(np.array(["a"] * 15))
    inlet = [name for name, _ in FEATURES].index("inlet_water_temperature")
    nan_row = row.copy()
    nan_row[inlet] = np.nan
    with pytest.raises(ModelInputError, match="inlet_water_temperature is nan"):
        model.predict(nan_row)
    hot = row.copy()
    hot[inlet] = 80.0
    with pytest.raises(ModelInputError, match="inlet_water_temperature = 80 °C .* outside"):
        model.predict(hot)
    batch = np.stack([row, row, hot])
    with pytest.raises(ModelInputError, match=r"\(row 2\)"):
        model.predict(batch)
