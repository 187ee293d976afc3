"""Top-level test configuration.

Importing the integration here, before any ``hass`` fixture runs, makes Home
Assistant find it in this repository instead of its own testing config.
"""

from __future__ import annotations

from collections.abc import Iterator
import gc
import importlib
from unittest.mock import Mock

import pytest
import zeroconf

import custom_components.liuzhou_appliances  # noqa: F401

# Functions that Home Assistant's test plugin replaces with mocks for the whole session and
# that Home Assistant calls with the test's ``hass`` (module, attribute).
_SESSION_MOCKS_CALLED_WITH_HASS = (
    ("homeassistant.components.network", "async_get_loaded_adapters"),
    ("homeassistant.helpers.aiohttp_client", "_async_make_resolver"),
)

_ZEROCONF_CONSTRUCTORS = ("__new__", "__init__")


@pytest.fixture(autouse=True)
def _zeroconf_constructors_restored() -> Iterator[None]:
    """Give ``zeroconf.Zeroconf`` its own constructors back after each test.

    Home Assistant's zeroconf set-up (mocked or not) replaces them for the whole
    process so that every new Zeroconf is Home Assistant's shared one; an
    appliance's own Zeroconf in a later test (simulators, the conformance kit)
    would then fail outside Home Assistant.
    """
    own = {name: zeroconf.Zeroconf.__dict__.get(name) for name in _ZEROCONF_CONSTRUCTORS}
    yield
    for name, value in own.items():
        if zeroconf.Zeroconf.__dict__.get(name) is value:
            continue
        if value is not None:
            setattr(zeroconf.Zeroconf, name, value)
        else:
            # Deleting an assigned __new__ leaves the type calling object.__new__ with the
            # constructor's arguments, which it refuses; a plain one takes its place instead.
            setattr(zeroconf.Zeroconf, name, _plain_new)


@pytest.fixture(autouse=True)
def _session_mocks_forget_their_calls() -> Iterator[None]:
    """Clear the calls recorded by the test plugin's session-wide mocks after each test.

    Each recorded call holds the test's ``hass``, and with it everything that test set up
    (entities, config entries, the mocks of its own fixtures): kept for the whole session,
    they made the garbage collector's full passes, which the plugin runs before every
    module, take seconds each late in the run. Nothing reads these calls.
    """
    yield
    for module_name, name in _SESSION_MOCKS_CALLED_WITH_HASS:
        replaced = getattr(importlib.import_module(module_name), name, None)
        if isinstance(replaced, Mock):
            replaced.reset_mock()


@pytest.fixture(autouse=True, scope="module")
def garbage_collection() -> None:
    """In place of the test plugin's fixture: collect before each module, then freeze the rest.

    The plugin for Home Assistant 2025.4.4 only collects, so each of these collections went
    through every object the session holds (the modules of Home Assistant and of the test
    libraries, ~600,000 objects, about 0.7 s each time); the plugin for later releases also
    freezes them, as here, so that each collection looks only at what was made since.
    """
    gc.collect()
    gc.freeze()


def _plain_new(cls: type[zeroconf.Zeroconf], *_args: object, **_kwargs: object) -> object:
    return object.__new__(cls)
