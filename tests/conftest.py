"""Top-level test configuration.

Importing the integration here, before any ``hass`` fixture runs, makes Home
Assistant find it in this repository instead of its own testing config.
"""

from __future__ import annotations

import custom_components.liuzhou_appliances  # noqa: F401
