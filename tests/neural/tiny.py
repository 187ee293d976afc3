"""Build tiny .tflite files with the TFLite schema's generated builder (``tflite`` package).

One operator on one (batch, width) input: enough to test what a runtime does
with an operator it runs (FULLY_CONNECTED with known weights) and with one it
does not (SOFTMAX, a custom operator).
"""

from __future__ import annotations

from typing import Any

import flatbuffers
import numpy as np
import tflite


def _vector(builder: flatbuffers.Builder, start: Any, values: list[int]) -> int:
    start(builder, len(values))
    for value in reversed(values):
        builder.PrependInt32(value)
    return int(builder.EndVector())


def _buffer(builder: flatbuffers.Builder, data: bytes) -> int:
    vector = builder.CreateByteVector(data) if data else None
    tflite.BufferStart(builder)
    if vector is not None:
        tflite.BufferAddData(builder, vector)
    return int(tflite.BufferEnd(builder))


def _tensor(
    builder: flatbuffers.Builder, name: str, shape: list[int], buffer: int, *, batch: bool = True
) -> int:
    name_offset = builder.CreateString(name)
    shape_offset = _vector(builder, tflite.TensorStartShapeVector, shape)
    # As the converter writes it: the batch is 1 in the shape and -1 (free) in the signature.
    signature = _vector(
        builder, tflite.TensorStartShapeSignatureVector, [-1, *shape[1:]] if batch else shape
    )
    tflite.TensorStart(builder)
    tflite.TensorAddShape(builder, shape_offset)
    tflite.TensorAddShapeSignature(builder, signature)
    tflite.TensorAddType(builder, tflite.TensorType.FLOAT32)
    tflite.TensorAddBuffer(builder, buffer)
    tflite.TensorAddName(builder, name_offset)
    return int(tflite.TensorEnd(builder))


def tiny_model(
    operator: str,
    width: int = 3,
    weights: np.ndarray[Any, Any] | None = None,
    bias: np.ndarray[Any, Any] | None = None,
    custom_code: str | None = None,
) -> bytes:
    """A model running ``operator`` (a TFLite builtin name, or CUSTOM with ``custom_code``).

    FULLY_CONNECTED takes ``weights`` (out, width) and ``bias`` (out,); ADD, MUL and
    CONCATENATION (axis 1) take the input twice; every other operator maps the input to an
    output of its shape.
    """
    builder = flatbuffers.Builder(1024)
    buffers = [_buffer(builder, b"")]  # buffer 0 is empty by convention
    tensors = [_tensor(builder, "input", [1, width], 0)]
    inputs = [0]
    out_width = width
    if operator == "FULLY_CONNECTED":
        assert weights is not None
        assert bias is not None
        out_width = weights.shape[0]
        buffers.append(_buffer(builder, weights.astype(np.float32).tobytes()))
        tensors.append(_tensor(builder, "weights", list(weights.shape), 1, batch=False))
        buffers.append(_buffer(builder, bias.astype(np.float32).tobytes()))
        tensors.append(_tensor(builder, "bias", [out_width], 2, batch=False))
        inputs = [0, 1, 2]
    elif operator in ("ADD", "MUL", "CONCATENATION"):
        inputs = [0, 0]  # the input with itself: x + x, x · x, [x, x]
        out_width = 2 * width if operator == "CONCATENATION" else width
    tensors.append(_tensor(builder, "output", [1, out_width], 0))
    output = len(tensors) - 1
    options = None
    if operator == "CONCATENATION":
        tflite.ConcatenationOptionsStart(builder)
        tflite.ConcatenationOptionsAddAxis(builder, 1)
        options = tflite.ConcatenationOptionsEnd(builder)

    custom = builder.CreateString(custom_code) if custom_code else None
    tflite.OperatorCodeStart(builder)
    code = getattr(tflite.BuiltinOperator, operator)
    tflite.OperatorCodeAddBuiltinCode(builder, code)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, min(code, 127))
    if custom is not None:
        tflite.OperatorCodeAddCustomCode(builder, custom)
    tflite.OperatorCodeAddVersion(builder, 1)
    code_offset = tflite.OperatorCodeEnd(builder)

    op_inputs = _vector(builder, tflite.OperatorStartInputsVector, inputs)
    op_outputs = _vector(builder, tflite.OperatorStartOutputsVector, [output])
    tflite.OperatorStart(builder)
    tflite.OperatorAddOpcodeIndex(builder, 0)
    tflite.OperatorAddInputs(builder, op_inputs)
    tflite.OperatorAddOutputs(builder, op_outputs)
    if options is not None:
        tflite.OperatorAddBuiltinOptionsType(builder, tflite.BuiltinOptions.ConcatenationOptions)
        tflite.OperatorAddBuiltinOptions(builder, options)
    op_offset = tflite.OperatorEnd(builder)

    tflite.SubGraphStartTensorsVector(builder, len(tensors))
    for tensor in reversed(tensors):
        builder.PrependUOffsetTRelative(tensor)
    tensors_offset = builder.EndVector()
    tflite.SubGraphStartOperatorsVector(builder, 1)
    builder.PrependUOffsetTRelative(op_offset)
    operators_offset = builder.EndVector()
    graph_inputs = _vector(builder, tflite.SubGraphStartInputsVector, [0])
    graph_outputs = _vector(builder, tflite.SubGraphStartOutputsVector, [output])
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensors_offset)
    tflite.SubGraphAddOperators(builder, operators_offset)
    tflite.SubGraphAddInputs(builder, graph_inputs)
    tflite.SubGraphAddOutputs(builder, graph_outputs)
    subgraph = tflite.SubGraphEnd(builder)

    tflite.ModelStartOperatorCodesVector(builder, 1)
    builder.PrependUOffsetTRelative(code_offset)
    codes_offset = builder.EndVector()
    tflite.ModelStartSubgraphsVector(builder, 1)
    builder.PrependUOffsetTRelative(subgraph)
    subgraphs_offset = builder.EndVector()
    tflite.ModelStartBuffersVector(builder, len(buffers))
    for buffer in reversed(buffers):
        builder.PrependUOffsetTRelative(buffer)
    buffers_offset = builder.EndVector()
    description = builder.CreateString("test model")
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddOperatorCodes(builder, codes_offset)
    tflite.ModelAddSubgraphs(builder, subgraphs_offset)
    tflite.ModelAddBuffers(builder, buffers_offset)
    tflite.ModelAddDescription(builder, description)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
