"""The neural model files the integration ships (``models/``), each loaded once per run.

``load_model`` reads and checks a whole file, which blocks: it runs in the
executor, once per file for every appliance that uses it (washers and
dishwashers share ``wet_cycle``, ACs ``room_thermal``, fridges
``fridge_fault``). A failed load raises ``ModelError`` to each caller and is
tried again on the next call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .neural import Model, load_model

MODELS_DIR: Final = Path(__file__).parent / "models"


@dataclass
class _Loaded:
    """One file's model: None until loaded."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    model: Model | None = None


_LOADED: HassKey[dict[Path, _Loaded]] = HassKey("liuzhou_appliances_models")


async def async_shipped_model(hass: HomeAssistant, path: Path) -> Model:
    """The model in ``path``, loaded in the executor on first use; raises ``ModelError``."""
    loaded = hass.data.setdefault(_LOADED, {}).setdefault(path, _Loaded())
    async with loaded.lock:
        if loaded.model is None:
            loaded.model = await hass.async_add_executor_job(load_model, path)
        return loaded.model
