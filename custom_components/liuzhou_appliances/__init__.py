"""The Liuzhou Appliances integration.

Home Assistant's entry points live in ``entry_points.py``. They are imported here only
when Home Assistant is already loaded (it always is before it loads an
integration), so ``firmware_bridge`` can import the ``link`` protocol package
from this folder on an appliance's network module without Home Assistant.
"""

from __future__ import annotations

import sys
from typing import Any

if "homeassistant" in sys.modules:
    from .entry_points import (  # noqa: F401
        CONFIG_SCHEMA,
        async_remove_config_entry_device,
        async_remove_entry,
        async_setup,
        async_setup_entry,
        async_unload_entry,
    )


def __getattr__(name: str) -> Any:
    """Load the Home Assistant entry points on first use if imported early."""
    if name.startswith("async_") or name == "CONFIG_SCHEMA":
        from . import entry_points  # pylint: disable=import-outside-toplevel

        return getattr(entry_points, name)
    raise AttributeError(name)
