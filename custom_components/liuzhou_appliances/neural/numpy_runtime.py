"""A numpy interpreter for the TFLite operators our models use.

Runs where LiteRT has no wheel (Home Assistant OS and Container are musl).
Operators (TFLite names): FULLY_CONNECTED (float32 weights, optional bias,
fused activation), ADD, MUL (broadcasting, fused activation), RELU, RELU6,
LOGISTIC, TANH and CONCATENATION, each checked against LiteRT in tests/neural.
Only float32 models: none of ours is quantised (see models/*/CARD.md). Anything
else is refused when the file is read, so a model either loads whole or not at
all.

The graph is compiled once into a list of small steps over a list of arrays; one
inference of our predictor is three matrix products (tens of microseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from .errors import CorruptModelError, ModelError, UnsupportedOperatorError
from .graph import Graph, Operator, Tensor

type Array = np.ndarray[Any, Any]
type Step = Callable[[list[Array | None]], None]

ZERO: Final = np.float32(0.0)  # a float32 scalar: no type promotion per call
FUSED: Final[dict[str, Callable[[Array], Array] | None]] = {
    "NONE": None,
    "RELU": lambda x: np.maximum(x, ZERO, out=x),
    "RELU6": lambda x: np.clip(x, 0.0, 6.0, out=x),
    "RELU_N1_TO_1": lambda x: np.clip(x, -1.0, 1.0, out=x),
    "TANH": lambda x: np.tanh(x, out=x),
}
ELEMENTWISE: Final[dict[str, Callable[[Array], Array]]] = {
    "RELU": lambda x: np.maximum(x, 0.0),
    "RELU6": lambda x: np.clip(x, 0.0, 6.0),
    "LOGISTIC": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "TANH": np.tanh,
}
OPERATORS: Final = frozenset(
    {"FULLY_CONNECTED", "ADD", "MUL", "CONCATENATION"} | ELEMENTWISE.keys()
)


def numpy_supports(op: Operator) -> str | None:
    """None if this runtime runs ``op``, else the reason it does not."""
    if op.name not in OPERATORS:
        return f"not implemented by this runtime (it runs {', '.join(sorted(OPERATORS))})"
    activation = op.options.get("activation", "NONE")
    if activation not in FUSED:
        return f"fused activation {activation} is not supported"
    if op.options.get("weights_format", 0) != 0:
        return "shuffled weights are not supported"
    return None


class NumpyRuntime:
    """Runs a checked ``Graph`` with numpy; ``run`` takes and returns float32 arrays."""

    name: Final = "numpy"

    def __init__(self, graph: Graph) -> None:
        """Compile ``graph``. Raises ``UnsupportedModelError`` for operands we do not run."""
        self._graph = graph
        self._constants: list[Array | None] = [tensor.data for tensor in graph.tensors]
        self._steps = [self._compile(op) for op in graph.operators]
        self._input = graph.inputs[0]
        self._outputs = graph.outputs

    def run(self, inputs: Array) -> list[Array]:
        """The graph's outputs for ``inputs`` (the first graph input, batch first)."""
        return [_value(self._run(inputs), index) for index in self._outputs]

    def check_shapes(self) -> None:
        """Run one row of zeros and compare every computed tensor with the shape the file
        declares (batch 1). Raises ``CorruptModelError`` naming the first that differs, so
        neither runtime is handed a file whose shapes do not fit together."""
        tensors = self._graph.tensors
        width = tensors[self._input].shape[1]
        try:
            values = self._run(np.zeros((1, width), dtype=np.float32))
        except (ModelError, ValueError, IndexError, TypeError) as err:
            raise CorruptModelError(f"the graph does not run: {err}") from None
        for op in self._graph.operators:
            for index in op.outputs:
                declared = tuple(1 if d == -1 else d for d in tensors[index].shape)
                computed = _value(values, index).shape
                if computed != declared:
                    raise CorruptModelError(
                        f"{op.name} computes {tensors[index].name!r} as {computed}; "
                        f"the file declares {declared}"
                    )

    def _run(self, inputs: Array) -> list[Array | None]:
        values = self._constants.copy()
        values[self._input] = inputs
        for step in self._steps:
            step(values)
        return values

    def _compile(self, op: Operator) -> Step:
        tensors = self._graph.tensors
        out = op.outputs[0]
        if op.name == "FULLY_CONNECTED":
            return self._fully_connected(op, tensors)
        if op.name in ELEMENTWISE:
            function = ELEMENTWISE[op.name]
            source = op.inputs[0]

            def elementwise(values: list[Array | None]) -> None:
                values[out] = function(_value(values, source)).astype(np.float32, copy=False)

            return elementwise
        if op.name in ("ADD", "MUL"):
            combine = np.add if op.name == "ADD" else np.multiply
            a, b = op.inputs[:2]
            fused = FUSED[op.options.get("activation", "NONE")]

            def binary(values: list[Array | None]) -> None:
                result = combine(_value(values, a), _value(values, b))
                values[out] = fused(result) if fused is not None else result

            return binary
        if op.name == "CONCATENATION":
            axis = int(op.options.get("axis", -1))
            parts = op.inputs
            fused = FUSED[op.options.get("activation", "NONE")]

            def concatenate(values: list[Array | None]) -> None:
                result = np.concatenate([_value(values, i) for i in parts], axis=axis)
                values[out] = fused(result) if fused is not None else result

            return concatenate
        raise _unsupported(op, "not implemented")  # numpy_supports refused it already

    @staticmethod
    def _fully_connected(op: Operator, tensors: tuple[Tensor, ...]) -> Step:
        source, weights_index = op.inputs[0], op.inputs[1]
        weights = tensors[weights_index].data
        if weights is None or weights.dtype != np.float32 or weights.ndim != 2:
            raise _unsupported(op, "needs constant float32 weights of rank 2")
        weights_t = np.ascontiguousarray(weights.T)  # (in, out): x @ W^T without a copy per call
        bias = None
        if len(op.inputs) > 2 and op.inputs[2] != -1:
            bias = tensors[op.inputs[2]].data
            if bias is None or bias.shape != (weights.shape[0],):
                raise _unsupported(op, "needs a constant bias of one value per output")
        fused = FUSED[op.options.get("activation", "NONE")]
        units = weights.shape[1]
        out = op.outputs[0]

        def fully_connected(values: list[Array | None]) -> None:
            value = _value(values, source)
            if value.ndim != 2 or value.shape[1] != units:
                if value.size % units:
                    raise ModelError(f"{value.shape} does not fit a layer of {units} inputs")
                value = value.reshape(-1, units)
            # np.dot: a little less per call than the @ operator for these small products.
            result = np.dot(value, weights_t)
            if bias is not None:
                result += bias
            values[out] = fused(result) if fused is not None else result

        return fully_connected


def _value(values: list[Array | None], index: int) -> Array:
    value = values[index]
    if value is None:  # read_graph's data-flow check makes this unreachable for a loaded model
        raise ModelError(f"tensor {index} has no value")
    return value


def _unsupported(op: Operator, reason: str) -> ModelError:
    return UnsupportedOperatorError(op.name, f"operator {op.name}: {reason}")
