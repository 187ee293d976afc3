"""Top-level test configuration.

Importing the integration here, before any ``hass`` fixture runs, makes Home
Assistant find it in this repository instead of its own testing config.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib.util
import sys
import types


def _stand_in_for_aiousbwatcher() -> None:
    """Let Home Assistant's usb integration load where aiousbwatcher is not installed.

    Our manifest depends on bluetooth_adapters -> bluetooth -> usb, and usb imports
    aiousbwatcher, which Home Assistant installs with usb but the test environments
    do not have. The stand-in watches nothing: no test plugs a USB device in.
    """
    if importlib.util.find_spec("aiousbwatcher") is not None:
        return
    module = types.ModuleType("aiousbwatcher")

    class InotifyNotAvailableError(Exception):
        """As aiousbwatcher's."""

    class AIOUSBWatcher:
        """A watcher that never reports a change."""

        def async_register_callback(self, _callback: Callable[[], None]) -> Callable[[], None]:
            return lambda: None

        def async_start(self) -> Callable[[], None]:
            return lambda: None

    module.AIOUSBWatcher = AIOUSBWatcher  # type: ignore[attr-defined]
    module.InotifyNotAvailableError = InotifyNotAvailableError  # type: ignore[attr-defined]
    sys.modules["aiousbwatcher"] = module


_stand_in_for_aiousbwatcher()

import custom_components.liuzhou_appliances  # noqa: E402, F401
