"""The full-integer wet-cycle file: numpy's int8 operators against LiteRT and the float file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.liuzhou_appliances.neural import (
    CorruptModelError,
    litert_available,
    load_model_bytes,
)
from custom_components.liuzhou_appliances.neural.graph import SPEC_METADATA, read_graph
from custom_components.liuzhou_appliances.neural.numpy_runtime import numpy_supports
from firmware_bridge.models import WET_CYCLE, ModuleClass, model_path

# The file an MCU-class network module runs (firmware_bridge.models names each variant).
INT8 = model_path(WET_CYCLE, ModuleClass.MCU)
needs_litert = pytest.mark.skipif(not litert_available(), reason="ai-edge-litert is not installed")


@pytest.fixture(scope="module")
def int8_bytes() -> bytes:
    """The shipped int8 variant."""
    return Path(INT8).read_bytes()


def test_the_file_is_full_integer_between_float_input_and_output(int8_bytes: bytes) -> None:
    graph = read_graph(int8_bytes, numpy_supports)
    assert [op.name for op in graph.operators] == [
        "QUANTIZE",
        "FULLY_CONNECTED",
        "FULLY_CONNECTED",
        "FULLY_CONNECTED",
        "DEQUANTIZE",
    ]
    for op in graph.operators[1:-1]:
        data, weights = (graph.tensors[i] for i in op.inputs[:2])
        assert data.dtype == np.int8
        assert weights.dtype == np.int8
        assert weights.quantization is not None
        assert len(weights.quantization.scale) == weights.shape[0]  # one scale per output
        assert graph.tensors[op.outputs[0]].dtype == np.int8
    spec = json.loads(graph.metadata[SPEC_METADATA])
    assert spec["name"] == "wet_cycle"
    assert spec["version"].endswith("-int8")
    assert len(spec["normalise"]["mean"]) == len(spec["inputs"])


@needs_litert
def test_numpy_gives_litert_s_int8_outputs(
    int8_bytes: bytes, held_out: dict[str, np.ndarray[Any, Any]]
) -> None:
    litert = load_model_bytes(int8_bytes, "litert")
    numpy = load_model_bytes(int8_bytes, "numpy")
    rows = held_out["x"]
    batch_litert, batch_numpy = litert.predict(rows), numpy.predict(rows)
    # The same integers: at most one step of the output's quantisation apart (measured:
    # identical on every held-out row).
    output_scale = 0.0145
    difference = np.abs(batch_litert - batch_numpy)
    assert difference.max() <= output_scale
    assert (difference == 0).mean() >= 0.999
    for row in rows[:50]:
        assert np.array_equal(litert.predict(row), numpy.predict(row))


def test_int8_stays_close_to_the_float_model_and_far_ahead_of_the_declared_profile(
    model_bytes: bytes, int8_bytes: bytes, held_out: dict[str, np.ndarray[Any, Any]]
) -> None:
    int8 = load_model_bytes(int8_bytes, "numpy").predict(held_out["x"])
    floats = load_model_bytes(model_bytes, "numpy").predict(held_out["x"])
    truth, declared = held_out["y"], held_out["baseline"]
    int8_mae = np.abs(int8 - truth).mean(axis=0)
    float_mae = np.abs(floats - truth).mean(axis=0)
    declared_mae = np.abs(declared - truth).mean(axis=0)
    # Hours: int8 adds about half a minute of remaining-time error, far under the profile's.
    assert int8_mae[0] * 60 < float_mae[0] * 60 + 1.0
    assert int8_mae[0] < 0.25 * declared_mae[0]
    assert int8_mae[1] < 0.5 * declared_mae[1]
    assert np.abs(int8 - floats).max() < 0.25  # no row far from the float model (h, kWh)


def test_a_bad_normalisation_in_the_spec_is_a_corrupt_file(int8_bytes: bytes) -> None:
    spec = json.loads(read_graph(int8_bytes, numpy_supports).metadata[SPEC_METADATA])
    original = json.dumps(spec, sort_keys=True).encode()
    assert original in int8_bytes  # the metadata is stored as written
    broken = spec | {"normalise": {"mean": spec["normalise"]["mean"], "std": [0.0] * 15}}
    replacement = json.dumps(broken, sort_keys=True).encode()
    assert len(replacement) <= len(original)
    padded = replacement + b" " * (len(original) - len(replacement))  # JSON allows spaces
    with pytest.raises(CorruptModelError, match="normalise"):
        load_model_bytes(int8_bytes.replace(original, padded), "numpy")
