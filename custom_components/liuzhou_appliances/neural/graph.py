"""Read a ``.tflite`` file into a checked, runtime-independent graph.

The flatbuffer is read with the ``tflite`` package (the TFLite schema's generated
reader). Everything the runtimes rely on is checked here, before either of them
sees the file: the identifier, one subgraph, every index in range, constant data
of exactly the size its shape and type need, operators in an order where each
input exists before it is used. A file that fails any check raises
``CorruptModelError``; one that is well formed but outside what we run raises
``UnsupportedModelError`` / ``UnsupportedOperatorError``. Nothing else escapes:
the generated reader raises whatever ``struct`` or numpy raise on damaged bytes,
and that is turned into ``CorruptModelError`` naming the step that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import json
import math
from typing import Any, Final

import numpy as np
import tflite

from .errors import CorruptModelError, ModelError, UnsupportedModelError, UnsupportedOperatorError

IDENTIFIER: Final = b"TFL3"
MAX_TENSORS: Final = 10_000
MAX_ELEMENTS: Final = 1 << 22  # per tensor, 16 MB of float32: far beyond any model of ours
SPEC_METADATA: Final = "liuzhou.spec"  # our JSON metadata entry (inputs, units, ranges)
# Inputs each operator needs at least (its outputs: exactly one).
MIN_INPUTS: Final = {"FULLY_CONNECTED": 2, "ADD": 2, "MUL": 2, "CONCATENATION": 1}

# TensorType numbers -> numpy dtypes we run; others are unsupported.
DTYPES: Final[Mapping[int, np.dtype[Any]]] = {
    tflite.TensorType.FLOAT32: np.dtype(np.float32),
    tflite.TensorType.INT32: np.dtype(np.int32),
    tflite.TensorType.INT64: np.dtype(np.int64),
    tflite.TensorType.INT8: np.dtype(np.int8),
    tflite.TensorType.UINT8: np.dtype(np.uint8),
}
OPERATOR_NAMES: Final[Mapping[int, str]] = {
    value: name
    for name, value in vars(tflite.BuiltinOperator).items()
    if not name.startswith("_") and isinstance(value, int)
}
ACTIVATIONS: Final[Mapping[int, str]] = {
    value: name
    for name, value in vars(tflite.ActivationFunctionType).items()
    if not name.startswith("_") and isinstance(value, int)
}


@dataclass(frozen=True, slots=True)
class Quantization:
    """Affine quantisation, ``real = scale · (q − zero_point)``: per tensor (one scale and
    zero point) or per channel along dimension ``axis`` (one of each per channel)."""

    scale: np.ndarray[Any, Any]  # float32, (1,) or (channels,)
    zero_point: np.ndarray[Any, Any]  # int64, the same length
    axis: int

    @property
    def per_tensor(self) -> bool:
        """Whether one scale covers the whole tensor."""
        return len(self.scale) == 1


@dataclass(frozen=True, slots=True)
class Tensor:
    """A tensor: ``shape`` with -1 where the batch size is free; ``data`` if constant."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    data: np.ndarray[Any, Any] | None
    quantization: Quantization | None


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator: its TFLite name, tensor indices (-1: optional input left out) and the
    options the runtimes use (``activation``, ``keep_num_dims``, ``axis``)."""

    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Graph:
    """A checked model: tensors, operators in execution order, graph inputs and outputs, and
    the metadata entries (name -> bytes)."""

    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    metadata: Mapping[str, bytes]

    def spec(self) -> dict[str, Any] | None:
        """Our JSON metadata (input names, units and ranges), or None if the file has none.

        Raises ``CorruptModelError`` if it is there but not a JSON object.
        """
        raw = self.metadata.get(SPEC_METADATA)
        if raw is None:
            return None
        try:
            spec = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise CorruptModelError(f"metadata {SPEC_METADATA!r} is not JSON: {err}") from None
        if not isinstance(spec, dict):
            raise CorruptModelError(f"metadata {SPEC_METADATA!r} is not a JSON object")
        return spec


def read_graph(data: bytes, supported: Callable[[Operator], str | None]) -> Graph:
    """Parse and check ``data`` (the bytes of a .tflite file).

    ``supported(op)`` returns None if the runtime runs ``op``, else why not.
    Raises ``CorruptModelError``, ``UnsupportedModelError`` or ``UnsupportedOperatorError``.
    """
    if len(data) < 16 or data[4:8] != IDENTIFIER:
        raise CorruptModelError(
            f"not a TFLite flatbuffer ({len(data)} bytes, identifier {bytes(data[4:8])!r})"
        )
    step = "model"
    try:
        step = "model header"
        model = tflite.Model.GetRootAs(data, 0)
        limit = len(data)
        step = "buffers"
        buffers = _buffers(model, limit)
        step = "metadata"
        metadata = _metadata(model, buffers, limit)
        step = "operator codes"
        codes = _operator_codes(model, limit)
        step = "subgraph"
        if model.SubgraphsLength() == 0:
            raise CorruptModelError("the model has no subgraph")
        if model.SubgraphsLength() != 1:
            raise UnsupportedModelError(
                f"the model has {model.SubgraphsLength()} subgraphs; only one is supported"
            )
        subgraph = model.Subgraphs(0)
        step = "tensors"
        tensors = _tensors(subgraph, buffers, limit)
        step = "operators"
        operators = _operators(subgraph, codes, len(tensors), limit)
        step = "graph inputs and outputs"
        inputs = _indices(subgraph.InputsAsNumpy(), len(tensors), "graph input", optional=False)
        outputs = _indices(subgraph.OutputsAsNumpy(), len(tensors), "graph output", optional=False)
    except ModelError:
        raise
    except Exception as err:
        raise CorruptModelError(f"damaged flatbuffer ({step}): {type(err).__name__}") from None
    graph = Graph(tensors, operators, inputs, outputs, metadata)
    _check_dataflow(graph)
    _check_shapes(graph)
    for op in operators:
        reason = supported(op)
        if reason is not None:
            raise UnsupportedOperatorError(op.name, f"operator {op.name}: {reason}")
    return graph


def _vector(length: int, limit: int, what: str) -> int:
    # A damaged length could be billions: refuse it before looping over it.
    if length < 0 or length > min(limit, MAX_TENSORS * 4):
        raise CorruptModelError(f"{what}: impossible length {length}")
    return length


def _buffers(model: Any, limit: int) -> list[bytes]:
    buffers = []
    for i in range(_vector(model.BuffersLength(), limit, "buffers")):
        buffer = model.Buffers(i)
        if buffer.Offset() > 1 or buffer.Size() > 0:
            raise UnsupportedModelError("buffers stored outside the flatbuffer are not supported")
        if buffer.DataIsNone():
            buffers.append(b"")
        else:
            length = _vector(buffer.DataLength(), limit, f"buffer {i}")
            raw = buffer.DataAsNumpy()
            if not isinstance(raw, np.ndarray) or raw.size != length:
                raise CorruptModelError(f"buffer {i} runs past the end of the file")
            buffers.append(raw.tobytes())
    return buffers


def _metadata(model: Any, buffers: list[bytes], limit: int) -> dict[str, bytes]:
    metadata = {}
    for i in range(_vector(model.MetadataLength(), limit, "metadata")):
        entry = model.Metadata(i)
        name = (entry.Name() or b"").decode("utf-8")
        index = entry.Buffer()
        if not 0 <= index < len(buffers):
            raise CorruptModelError(f"metadata {name!r} names buffer {index} of {len(buffers)}")
        metadata[name] = buffers[index]
    return metadata


def _operator_codes(model: Any, limit: int) -> list[str]:
    codes = []
    for i in range(_vector(model.OperatorCodesLength(), limit, "operator codes")):
        code = model.OperatorCodes(i)
        # Codes above 127 live in builtin_code; older files only fill the deprecated field.
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if number == tflite.BuiltinOperator.CUSTOM:
            custom = (code.CustomCode() or b"?").decode("utf-8")
            codes.append(f"CUSTOM:{custom}")
        else:
            codes.append(OPERATOR_NAMES.get(number, f"BUILTIN_{number}"))
    return codes


def _tensors(subgraph: Any, buffers: list[bytes], limit: int) -> tuple[Tensor, ...]:
    tensors = []
    for i in range(_vector(subgraph.TensorsLength(), limit, "tensors")):
        tensor = subgraph.Tensors(i)
        name = (tensor.Name() or b"").decode("utf-8")  # LiteRT decodes it strictly too
        dtype = DTYPES.get(tensor.Type())
        if dtype is None:
            raise UnsupportedModelError(f"tensor {name!r} has unsupported type {tensor.Type()}")
        shape = _shape(tensor, name, limit)
        if tensor.Sparsity() is not None:
            raise UnsupportedModelError(f"tensor {name!r} is sparse")
        index = tensor.Buffer()
        if not 0 <= index < len(buffers):
            raise CorruptModelError(f"tensor {name!r} names buffer {index} of {len(buffers)}")
        data = None
        if buffers[index]:
            if -1 in shape:
                raise CorruptModelError(f"constant tensor {name!r} has a free dimension")
            count = math.prod(shape)
            if len(buffers[index]) != count * dtype.itemsize:
                raise CorruptModelError(
                    f"tensor {name!r}: {len(buffers[index])} bytes for shape {shape} of {dtype}"
                )
            data = np.frombuffer(buffers[index], dtype=dtype).reshape(shape)
        tensors.append(Tensor(name, shape, dtype, data, _quantization(tensor, name, shape)))
    return tuple(tensors)


def _shape(tensor: Any, name: str, limit: int) -> tuple[int, ...]:
    rank = _vector(tensor.ShapeLength(), limit, f"shape of {name!r}")
    shape = [int(tensor.Shape(j)) for j in range(rank)]
    # LiteRT allocates the shape as written: it must be sane whatever the signature says.
    if any(d < 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise CorruptModelError(f"tensor {name!r} has an impossible shape {shape}")
    if tensor.ShapeSignatureLength() == 0:
        return tuple(shape)
    # The converter writes the batch as 1 in the shape and -1 (free) in the signature.
    signature = [int(tensor.ShapeSignature(j)) for j in range(tensor.ShapeSignatureLength())]
    if len(signature) != rank or any(
        s != d and not (s == -1 and d == 1) for d, s in zip(shape, signature, strict=True)
    ):
        raise CorruptModelError(f"tensor {name!r}: shape {shape} and signature {signature} differ")
    return tuple(signature)


def _quantization(tensor: Any, name: str, shape: tuple[int, ...]) -> Quantization | None:
    parameters = tensor.Quantization()
    if parameters is None or parameters.ScaleLength() == 0:
        return None
    count = parameters.ScaleLength()
    axis = int(parameters.QuantizedDimension())
    if parameters.ZeroPointLength() != count:
        raise CorruptModelError(
            f"tensor {name!r} has {count} quantisation scales and "
            f"{parameters.ZeroPointLength()} zero points"
        )
    if count > 1 and not (0 <= axis < len(shape) and shape[axis] == count):
        raise CorruptModelError(
            f"tensor {name!r}: {count} quantisation scales along dimension {axis} of {shape}"
        )
    scale = np.array([parameters.Scale(i) for i in range(count)], dtype=np.float32)
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        raise CorruptModelError(f"tensor {name!r} has a quantisation scale that is not > 0")
    zero_point = np.array([parameters.ZeroPoint(i) for i in range(count)], dtype=np.int64)
    return Quantization(scale, zero_point, axis)


def _indices(raw: Any, count: int, what: str, *, optional: bool) -> tuple[int, ...]:
    if isinstance(raw, int):  # the generated reader returns 0 for an absent vector
        return ()
    indices = tuple(int(i) for i in raw)
    for index in indices:
        if not (0 <= index < count or (optional and index == -1)):
            raise CorruptModelError(f"{what} names tensor {index} of {count}")
    return indices


def _operators(
    subgraph: Any, codes: list[str], tensor_count: int, limit: int
) -> tuple[Operator, ...]:
    operators = []
    for i in range(_vector(subgraph.OperatorsLength(), limit, "operators")):
        op = subgraph.Operators(i)
        code = op.OpcodeIndex()
        if not 0 <= code < len(codes):
            raise CorruptModelError(f"operator {i} names operator code {code} of {len(codes)}")
        name = codes[code]
        inputs = _indices(op.InputsAsNumpy(), tensor_count, f"{name} input", optional=True)
        outputs = _indices(op.OutputsAsNumpy(), tensor_count, f"{name} output", optional=False)
        operators.append(Operator(name, inputs, outputs, _options(name, op)))
    return tuple(operators)


def _options(name: str, op: Any) -> dict[str, Any]:
    """The builtin options the numpy runtime reads, by operator."""
    readers: dict[str, Any] = {
        "FULLY_CONNECTED": tflite.FullyConnectedOptions,
        "ADD": tflite.AddOptions,
        "MUL": tflite.MulOptions,
        "CONCATENATION": tflite.ConcatenationOptions,
    }
    reader = readers.get(name)
    table = op.BuiltinOptions()
    if reader is None or table is None:
        return {}
    options = reader()
    options.Init(table.Bytes, table.Pos)
    activation = options.FusedActivationFunction()
    out: dict[str, Any] = {"activation": ACTIVATIONS.get(activation, f"ACTIVATION_{activation}")}
    if name == "FULLY_CONNECTED":
        out["keep_num_dims"] = bool(options.KeepNumDims())
        out["weights_format"] = options.WeightsFormat()
    if name == "CONCATENATION":
        out["axis"] = options.Axis()
    return out


def _check_shapes(graph: Graph) -> None:
    """One (batch, features) input, at least one output."""
    if len(graph.inputs) != 1 or not graph.outputs:
        raise CorruptModelError(
            f"a model needs one input and outputs, not {len(graph.inputs)} and {len(graph.outputs)}"
        )
    shape = graph.tensors[graph.inputs[0]].shape
    if len(shape) != 2 or shape[1] < 1:
        raise CorruptModelError(f"the input must be (batch, features), not {shape}")


def _check_dataflow(graph: Graph) -> None:
    """Every operator has its inputs and one output, and every input is a constant, a graph
    input or an earlier operator's output."""
    ready = set(graph.inputs)
    ready.update(i for i, tensor in enumerate(graph.tensors) if tensor.data is not None)
    for op in graph.operators:
        needed = MIN_INPUTS.get(op.name, 1)
        given = [i for i in op.inputs[:needed] if i != -1]
        if len(given) < needed or len(op.outputs) != 1:
            raise CorruptModelError(
                f"{op.name} has {len(op.inputs)} inputs and {len(op.outputs)} outputs"
            )
        for index in op.inputs:
            if index != -1 and index not in ready:
                raise CorruptModelError(
                    f"{op.name} reads tensor {graph.tensors[index].name!r} before it is computed"
                )
        ready.update(op.outputs)
    for index in graph.outputs:
        if index not in ready:
            raise CorruptModelError(f"graph output {graph.tensors[index].name!r} is never computed")
