"""The one error family of the neural runtime: everything it raises is a ``ModelError``."""

from __future__ import annotations


class ModelError(Exception):
    """A model cannot be loaded or cannot answer; ``str(err)`` names the cause."""


class CorruptModelError(ModelError):
    """The file is not a well-formed TFLite flatbuffer (truncated, damaged, inconsistent)."""


class UnsupportedModelError(ModelError):
    """The file is well formed but uses something this runtime does not implement."""


class UnsupportedOperatorError(UnsupportedModelError):
    """An operator outside the runtime's set; ``.operator`` is its TFLite name."""

    def __init__(self, operator: str, message: str) -> None:
        super().__init__(message)
        self.operator = operator


class ModelInputError(ModelError):
    """An input of the wrong shape, not finite, or outside the model's declared range."""


class ModelOutputError(ModelError):
    """The model produced a non-finite output (damaged weights or inputs it never saw)."""


class RuntimeUnavailableError(ModelError):
    """The runtime asked for (LiteRT) cannot be imported here."""
