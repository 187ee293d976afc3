"""The entities that show a runtime object's state, told when it may have changed."""

from __future__ import annotations

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .runtime_state import async_keep_runtime


class EntityListeners:
    """Listeners of a runtime object's state; each change is also kept as the state to restore."""

    hass: HomeAssistant

    def __init__(self) -> None:
        self._listeners: list[CALLBACK_TYPE] = []

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` at each ``async_notify``; returns the function that stops it."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def async_notify(self) -> None:
        """Tell the entities to show the present state."""
        for update in list(self._listeners):
            update()
        async_keep_runtime(self.hass)
