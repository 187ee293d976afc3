"""What one hub holds for all its appliances: connections made at once, and open files.

**Connections made at once.** Home Assistant sets up every config entry at
the same moment when it starts; with hundreds of appliances each connection's
handshake, describe and read then waits behind all the others, and its
per-step timeouts (``ApplianceClient.request_timeout``) expire under the
start-up's own load. ``CONNECTS_AT_ONCE`` connections are made at a time, the
others wait their turn before their timeouts start, so start-up and a
reconnect wave after a network outage are spread over a short window instead
of a storm. Pairing is a person's action and is not held back.

**Open files.** Each connected appliance holds one socket, hence one file
descriptor, and a process's soft limit is often 1,024. Set-up raises the soft
limit toward the hard limit as far as the appliances need; if even the hard
limit is too low, a repair issue says so once (and the log says it once),
instead of every connection failing with "Too many open files".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import logging
import resource
from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, HOUSEHOLD_UNIQUE_ID

_LOGGER: Final = logging.getLogger(__package__)

# Each connection makes about six round trips; 16 at once keep the loop responsive
# on a two-core hub while 4,000 appliances connect in well under a minute.
CONNECTS_AT_ONCE: Final = 16
# Descriptors Home Assistant needs besides our sockets (database, integrations,
# frontend connections); a typical installation uses 200-400.
FILES_FOR_HOME_ASSISTANT: Final = 512
FILES_PER_APPLIANCE: Final = 1
OPEN_FILES_ISSUE: Final = "open_file_limit"


@dataclass
class HubLimits:
    """The hub-wide state behind both limits."""

    connect_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CONNECTS_AT_ONCE)
    )
    appliances: set[str] = field(default_factory=set)
    warned: bool = False


_LIMITS: Final = HassKey[HubLimits](f"{DOMAIN}_hub_limits")


def hub_limits(hass: HomeAssistant) -> HubLimits:
    """This hub's limits, made on first use."""
    limits = hass.data.get(_LIMITS)
    if limits is None:
        limits = hass.data[_LIMITS] = HubLimits()
    return limits


def connect_slot(hass: HomeAssistant) -> asyncio.Semaphore:
    """Hold this while making a connection (``async with``)."""
    return hub_limits(hass).connect_slots


def files_needed(appliances: int) -> int:
    """Open files a hub with ``appliances`` connected appliances needs."""
    return FILES_FOR_HOME_ASSISTANT + FILES_PER_APPLIANCE * appliances


def raise_open_file_limit(needed: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to ``needed`` if it is lower, up to the hard limit.

    Returns (soft, hard) after; ``resource.RLIM_INFINITY`` stands for no limit.
    A limit the process may not change is left as it is.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft, hard
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target <= soft:
        return soft, hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as err:  # a sandbox may forbid it
        _LOGGER.debug("cannot raise the open file limit to %d: %s", target, err)
        return soft, hard
    _LOGGER.info("raised the open file limit from %d to %d for the appliances", soft, target)
    return target, hard


@callback
def async_appliance_added(hass: HomeAssistant, entry_id: str) -> None:
    """An appliance entry is being set up: make room for its connection, or say why not."""
    limits = hub_limits(hass)
    limits.appliances.add(entry_id)
    _async_check_open_files(hass, limits)


@callback
def async_appliance_removed(hass: HomeAssistant, entry_id: str) -> None:
    """An appliance entry was unloaded."""
    limits = hub_limits(hass)
    limits.appliances.discard(entry_id)
    _async_check_open_files(hass, limits)


@callback
def _async_check_open_files(hass: HomeAssistant, limits: HubLimits) -> None:
    count = len(limits.appliances)
    needed = files_needed(count)
    soft, hard = raise_open_file_limit(needed)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        if limits.warned:
            limits.warned = False
            ir.async_delete_issue(hass, DOMAIN, OPEN_FILES_ISSUE)
        return
    if limits.warned:
        return
    limits.warned = True
    # Entries are set up one by one: say how many are configured, not how many came so far.
    count = max(
        count,
        sum(
            1
            for e in hass.config_entries.async_entries(DOMAIN)
            if e.unique_id != HOUSEHOLD_UNIQUE_ID and not e.disabled_by
        ),
    )
    needed = files_needed(count)
    _LOGGER.warning(
        "%d appliances need about %d open files, but this process may open only %d "
        "(hard limit %s); some appliances will not connect. Raise the limit "
        "(for example LimitNOFILE= in the service, or ulimit -n) and restart Home Assistant",
        count,
        needed,
        soft,
        "unlimited" if hard == resource.RLIM_INFINITY else hard,
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        OPEN_FILES_ISSUE,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=OPEN_FILES_ISSUE,
        translation_placeholders={
            "appliances": str(count),
            "needed": str(needed),
            "limit": str(soft),
        },
    )
