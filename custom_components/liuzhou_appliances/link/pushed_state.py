"""A session's values as pushed: checked, merged for the listeners, kept past a read.

``state`` (the session's, ``ApplianceClient.state``) only ever holds values
that fit the appliance's own declaration (``Declaration.validate_reported``);
each other one goes to ``on_invalid_value`` with the reason.

Pushes read together are heard together: ``state`` takes each at once, and
the state listeners hear the merged changes (the latest value of each key)
once the frames already received are read (``loop.call_soon``). A hub that
falls behind thus finds several pushes of one appliance waiting and hands
them on as one update, so its work per appliance shrinks as its backlog grows.

Pushes are counted, and each key remembers the push that last changed it: a
read's answer must not undo a push that came after it on the wire
(``after_read``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import logging
from typing import Final, Protocol

from .declaration import Declaration
from .errors import LinkError, MalformedError
from .model import Value

# A session's lines all come from the client's logger, whichever file writes them.
_LOGGER: Final = logging.getLogger(f"{__package__}.client")

type InvalidValueCallback = Callable[[str, object, LinkError], None]
type StateListener = Callable[[Mapping[str, Value]], None]


class StateOwner(Protocol):
    """The session whose values these are (``ApplianceClient``)."""

    connected: bool
    declaration: Declaration | None
    state: dict[str, Value]


class PushedState:
    """Checks a session's values, hands pushes on merged, keeps them past a read's answer."""

    __slots__ = ("_on_invalid_value", "_owner", "_pushed_at", "_unheard", "count", "listeners")

    def __init__(self, owner: StateOwner, on_invalid_value: InvalidValueCallback | None) -> None:
        self._owner = owner
        self._on_invalid_value = on_invalid_value
        self.listeners: list[StateListener] = []
        # Pushes handled so far, and by which of them each key was last pushed.
        self.count = 0
        self._pushed_at: dict[str, int] = {}
        # Pushed changes not yet handed to the state listeners.
        self._unheard: dict[str, Value] | None = None

    def pushed(self, values: Mapping[str, object]) -> None:
        """One push: its valid values go into ``state`` and, soon, to the listeners."""
        accepted = self.accept(values)
        if not accepted:
            return
        self.count += 1
        for key in accepted:
            self._pushed_at[key] = self.count
        self._owner.state.update(accepted)
        if self._unheard is None:
            self._unheard = accepted
            asyncio.get_running_loop().call_soon(self._tell_listeners)
        else:
            self._unheard.update(accepted)

    def after_read(self, values: Mapping[str, object], pushes_before: int) -> dict[str, Value]:
        """A read's valid values, less those pushed after its answer (push ``pushes_before``)."""
        accepted = self.accept(values)
        state = self._owner.state
        for key, at in self._pushed_at.items():
            if at > pushes_before and key in state:
                accepted[key] = state[key]
        return accepted

    def accept(self, values: Mapping[str, object]) -> dict[str, Value]:
        """The values that fit the declaration; each other one goes to ``on_invalid_value``."""
        declaration = self._owner.declaration
        accepted: dict[str, Value] = {}
        for key, value in values.items():
            try:
                if declaration is None:  # pragma: no cover - values come after DESCRIBE
                    raise MalformedError("values before the declaration")
                accepted[key] = declaration.validate_reported(key, value)
            except LinkError as err:
                if self._on_invalid_value is not None:
                    try:
                        self._on_invalid_value(key, value, err)
                    except Exception:
                        _LOGGER.exception("invalid value callback failed")
        return accepted

    def _tell_listeners(self) -> None:
        """Hand the pushes read since the last call to the state listeners, merged."""
        changed, self._unheard = self._unheard, None
        if not changed or not self._owner.connected:
            return
        for listener in list(self.listeners):
            try:
                listener(changed)
            except Exception:
                _LOGGER.exception("state listener failed")
