"""Saving a Store within a delay while changes keep coming.

Home Assistant's ``Store.async_delay_save`` puts a pending save off to the
latest call's delay, so a value that changes every few seconds (a countdown, an
energy meter) would be written only at stop. ``SaveWithin`` asks for a save at
most once a ``delay``: what is written is at most ``delay`` seconds old, and a
stop still writes what is pending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store


class SaveWithin:
    """Ask ``store`` to save ``data_func()`` within ``delay`` seconds of a change."""

    def __init__(
        self,
        hass: HomeAssistant,
        store: Store[Any],
        data_func: Callable[[], Any],
        delay: float,
    ) -> None:
        """Nothing asked for yet."""
        self._hass = hass
        self._store = store
        self._data_func = data_func
        self._delay = delay
        self._due = float("-inf")  # loop time from which a new save may be asked for

    @callback
    def changed(self, *, now_too: bool = False) -> None:
        """Something changed: ask for a save unless one was asked for within the delay.

        ``now_too``: ask even so (a change that must not wait behind the window).
        """
        loop_now = self._hass.loop.time()
        if now_too or loop_now >= self._due:
            self._store.async_delay_save(self._data_func, self._delay)
            self._due = loop_now + self._delay
