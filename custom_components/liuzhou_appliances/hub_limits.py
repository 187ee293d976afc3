"""What one hub holds for all its appliances: connections made at once, pushes, open files.

**Connections made at once.** Home Assistant sets up every config entry at
the same moment when it starts; with hundreds of appliances each connection's
handshake, describe and read then waits behind all the others, and its
per-step timeouts (``ApplianceClient.request_timeout``) expire under the
start-up's own load. ``CONNECTS_AT_ONCE`` connections are made at a time, the
others wait their turn before their timeouts start, so start-up and a
reconnect wave after a network outage are spread over a short window instead
of a storm. Pairing is a person's action and is not held back.

**Pushes under overload.** When pushes arrive faster than Home Assistant can
show them, every step of everything else (a set-up, a command) waits behind
them. ``PushPacing`` watches the event loop's lag and, while it is high, makes
each appliance's entities wait a growing interval between two updates from
pushes; what arrives meanwhile is merged (the latest value of each key). With
the loop calm the interval is zero: a push is shown at once.

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


# PushPacing: how often the loop's lag is looked at, and what counts as busy and calm (s).
PACING_CHECK_S: Final = 0.25
PACING_BUSY_LAG_S: Final = 0.05
PACING_CALM_LAG_S: Final = 0.01
# Pacing starts after this many late checks in a row (0.75 s of lateness): one slow
# step (an integration's set-up, a garbage collection) is not an overload, and
# holding pushes back would only make the entities late.
PACING_LATE_CHECKS: Final = 3
PACING_FIRST_S: Final = 0.5
PACING_MAX_S: Final = 10.0


class PushPacing:
    """The least time between two updates of one appliance's entities from pushes (s).

    Zero while the loop is calm. A check (every ``PACING_CHECK_S``) finds
    the loop late when it is late by more than ``PACING_BUSY_LAG_S``. After
    ``PACING_LATE_CHECKS`` late checks in a row the interval becomes
    ``PACING_FIRST_S``; while it is set, each late check doubles it (up to
    ``PACING_MAX_S``), and each that finds the loop late by less than
    ``PACING_CALM_LAG_S`` halves it; below a quarter of ``PACING_FIRST_S`` it
    is zero again.
    """

    def __init__(self) -> None:
        """Start calm."""
        self.interval = 0.0
        self._late_checks = 0
        self._task: asyncio.Task[None] | None = None

    def adapt(self, lag: float) -> None:
        """Follow one measured lateness of the loop (s)."""
        if lag > PACING_BUSY_LAG_S:
            self._late_checks += 1
            if self.interval:
                self.interval = min(PACING_MAX_S, 2 * self.interval)
            elif self._late_checks >= PACING_LATE_CHECKS:
                self.interval = PACING_FIRST_S
            return
        self._late_checks = 0
        if lag < PACING_CALM_LAG_S and self.interval:
            self.interval = 0.0 if self.interval < PACING_FIRST_S / 4 else self.interval / 2

    @callback
    def async_start(self, hass: HomeAssistant) -> None:
        """Watch the loop while appliances are set up."""
        if self._task is None:
            self._task = hass.async_create_background_task(
                self._watch(), f"{DOMAIN} push pacing", eager_start=False
            )

    @callback
    def async_stop(self) -> None:
        """Stop watching (no appliance left); pushes are shown at once again."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.interval = 0.0
        self._late_checks = 0

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + PACING_CHECK_S
            await asyncio.sleep(PACING_CHECK_S)
            self.adapt(loop.time() - due)


@dataclass
class HubLimits:
    """The hub-wide state behind the limits."""

    connect_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CONNECTS_AT_ONCE)
    )
    pacing: PushPacing = field(default_factory=PushPacing)
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
    limits.pacing.async_start(hass)
    _async_check_open_files(hass, limits)


@callback
def async_appliance_removed(hass: HomeAssistant, entry_id: str) -> None:
    """An appliance entry was unloaded."""
    limits = hub_limits(hass)
    limits.appliances.discard(entry_id)
    if not limits.appliances:
        limits.pacing.async_stop()
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
