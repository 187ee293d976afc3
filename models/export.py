"""What every model's ``train.py`` shares (training environment, ``.venv-train`` only).

``load_split(data, split)`` reads a dataset split written by the model's
``dataset.py``; ``with_spec(flatbuffer, spec)`` returns the converter's
``.tflite`` bytes with the spec (name, version, inputs with units and ranges,
outputs) added as the ``liuzhou.spec`` metadata the hub and the appliance read
(``neural/model.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import numpy as np
from tensorflow.lite.tools import flatbuffer_utils

SPEC_METADATA: Final = "liuzhou.spec"


def load_split(data: Path, split: str) -> dict[str, Any]:
    """The arrays of ``data/<split>.npz`` by name."""
    with np.load(data / f"{split}.npz") as npz:
        return {key: npz[key] for key in npz.files}


def with_spec(flatbuffer: bytes, spec: dict[str, Any]) -> bytes:
    """``flatbuffer`` with ``spec`` (JSON, sorted keys) appended as a metadata buffer."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    schema = flatbuffer_utils.schema_fb
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(spec, sort_keys=True).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = SPEC_METADATA
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
