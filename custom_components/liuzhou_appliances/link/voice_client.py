"""Hub side of the voice panel (PROTOCOL.md 7.5): the utterances an appliance pushes.

``ApplianceClient`` hands each ``utterance`` push to ``UtteranceListeners``,
which reads it, checks it against the appliance's declaration and calls
the listeners in the order the utterances came. A push that does not fit (no
panel declared, an undeclared language, text empty or over 500 characters,
fields of the wrong shape) is logged and dropped: a panel's fault never ends
the session that carries the appliance's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import contextlib
import logging
from typing import Any, Final

from .declaration import Declaration
from .errors import MalformedError, OutOfRangeError
from .messages import Utterance
from .voice import MAX_UTTERANCE_TEXT

_LOGGER: Final = logging.getLogger(__name__.rpartition(".")[0] + ".client")

type UtteranceListener = Callable[[Utterance], None]


def checked_utterance(message: Mapping[str, Any], declaration: Declaration | None) -> Utterance:
    """The utterance a push carries, if the declaration allows it.

    MalformedError for fields of the wrong shape; OutOfRangeError for a model
    without a panel, a language it does not declare, or text that is not
    1-500 characters once stripped.
    """
    utterance = Utterance.from_dict(message)
    panel = None if declaration is None else declaration.voice_panel
    if panel is None:
        raise OutOfRangeError("utterance from an appliance that declares no voice panel")
    if utterance.language not in panel.languages:
        raise OutOfRangeError(f"utterance in {utterance.language[:40]!r}, not a declared language")
    if not 0 < len(utterance.text.strip()) <= MAX_UTTERANCE_TEXT:
        raise OutOfRangeError(f"utterance text is not 1-{MAX_UTTERANCE_TEXT} characters")
    return utterance


class UtteranceListeners:
    """The listeners of one client's utterances, and the reading of the pushes."""

    def __init__(self, name: str) -> None:
        self._name = name  # the appliance, for logs
        self._listeners: list[UtteranceListener] = []

    def add(self, listener: UtteranceListener) -> Callable[[], None]:
        """Add a listener; return the function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def heard(self, message: Mapping[str, Any], declaration: Declaration | None) -> None:
        """An ``utterance`` push arrived: tell every listener, or log why not. Never raises."""
        try:
            utterance = checked_utterance(message, declaration)
        except (MalformedError, OutOfRangeError) as err:
            _LOGGER.warning("ignoring an utterance from %s: %s", self._name, err.message)
            return
        if not self._listeners:
            _LOGGER.debug("utterance %s from %s: nobody listens", utterance.utterance, self._name)
        for listener in list(self._listeners):
            try:
                listener(utterance)
            except Exception:
                _LOGGER.exception("utterance listener failed")
