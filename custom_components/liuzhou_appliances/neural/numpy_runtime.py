"""A numpy interpreter for the TFLite operators our models use.

Runs where LiteRT has no wheel (Home Assistant OS and Container are musl).
Operators (TFLite names): FULLY_CONNECTED (float32 weights, optional bias,
fused activation), ADD, MUL (broadcasting, fused activation), RELU, RELU6,
LOGISTIC, TANH and CONCATENATION on float32; and for full-integer models
QUANTIZE (float32 to int8), DEQUANTIZE (int8 to float32) and int8
FULLY_CONNECTED (int8 weights per channel or per tensor, int32 bias). Each is
checked against LiteRT in tests/neural. The graph's input and outputs are
float32. Anything else is refused when the file is loaded, so a model either
loads whole or not at all.

int8 arithmetic follows what LiteRT runs by default (its XNNPACK delegate):
an int32 accumulator, requantised in float32 by ``input_scale · weight_scale
/ output_scale`` and rounded half to even; QUANTIZE multiplies by ``1 /
scale`` in float32 and rounds half to even. tests/neural/test_int8.py states
how far the two runtimes' outputs differ.

The graph is compiled once into a list of small steps over a list of arrays; one
inference of our predictor is three matrix products (tens of microseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from .errors import CorruptModelError, ModelError, UnsupportedModelError, UnsupportedOperatorError
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
    # The tanh form of 1 / (1 + e^-x): the same values, no overflow of e^-x for x << 0.
    "LOGISTIC": lambda x: 0.5 + 0.5 * np.tanh(0.5 * x),
    "TANH": np.tanh,
}
OPERATORS: Final = frozenset(
    {"FULLY_CONNECTED", "ADD", "MUL", "CONCATENATION", "QUANTIZE", "DEQUANTIZE"}
    | ELEMENTWISE.keys()
)
INT8_RANGE: Final = (-128, 127)
# Bounds of a fused activation in real units (int8 outputs clamp to them, quantised).
ACTIVATION_BOUNDS: Final = {
    "NONE": (-np.inf, np.inf),
    "RELU": (0.0, np.inf),
    "RELU6": (0.0, 6.0),
    "RELU_N1_TO_1": (-1.0, 1.0),
}


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
        for index in (self._input, *self._outputs):
            tensor = graph.tensors[index]
            if tensor.dtype != np.float32:
                raise UnsupportedModelError(
                    f"graph input and outputs must be float32; {tensor.name!r} is {tensor.dtype}"
                )

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
        if op.name == "QUANTIZE":
            return _quantize(op, tensors)
        if op.name == "DEQUANTIZE":
            return _dequantize(op, tensors)
        if op.name == "FULLY_CONNECTED" and tensors[op.inputs[0]].dtype == np.int8:
            return _fully_connected_int8(op, tensors)
        for index in (*op.inputs, *op.outputs):
            if index != -1 and tensors[index].dtype != np.float32:
                raise _unsupported(op, f"runs on float32 only, not {tensors[index].dtype}")
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


def _per_tensor(op: Operator, tensor: Tensor) -> tuple[np.float32, int]:
    """(scale, zero point) of an int8 tensor quantised per tensor."""
    q = tensor.quantization
    if tensor.dtype != np.int8 or q is None or not q.per_tensor:
        raise _unsupported(op, f"needs {tensor.name!r} as int8 quantised per tensor")
    return np.float32(q.scale[0]), int(q.zero_point[0])


def _quantize(op: Operator, tensors: tuple[Tensor, ...]) -> Step:
    source, out = op.inputs[0], op.outputs[0]
    if tensors[source].dtype != np.float32:
        raise _unsupported(op, "quantises float32 inputs only")
    scale, zero_point = _per_tensor(op, tensors[out])
    inverse = np.float32(1.0) / scale  # as LiteRT: a multiply by 1/scale, in float32
    low, high = np.float32(INT8_RANGE[0] - zero_point), np.float32(INT8_RANGE[1] - zero_point)

    def quantize(values: list[Array | None]) -> None:
        scaled = np.clip(_value(values, source) * inverse, low, high)
        values[out] = (np.rint(scaled) + zero_point).astype(np.int8)

    return quantize


def _dequantize(op: Operator, tensors: tuple[Tensor, ...]) -> Step:
    source, out = op.inputs[0], op.outputs[0]
    if tensors[out].dtype != np.float32:
        raise _unsupported(op, "dequantises to float32 only")
    scale, zero_point = _per_tensor(op, tensors[source])

    def dequantize(values: list[Array | None]) -> None:
        q = _value(values, source).astype(np.int32) - zero_point
        values[out] = q.astype(np.float32) * scale

    return dequantize


def _fully_connected_int8(op: Operator, tensors: tuple[Tensor, ...]) -> Step:
    """int8 x int8 -> int32 accumulator (+ int32 bias) -> int8, per-channel scales allowed."""
    source, weights_index, out = op.inputs[0], op.inputs[1], op.outputs[0]
    input_scale, input_zero = _per_tensor(op, tensors[source])
    output_scale, output_zero = _per_tensor(op, tensors[out])
    weights = tensors[weights_index]
    q = weights.quantization
    if weights.data is None or weights.dtype != np.int8 or weights.data.ndim != 2 or q is None:
        raise _unsupported(op, "needs constant int8 weights of rank 2, quantised")
    units_out, units = weights.data.shape
    if (q.zero_point != 0).any() or not (
        q.per_tensor or (q.axis == 0 and len(q.scale) == units_out)
    ):
        raise _unsupported(op, "needs symmetric weights, per tensor or per output channel")
    weights_t = np.ascontiguousarray(weights.data.T.astype(np.int64))  # (in, out)
    bias = np.zeros(units_out, dtype=np.int64)
    if len(op.inputs) > 2 and op.inputs[2] != -1:
        raw = tensors[op.inputs[2]].data
        if raw is None or raw.dtype != np.int32 or raw.shape != (units_out,):
            raise _unsupported(op, "needs a constant int32 bias of one value per output")
        bias = raw.astype(np.int64)
    # The accumulator's input zero point folded into the bias, as LiteRT does.
    bias = bias - input_zero * weights_t.sum(axis=0)
    # Each channel's requantisation scale in float32, in LiteRT's order of operations.
    multiplier = (input_scale * np.broadcast_to(q.scale, (units_out,))).astype(np.float32)
    multiplier = (multiplier / output_scale).astype(np.float32)
    activation = op.options.get("activation", "NONE")
    real_low, real_high = ACTIVATION_BOUNDS[activation]
    low = max(INT8_RANGE[0], _quantized_bound(real_low, output_scale, output_zero))
    high = min(INT8_RANGE[1], _quantized_bound(real_high, output_scale, output_zero))
    low_f, high_f = np.float32(low - output_zero), np.float32(high - output_zero)

    def fully_connected(values: list[Array | None]) -> None:
        value = _value(values, source)
        if value.ndim != 2 or value.shape[1] != units:
            if value.size % units:
                raise ModelError(f"{value.shape} does not fit a layer of {units} inputs")
            value = value.reshape(-1, units)
        accumulator = np.dot(value.astype(np.int64), weights_t) + bias
        scaled = np.clip(accumulator.astype(np.float32) * multiplier, low_f, high_f)
        values[out] = (np.rint(scaled) + output_zero).astype(np.int8)

    return fully_connected


def _quantized_bound(real: float, scale: np.float32, zero_point: int) -> int:
    if not np.isfinite(real):
        return INT8_RANGE[0] if real < 0 else INT8_RANGE[1]
    return zero_point + round(real / float(scale))


def _value(values: list[Array | None], index: int) -> Array:
    value = values[index]
    if value is None:  # read_graph's data-flow check makes this unreachable for a loaded model
        raise ModelError(f"tensor {index} has no value")
    return value


def _unsupported(op: Operator, reason: str) -> ModelError:
    return UnsupportedOperatorError(op.name, f"operator {op.name}: {reason}")
