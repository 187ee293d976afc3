"""Helpers for the entity platform tests: load one platform, wait for pushed state."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from typing import Protocol
from unittest.mock import PropertyMock, patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from custom_components.liuzhou_appliances.const import DOMAIN


@contextlib.contextmanager
def only_platform(platform: Platform, *, enable_all: bool = False) -> Iterator[None]:
    """Set up only ``platform`` (snapshots hold one platform each).

    ``enable_all`` also registers the entities that are disabled by default.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            patch("custom_components.liuzhou_appliances.entry_points.PLATFORMS", [platform])
        )
        if enable_all:
            stack.enter_context(
                patch(
                    "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
                    new_callable=PropertyMock,
                    return_value=True,
                )
            )
        yield


def entity_id(hass: HomeAssistant, platform: str, appliance_id: str, key: str) -> str:
    """The entity id of ``<appliance_id>_<key>`` on ``platform``."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{appliance_id}_{key}")
    assert found is not None, f"no {platform} entity for {key}"
    return found


# Pushed state crosses a real TCP connection; this is far more than it needs.
STATE_WAIT_S = 5.0


class StatePredicate(Protocol):
    """A check of a state.

    A protocol rather than a Callable, so that mypy accepts lambdas that bind loop values
    as default arguments.
    """

    def __call__(self, state: State, /) -> bool: ...


async def wait_for_state(hass: HomeAssistant, entity: str, predicate: StatePredicate) -> State:
    """Wait until the pushed state of ``entity`` satisfies ``predicate``; return it."""
    state: State | None = None
    try:
        async with asyncio.timeout(STATE_WAIT_S):
            while True:
                await hass.async_block_till_done()
                state = hass.states.get(entity)
                if state is not None and predicate(state):
                    return state
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{entity} never reached the expected state; last: {state}") from None
