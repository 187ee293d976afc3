"""LiteRT (``ai-edge-litert``) behind the same interface as ``NumpyRuntime``.

LiteRT has manylinux wheels only, so it is not a requirement of the
integration: it is used when it imports. The file it gets has already passed
``read_graph``'s checks, so LiteRT never parses a file we would call corrupt.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from .errors import CorruptModelError, ModelError, RuntimeUnavailableError

type Array = np.ndarray[Any, Any]


def litert_available() -> bool:
    """Whether ``ai_edge_litert`` imports here."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401 - optional, probed lazily
    except ImportError:
        return False
    return True


class LiteRtRuntime:
    """The LiteRT interpreter on one thread; ``run`` takes and returns float32 arrays."""

    name: Final = "litert"

    def __init__(self, data: bytes) -> None:
        """Raises ``RuntimeUnavailableError`` without LiteRT, ``ModelError`` if it refuses
        the file."""
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise RuntimeUnavailableError(
                f"LiteRT (ai-edge-litert) is not installed: {err}"
            ) from None
        try:
            # One thread: Home Assistant runs us in its executor, next to other work.
            self._interpreter: Any = Interpreter(model_content=bytes(data), num_threads=1)
            self._interpreter.allocate_tensors()
            details = self._interpreter.get_input_details()[0]
            self._input = details["index"]
            self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
            self._batch = int(details["shape"][0])
        except Exception as err:
            raise CorruptModelError(f"LiteRT refused the model: {err}") from None

    def run(self, inputs: Array) -> list[Array]:
        """The graph's outputs for ``inputs`` (batch first)."""
        interpreter = self._interpreter
        try:
            if inputs.shape[0] != self._batch:
                interpreter.resize_tensor_input(self._input, list(inputs.shape), strict=True)
                interpreter.allocate_tensors()
                self._batch = inputs.shape[0]
            interpreter.set_tensor(self._input, inputs)
            interpreter.invoke()
            return [interpreter.get_tensor(index) for index in self._outputs]
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"LiteRT could not run the model: {err}") from None
