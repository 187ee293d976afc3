"""Which entities a pushed change concerns: the keys each one read for its state.

An appliance pushes about two changed values at a time, while it has a dozen
or more entities, and writing an entity's state is most of what a push costs
Home Assistant (each write computes every property and compares it with the
state machine's). So the coordinator hands a push only to the entities that
read a changed key when they last computed their state.

The keys are recorded, not declared: ``ApplianceState`` notes every key read
while a ``ReadRecorder`` is recording into an entity's ``StateReads``, so a
description's ``value_fn`` or a runtime object that reads the state for an
entity is followed without a list to keep in step. A key the entity did not
read cannot change its state until a key it did read changes, and that change
records the new reads: the same rule reactive user interfaces use.

Not tracked: ``len()`` and truth, because the set of keys only changes when a
connection is made, and every entity is updated then (``async_set_updated_data``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from .link.model import Value

# Recorded when a reader walks the whole state (``dict(state)``, ``.items()``).
EVERY_KEY: Final = "\x00every"


class StateReads:
    """The keys one listener has read; ``None`` until a push reached it (every push concerns it)."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        """Start unknown: the first push reaches the listener and records its reads."""
        self.keys: set[str] | None = None

    def concerns(self, changed: Mapping[str, object]) -> bool:
        """Whether a push of ``changed`` may change what this listener shows."""
        keys = self.keys
        return keys is None or EVERY_KEY in keys or not keys.isdisjoint(changed)


class ReadRecorder:
    """Where reads of an ``ApplianceState`` go now: one listener's key set, or nowhere."""

    __slots__ = ("into",)

    def __init__(self) -> None:
        """Record nothing until ``start``."""
        self.into: set[str] | None = None

    def start(self, reads: StateReads) -> set[str] | None:
        """Record into ``reads`` (a union over computations); returns what ``stop`` restores."""
        outer = self.into
        if reads.keys is None:
            reads.keys = set()
        self.into = reads.keys
        return outer

    def stop(self, outer: set[str] | None) -> None:
        """Record where the caller of ``start`` did before."""
        self.into = outer


class ApplianceState(Mapping[str, Value]):
    """An appliance's current values (capability key to value), noting who reads which key.

    Read-only: the coordinator makes a new one for every change.
    """

    __slots__ = ("_recorder", "_values")

    def __init__(self, values: Mapping[str, Value], recorder: ReadRecorder) -> None:
        """Copy ``values``; reads are recorded by ``recorder``."""
        self._values = dict(values)
        self._recorder = recorder

    def __getitem__(self, key: str) -> Value:
        """The value of ``key`` (KeyError if the appliance has not reported it)."""
        into = self._recorder.into
        if into is not None:
            into.add(key)
        return self._values[key]

    def get(self, key: str, default: Value | None = None) -> Value | None:  # type: ignore[override]
        """The value of ``key``, or ``default`` (faster than Mapping's, which raises first)."""
        into = self._recorder.into
        if into is not None:
            into.add(key)
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        """Whether the appliance has reported ``key``."""
        into = self._recorder.into
        if into is not None and isinstance(key, str):
            into.add(key)
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        """Every key: the reader depends on all of them."""
        into = self._recorder.into
        if into is not None:
            into.add(EVERY_KEY)
        return iter(self._values)

    def __len__(self) -> int:
        """How many values (not tracked: see the module's docstring)."""
        return len(self._values)

    def __repr__(self) -> str:
        """As the plain values."""
        return repr(self._values)
