"""The voice domains: each adds its intent handlers here (and its sentence files).

A domain module (``wet_cycle.py`` ...) defines ``HANDLERS`` (intent handler
instances) and may define ``generated_lists(appliances, language) -> {list name: hassil list}``
for lists that depend on the appliances present (ranges from declared bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.helpers import intent

from . import ac, energy, fridge, wet_cycle
from .targets import Appliance

# (appliances, language directory such as "zh-cn") -> {list name: hassil list}
type ListsFactory = Callable[[list[Appliance], str], Mapping[str, Any]]

HANDLERS: Final[tuple[intent.IntentHandler, ...]] = (
    *wet_cycle.HANDLERS,
    *fridge.HANDLERS,
    *ac.HANDLERS,
    *energy.HANDLERS,
)

# Generated hassil lists per domain; the appliance names are common (install.py).
LIST_FACTORIES: Final[tuple[ListsFactory, ...]] = ()
