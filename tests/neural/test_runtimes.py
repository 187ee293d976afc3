"""LiteRT and the numpy interpreter run the same file to the same outputs."""

from __future__ import annotations

from collections.abc import Callable
import sys
from typing import Any

import numpy as np
import pytest

from custom_components.liuzhou_appliances.neural import (
    RuntimeUnavailableError,
    litert_available,
    load_model_bytes,
)

from .tiny import tiny_model

needs_litert = pytest.mark.skipif(
    not litert_available(), reason="ai-edge-litert is not installed (scripts/setup installs it)"
)


@needs_litert
def test_litert_and_numpy_agree_on_held_out_data(
    model_bytes: bytes, held_out: dict[str, np.ndarray[Any, Any]]
) -> None:
    litert = load_model_bytes(model_bytes, "litert")
    numpy = load_model_bytes(model_bytes, "numpy")
    assert (litert.runtime, numpy.runtime) == ("litert", "numpy")
    rows = held_out["x"]
    batch_litert, batch_numpy = litert.predict(rows), numpy.predict(rows)
    assert batch_numpy.shape == (len(rows), 2)
    assert np.abs(batch_litert - batch_numpy).max() <= 1e-5
    # Row by row too: LiteRT resizes its input between batch sizes.
    for row in rows[:50]:
        assert np.abs(litert.predict(row) - numpy.predict(row)).max() <= 1e-5


@needs_litert
def test_auto_prefers_litert(model_bytes: bytes) -> None:
    assert load_model_bytes(model_bytes).runtime == "litert"


def test_numpy_when_litert_does_not_import(
    model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    assert not litert_available()
    assert load_model_bytes(model_bytes).runtime == "numpy"
    with pytest.raises(RuntimeUnavailableError, match="ai-edge-litert"):
        load_model_bytes(model_bytes, "litert")


@pytest.mark.parametrize("prefer", ["numpy", pytest.param("litert", marks=needs_litert)])
def test_fully_connected_computes_x_wt_plus_b(prefer: Any) -> None:
    weights = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], dtype=np.float32)
    bias = np.array([0.5, -1.0], dtype=np.float32)
    model = load_model_bytes(tiny_model("FULLY_CONNECTED", 3, weights, bias), prefer)
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(model.predict(rows), rows @ weights.T + bias, rtol=1e-6)


def test_prefer_must_be_known(model_bytes: bytes) -> None:
    with pytest.raises(ValueError, match="prefer"):
        load_model_bytes(model_bytes, "gpu")  # type: ignore[arg-type]


ELEMENTWISE: dict[str, Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]] = {
    "RELU": lambda x: np.maximum(x, 0.0),
    "RELU6": lambda x: np.clip(x, 0.0, 6.0),
    "LOGISTIC": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "TANH": np.tanh,
    "ADD": lambda x: x + x,
    "MUL": lambda x: x * x,
    "CONCATENATION": lambda x: np.concatenate([x, x], axis=1),
}


@pytest.mark.parametrize("operator", sorted(ELEMENTWISE))
def test_every_other_operator_matches_numpy_math_and_litert(operator: str) -> None:
    rows = np.array([[-8.0, -1.5, 0.0, 0.25, 3.0, 9.0], [7.5, -0.1, 2.0, -3.0, 0.5, 6.5]])
    data = tiny_model(operator, width=6)
    numpy = load_model_bytes(data, "numpy").predict(rows)
    np.testing.assert_allclose(numpy, ELEMENTWISE[operator](rows), rtol=1e-6, atol=1e-7)
    if litert_available():
        litert = load_model_bytes(data, "litert").predict(rows)
        assert np.abs(litert - numpy).max() <= 1e-5
