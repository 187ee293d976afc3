"""Neural models on any Home Assistant install: one .tflite file, two runtimes.

LiteRT (``ai-edge-litert``, manylinux wheels only) runs a model where it
imports; a numpy interpreter of the same flatbuffer runs it everywhere else
(Home Assistant OS and Container are musl). Imports nothing from Home
Assistant; everything it raises is a ``ModelError``.
"""

from __future__ import annotations

from .errors import (
    CorruptModelError,
    ModelError,
    ModelInputError,
    ModelOutputError,
    RuntimeUnavailableError,
    UnsupportedModelError,
    UnsupportedOperatorError,
)
from .litert_runtime import litert_available
from .model import Feature, Model, load_model, load_model_bytes

__all__ = [
    "CorruptModelError",
    "Feature",
    "Model",
    "ModelError",
    "ModelInputError",
    "ModelOutputError",
    "RuntimeUnavailableError",
    "UnsupportedModelError",
    "UnsupportedOperatorError",
    "litert_available",
    "load_model",
    "load_model_bytes",
]
