"""Hub-wide limits: connections made a few at a time, and the open file limit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import logging
import resource

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.hub_limits import (
    FILES_FOR_HOME_ASSISTANT,
    OPEN_FILES_ISSUE,
    async_appliance_added,
    async_appliance_removed,
    files_needed,
    hub_limits,
    raise_open_file_limit,
)

from .conftest import StartAppliance, wait_until


@pytest.fixture
def restore_open_file_limit() -> Iterator[tuple[int, int]]:
    """The limits before the test; the soft one is put back after it."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield before
    resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_the_soft_limit_is_raised_as_far_as_needed(
    restore_open_file_limit: tuple[int, int],
) -> None:
    _, hard = restore_open_file_limit
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit here is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    assert raise_open_file_limit(1100) == (1100, hard)
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (1100, hard)
    # Never lowered, and left alone when it is enough.
    assert raise_open_file_limit(500) == (1100, hard)
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (1100, hard)


def test_the_soft_limit_stops_at_the_hard_limit(
    restore_open_file_limit: tuple[int, int],
) -> None:
    _, hard = restore_open_file_limit
    if hard == resource.RLIM_INFINITY or hard > 1_000_000:
        pytest.skip("no hard limit to reach here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))

    assert raise_open_file_limit(hard + 100) == (hard, hard)


async def test_more_appliances_than_the_hard_limit_allows_raise_one_issue(
    hass: HomeAssistant,
    restore_open_file_limit: tuple[int, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One warning and one repair issue, gone when the appliances fit again."""
    _, hard = restore_open_file_limit
    if hard == resource.RLIM_INFINITY or hard > 100_000:
        pytest.skip("no hard limit to reach here")
    fitting = hard - FILES_FOR_HOME_ASSISTANT
    assert files_needed(fitting) == hard
    caplog.set_level(logging.WARNING)
    for index in range(fitting):
        async_appliance_added(hass, f"entry-{index}")
    assert ir.async_get(hass).async_get_issue(DOMAIN, OPEN_FILES_ISSUE) is None
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard

    for index in range(fitting, fitting + 3):
        async_appliance_added(hass, f"entry-{index}")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, OPEN_FILES_ISSUE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {
        "appliances": str(fitting + 1),
        "needed": str(hard + 1),
        "limit": str(hard),
    }
    warnings = [r for r in caplog.records if "open files" in r.getMessage()]
    assert len(warnings) == 1, "the log says it once, not once per appliance"

    for index in range(fitting, fitting + 3):
        async_appliance_removed(hass, f"entry-{index}")
    assert ir.async_get(hass).async_get_issue(DOMAIN, OPEN_FILES_ISSUE) is None


async def test_a_connection_waits_for_a_free_slot_before_it_starts(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """With every slot taken the set-up waits, and its timeouts have not started."""
    slots = asyncio.Semaphore(0)
    hub_limits(hass).connect_slots = slots
    appliance = await start_appliance(setup=False)
    server = appliance.appliance.module.server
    setup = hass.async_create_task(hass.config_entries.async_setup(appliance.entry.entry_id))
    await asyncio.sleep(0.3)
    assert appliance.entry.state in {ConfigEntryState.SETUP_IN_PROGRESS}
    assert server.session_count == 0

    slots.release()
    assert await setup
    await wait_until(hass, lambda: appliance.entry.state is ConfigEntryState.LOADED)
    assert server.session_count == 1
