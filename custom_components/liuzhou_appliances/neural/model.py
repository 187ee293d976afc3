"""``load_model``: one .tflite file, run by LiteRT where it imports and by numpy otherwise.

Loading reads and checks the whole file and inference costs tens of
microseconds for our models; both are plain blocking calls. Home Assistant
code loads a model in the executor (``hass.async_add_executor_job(load_model,
path)``) and may call ``predict`` for one row from the event loop (measured by
``./scripts/bench models``); batches go to the executor too.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from .errors import CorruptModelError, ModelError, ModelInputError, ModelOutputError
from .graph import Graph, read_graph
from .litert_runtime import LiteRtRuntime, litert_available
from .numpy_runtime import NumpyRuntime, numpy_supports

type Array = np.ndarray[Any, Any]
type Prefer = Literal["auto", "litert", "numpy"]


class Runtime(Protocol):
    """What both runtimes offer."""

    @property
    def name(self) -> str:
        """``"litert"`` or ``"numpy"``."""

    def run(self, inputs: Array) -> list[Array]:
        """Outputs for a float32 batch."""


@dataclass(frozen=True, slots=True)
class Feature:
    """One input or output column: name, unit and, for inputs, the range it was trained on."""

    name: str
    unit: str
    minimum: float = -math.inf
    maximum: float = math.inf


class Model:
    """A loaded model. ``runtime`` says which runtime answers (``"litert"`` or ``"numpy"``)."""

    def __init__(self, graph: Graph, runtime: Runtime) -> None:
        """Use ``load_model``; raises ``CorruptModelError`` if the metadata does not fit."""
        self._runtime = runtime
        tensors = graph.tensors
        self.width = tensors[graph.inputs[0]].shape[1]  # read_graph checked (batch, width)
        spec = graph.spec() or {}
        self.name = str(spec.get("name", "model"))
        self.version = str(spec.get("version", ""))
        self.inputs = _features(spec.get("inputs"), self.width, "x")
        widths = [math.prod(max(d, 1) for d in tensors[i].shape[1:]) for i in graph.outputs]
        self.outputs = _features(spec.get("outputs"), sum(widths), "y")
        self._low = np.array([f.minimum for f in self.inputs], dtype=np.float64)
        self._high = np.array([f.maximum for f in self.inputs], dtype=np.float64)
        self._normalise = _normalisation(spec.get("normalise"), self.width)

    @property
    def runtime(self) -> str:
        """``"litert"`` or ``"numpy"``."""
        return self._runtime.name

    def check(self, rows: Array) -> Array:
        """``rows`` (features,) or (batch, features) as the float32 batch the graph takes
        (normalised first if the spec says ``normalise``, as int8 files do); raises
        ``ModelInputError`` naming the first bad column."""
        try:
            batch = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ModelInputError(f"inputs are not numbers: {err}") from None
        if batch.ndim == 1:
            batch = batch[np.newaxis, :]
        if batch.ndim != 2 or batch.shape[1] != self.width or batch.shape[0] == 0:
            raise ModelInputError(
                f"{self.name} takes (batch, {self.width}) inputs, not {np.shape(rows)}"
            )
        bad = ~np.isfinite(batch)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            raise ModelInputError(
                f"{self.inputs[column].name} is {batch[row, column]} (row {row}); "
                "inputs must be finite"
            )
        outside = (batch < self._low) | (batch > self._high)
        if outside.any():
            row, column = np.argwhere(outside)[0]
            feature = self.inputs[column]
            raise ModelInputError(
                f"{feature.name} = {batch[row, column]:g} {feature.unit} (row {row}) is outside "
                f"the trained range {feature.minimum:g}-{feature.maximum:g}"
            )
        if self._normalise is not None:
            mean, std = self._normalise
            batch = (batch - mean) / std
        return batch.astype(np.float32)

    def predict(self, rows: Array) -> Array:
        """Outputs, (batch, outputs) float32, for ``rows`` (features,) or (batch, features).

        Raises ``ModelInputError`` for bad inputs and ``ModelOutputError`` if the
        result is not finite.
        """
        result = self.infer(self.check(rows))
        if not np.isfinite(result).all():
            raise ModelOutputError(f"{self.name} produced a non-finite output")
        return result

    def infer(self, batch: Array) -> Array:
        """The runtime alone on a (batch, features) float32 array that ``check`` returned:
        no input or output checks (``predict`` is the checked call). Raises ``ModelError``."""
        try:
            outputs = self._runtime.run(batch)
            if len(outputs) == 1:
                return outputs[0].reshape(batch.shape[0], -1)
            return np.concatenate([o.reshape(batch.shape[0], -1) for o in outputs], axis=1)
        except ModelError:
            raise
        except (ValueError, IndexError, TypeError, FloatingPointError, MemoryError) as err:
            raise ModelError(f"{self.name} failed on the {self.runtime} runtime: {err}") from None


def load_model(path: str | Path, prefer: Prefer = "auto") -> Model:
    """Read, check and load the .tflite file at ``path`` (blocking: call in the executor).

    ``prefer``: ``"auto"`` uses LiteRT when it imports and numpy otherwise;
    ``"litert"`` raises ``RuntimeUnavailableError`` without it; ``"numpy"`` never
    uses LiteRT. Raises ``ModelError`` (a subclass naming the cause) for an
    unreadable, corrupt or unsupported file.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read {path}: {err.strerror or err}") from None
    return load_model_bytes(data, prefer)


def load_model_bytes(data: bytes, prefer: Prefer = "auto") -> Model:
    """``load_model`` for a file's bytes."""
    if prefer not in ("auto", "litert", "numpy"):
        raise ValueError(f"prefer must be auto, litert or numpy, not {prefer!r}")
    # Checked against the numpy runtime's operators even when LiteRT will run it: the
    # fallback must run every file we accept.
    graph = read_graph(data, numpy_supports)
    fallback = NumpyRuntime(graph)
    fallback.check_shapes()
    runtime: Runtime = fallback
    if prefer == "litert" or (prefer == "auto" and litert_available()):
        runtime = LiteRtRuntime(data)
    return Model(graph, runtime)


def _features(raw: Any, width: int, prefix: str) -> tuple[Feature, ...]:
    if raw is None:
        return tuple(Feature(f"{prefix}{i}", "") for i in range(width))
    try:
        features = tuple(
            Feature(
                str(item["name"]),
                str(item.get("unit", "")),
                float(item.get("min", -math.inf)),
                float(item.get("max", math.inf)),
            )
            for item in raw
        )
    except (TypeError, KeyError, ValueError, AttributeError) as err:
        raise CorruptModelError(f"metadata describes the columns badly: {err!r}") from None
    if len(features) != width:
        raise CorruptModelError(f"metadata names {len(features)} columns; the model has {width}")
    return features


def _normalisation(raw: Any, width: int) -> tuple[Array, Array] | None:
    """The spec's ``normalise`` ({"mean": [...], "std": [...]}, one per input), if any.

    An int8 graph quantises its whole input with one scale, so it takes normalised
    inputs; the runtimes apply ``(x - mean) / std`` before either of them runs it.
    """
    if raw is None:
        return None
    try:
        mean = np.array(raw["mean"], dtype=np.float64)
        std = np.array(raw["std"], dtype=np.float64)
    except (TypeError, KeyError, ValueError) as err:
        raise CorruptModelError(f"metadata 'normalise' is not mean and std: {err!r}") from None
    if mean.shape != (width,) or std.shape != (width,):
        raise CorruptModelError(f"metadata 'normalise' needs {width} means and deviations")
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise CorruptModelError("metadata 'normalise' has a non-finite mean or a deviation <= 0")
    return mean, std
