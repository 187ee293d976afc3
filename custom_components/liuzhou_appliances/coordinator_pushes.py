"""Who hears an appliance's pushes, and when: the coordinator's listeners, paced.

A listener with a ``StateReads`` context (an entity) hears a push only when
it changed a key the entity read (``pushed_state.py``), and only as often as
the hub's ``PushPacing`` allows: changes arriving meanwhile are merged, so
each entity is written once for them. Listeners without one hear every push
at once. ``LiuzhouCoordinator`` owns one ``PushFanout``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .hub_limits import hub_limits
from .link.model import Value
from .pushed_state import ReadRecorder, StateReads


class PushFanout:
    """The push listeners of one appliance, and the changes not shown to them yet."""

    def __init__(self, hass: HomeAssistant, reads: ReadRecorder) -> None:
        """Record the keys each listener reads into ``reads``; pace as the hub does."""
        self._hass = hass
        self._reads = reads
        self._pacing = hub_limits(hass).pacing
        # Pushed changes not shown yet, and when they will be.
        self._unshown: dict[str, Value] | None = None
        self._cancel_show: asyncio.TimerHandle | None = None
        self._last_shown = 0.0
        self._listeners: dict[object, tuple[CALLBACK_TYPE, StateReads | None]] = {}

    @callback
    def async_add(self, update_callback: CALLBACK_TYPE, context: Any) -> Callable[[], None]:
        """Pass pushes on to ``update_callback`` (see the module); returns the remove function."""
        token = object()
        reads = context if isinstance(context, StateReads) else None
        self._listeners[token] = (update_callback, reads)

        @callback
        def remove_listener() -> None:
            self._listeners.pop(token, None)

        return remove_listener

    @callback
    def async_call_recording(self, update_callback: CALLBACK_TYPE, reads: StateReads) -> None:
        """Call ``update_callback``, recording the keys it reads into ``reads``."""
        outer = self._reads.start(reads)
        try:
            update_callback()
        finally:
            self._reads.stop(outer)

    @callback
    def async_tell_unpaced(self) -> None:
        """Call the listeners without a ``StateReads`` context: they hear every push at once."""
        for update_callback, reads in list(self._listeners.values()):
            if reads is None:
                update_callback()

    @callback
    def async_pushed(self, changed: Mapping[str, Value]) -> None:
        """Show ``changed`` to the entities now, or merged with later changes when paced."""
        if self._unshown is not None:
            self._unshown.update(changed)
            return
        self._unshown = dict(changed)
        loop = self._hass.loop
        due = self._last_shown + self._pacing.interval
        if due <= loop.time():
            self._show_pushed()
        else:
            self._cancel_show = loop.call_at(due, self._show_pushed)

    @callback
    def _show_pushed(self) -> None:
        """Update the entities that read a key changed since their last update from pushes."""
        changed, self._unshown, self._cancel_show = self._unshown or {}, None, None
        self._last_shown = self._hass.loop.time()
        for update_callback, reads in list(self._listeners.values()):
            if reads is not None and reads.concerns(changed):
                self.async_call_recording(update_callback, reads)

    def forget_unshown(self) -> None:
        """Drop pushes waiting to be shown: the connection that sent them is gone."""
        if self._cancel_show is not None:
            self._cancel_show.cancel()
        self._unshown, self._cancel_show = None, None
