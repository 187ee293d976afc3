"""When an appliance's BLE connection is let go, and when it goes back to the LAN.

Two parts of ``LiuzhouCoordinator``, each owned by it:

- ``BleOnDemand`` (PROTOCOL.md 11.6): a model connected on demand over BLE
  has its session closed after ``ON_DEMAND_IDLE_S`` without a push or a
  request ("parked": entities keep their values and stay available), and
  opened again for a request, every ``ON_DEMAND_POLL_S``, or when its
  advertisement says the state moved.
- ``LanRetry``: an appliance with both links, connected over BLE, tries the
  LAN every ``LAN_RETRY_S`` (or at once when zeroconf sees it) and switches
  to it when it answers.

Both work on the coordinator's connection (its lock, client and listeners):
``OnDemandOwner`` names what they use of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later

from .bluetooth import AdvertisementWatcher
from .connection_stats import ConnectionStats
from .const import DOMAIN
from .coordinator_pushes import PushFanout
from .coordinator_view import CoordinatorView
from .link.ble_advertisement import CHANGES_MODULO
from .link.client import ApplianceClient
from .link.declaration import BleConnection, Declaration
from .link.errors import ApplianceUnreachable, LinkError
from .link.reconnect import ReconnectLogic
from .links import LAN_RETRY_S, ON_DEMAND_IDLE_S, ON_DEMAND_POLL_S, LinkKind
from .pushed_state import ApplianceState

_LOGGER = logging.getLogger(__package__)


class OnDemandOwner(CoordinatorView, Protocol):
    """What ``BleOnDemand`` and ``LanRetry`` use of the coordinator that owns them.

    Its connection's own parts included: the lock that keeps one connection
    attempt at a time, opening and adopting a client, letting the session go.
    """

    @property
    def name(self) -> str:
        """The coordinator's name, in debug messages."""

    @property
    def host(self) -> str | None:
        """The LAN host, if the entry has one."""

    @property
    def link(self) -> LinkKind | None:
        """The link in use while connected."""

    @property
    def declaration(self) -> Declaration:
        """The connected appliance's declaration."""

    @property
    def client(self) -> ApplianceClient:
        """The client of the current (or last) session."""

    @property
    def session_open(self) -> bool:
        """Whether a session with the appliance is open now."""

    @property
    def stats(self) -> ConnectionStats:
        """The connection counters."""

    @property
    def advertisements(self) -> AdvertisementWatcher | None:
        """Follows a BLE appliance's advertisements."""

    @property
    def last_update_success(self) -> bool:
        """False while the appliance is unavailable."""

    @property
    def _closing(self) -> bool:
        """Whether the entry is being unloaded."""

    @property
    def _connect_lock(self) -> asyncio.Lock:
        """One connection attempt at a time."""

    @property
    def _reconnect(self) -> ReconnectLogic:
        """The reconnect loop."""

    @property
    def _pushes(self) -> PushFanout:
        """The push listeners and the changes not shown yet."""

    def async_wake_reconnect(self, *, lan: bool = False) -> None:
        """Retry now, not after the backoff."""

    def async_set_update_error(self, err: Exception) -> None:
        """Mark the data stale."""

    def async_set_updated_data(self, data: ApplianceState) -> None:
        """Show new data to every listener."""

    def _state(self) -> ApplianceState:
        """The client's current values."""

    async def _async_connect(self) -> None:
        """Open one connection, over the LAN if it answers, else over BLE."""

    async def _async_open_client(self, kind: LinkKind) -> ApplianceClient:
        """A connected client over ``kind``."""

    def _async_adopt(self, client: ApplianceClient, kind: LinkKind, started: float) -> None:
        """Make ``client`` the appliance's connection."""

    def _async_let_session_go(self) -> None:
        """Forget the open session on purpose."""

    def _drop_client_listeners(self) -> None:
        """Stop listening to the current client."""


class BleOnDemand:
    """Lets an idle on-demand BLE session go and opens it again when it is needed."""

    def __init__(self, coordinator: OnDemandOwner) -> None:
        """Nothing is parked and no timer runs until a connection is adopted."""
        self._coordinator = coordinator
        # Disconnected on purpose, entities kept.
        self.parked = False
        # What the advertisement's counter said when the session was let go.
        self._parked_changes = 0
        self.active = False  # a push or a request since the last idle check
        self._cancel_idle_check: CALLBACK_TYPE | None = None
        self._cancel_poll: CALLBACK_TYPE | None = None

    @property
    def allowed(self) -> bool:
        """Whether this connection may be let go while idle: BLE, and the model allows it.

        (Set-up starts following the advertisements right after the first connection.)
        """
        coordinator = self._coordinator
        return (
            coordinator.link is LinkKind.BLE
            and coordinator.declaration.ble_connection is BleConnection.ON_DEMAND
        )

    @callback
    def async_connected(self) -> None:
        """A session is being adopted: not parked any more, no timer left over."""
        self.parked = False
        self.async_cancel_timers()

    @callback
    def async_start_idle_checks(self) -> None:
        """The adopted session is on demand: look for idleness every ``ON_DEMAND_IDLE_S``."""
        if self.allowed:
            self.active = True
            self._cancel_idle_check = async_call_later(
                self._coordinator.hass, ON_DEMAND_IDLE_S, self._async_idle_check
            )

    @callback
    def async_cancel_timers(self) -> None:
        """Stop the idle check and the poll."""
        for cancel in (self._cancel_idle_check, self._cancel_poll):
            if cancel is not None:
                cancel()
        self._cancel_idle_check = self._cancel_poll = None

    @callback
    def _async_idle_check(self, _now: Any) -> None:
        """Every ``ON_DEMAND_IDLE_S`` while connected: let the connection go if nothing happened."""
        self._cancel_idle_check = None
        coordinator = self._coordinator
        if not coordinator.session_open or not self.allowed or coordinator._closing:
            return
        if self.active:
            self.active = False
            self._cancel_idle_check = async_call_later(
                coordinator.hass, ON_DEMAND_IDLE_S, self._async_idle_check
            )
            return
        coordinator.config_entry.async_create_background_task(
            coordinator.hass, self._async_park(), f"{DOMAIN} let go {coordinator.appliance_id}"
        )

    async def _async_park(self) -> None:
        """Close the idle session; the entities keep their values and stay available."""
        coordinator = self._coordinator
        async with coordinator._connect_lock:
            if (
                not coordinator.session_open
                or self.active
                or not self.allowed
                or coordinator._closing
            ):
                return
            client = coordinator.client
            coordinator._async_let_session_go()
            self.parked = True
            # What the advertisement's counter says while nothing changes (link.ble_advertisement).
            self._parked_changes = client.last_seq % CHANGES_MODULO
            coordinator.stats.parks += 1
            self._cancel_poll = async_call_later(
                coordinator.hass, ON_DEMAND_POLL_S, self._async_poll_due
            )
            _LOGGER.debug("%s: idle, letting the BLE connection go", coordinator.config_entry.title)
            # Under the lock: a request's reconnect waits until the link is really down.
            # A change meanwhile moves the counter: that advertisement is passed on later.
            await client.disconnect_when_idle()

    @callback
    def _async_poll_due(self, _now: Any) -> None:
        self._cancel_poll = None
        self.async_unpark_soon()

    @callback
    def async_advertised(self) -> None:
        """An advertisement was passed on: reconnect if it says the state moved."""
        coordinator = self._coordinator
        if not self.parked:
            coordinator.async_wake_reconnect()
            return
        watcher = coordinator.advertisements
        advertisement = watcher.advertisement if watcher else None
        moved = advertisement is not None and advertisement.changes != self._parked_changes
        if moved or not coordinator.last_update_success:  # changed, or back in range
            self.async_unpark_soon()

    @callback
    def async_unpark_soon(self) -> None:
        """Connect again in the background."""
        coordinator = self._coordinator
        coordinator.config_entry.async_create_background_task(
            coordinator.hass,
            self.async_unpark(),
            f"{DOMAIN} reconnect on demand {coordinator.appliance_id}",
        )

    async def async_unpark(self) -> bool:
        """Connect again (state moved, a request, the poll); a failure is a lost connection."""
        coordinator = self._coordinator
        if not self.parked:
            return coordinator.session_open
        try:
            await coordinator._async_connect()
        except LinkError as err:
            if self.parked and not coordinator._closing:
                self.parked = False
                self.async_cancel_timers()
                coordinator.async_set_update_error(ApplianceUnreachable(str(err)))
                coordinator._reconnect.connection_lost(err)
            return False
        coordinator.async_set_updated_data(coordinator._state())
        return True

    async def async_unpark_for_request(self) -> None:
        """A request needs the session: open it first (the request then raises if it failed)."""
        self._coordinator.stats.on_demand_connects += 1
        await self.async_unpark()


class LanRetry:
    """While connected over BLE with a LAN configured: back to the LAN once it answers."""

    def __init__(self, coordinator: OnDemandOwner) -> None:
        """No retry is scheduled until a BLE session is adopted."""
        self._coordinator = coordinator
        self._cancel: CALLBACK_TYPE | None = None

    @property
    def scheduled(self) -> bool:
        """Whether a try of the LAN is waiting for its time."""
        return self._cancel is not None

    @callback
    def async_schedule(self) -> None:
        """While on BLE with a LAN configured: try the LAN again in ``LAN_RETRY_S``."""
        self.async_cancel()
        coordinator = self._coordinator
        if coordinator.link is LinkKind.BLE and coordinator.host and not coordinator._closing:
            self._cancel = async_call_later(coordinator.hass, LAN_RETRY_S, self.async_due)

    @callback
    def async_cancel(self) -> None:
        """Forget the scheduled try, if any."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    @callback
    def async_due(self, _now: Any) -> None:
        """Try the LAN now, in the background."""
        self._cancel = None
        coordinator = self._coordinator
        coordinator.config_entry.async_create_background_task(
            coordinator.hass,
            self.async_try(),
            f"{DOMAIN} back to the LAN {coordinator.appliance_id}",
        )

    async def async_try(self) -> bool:
        """While connected over BLE: connect over the LAN and switch if it answers.

        The BLE session closes once the requests sent over it are answered
        (``ApplianceClient.disconnect_when_idle``): a write or command in flight
        during the switch is acknowledged or raised, never lost. True if the
        LAN is in use afterwards.
        """
        coordinator = self._coordinator
        async with coordinator._connect_lock:
            if (
                not coordinator.session_open
                or coordinator.link is not LinkKind.BLE
                or not coordinator.host
            ):
                return coordinator.link is LinkKind.LAN
            started = time.monotonic()
            try:
                client = await coordinator._async_open_client(LinkKind.LAN)
            except LinkError as err:
                _LOGGER.debug("%s: the LAN is still unreachable: %s", coordinator.name, err)
                self.async_schedule()
                return False
            if not coordinator.session_open or coordinator._closing:
                # BLE lost or unloading meanwhile
                await client.disconnect()
                return False
            old = coordinator.client
            coordinator._drop_client_listeners()
            coordinator._pushes.forget_unshown()
            coordinator._async_adopt(client, LinkKind.LAN, started)
            coordinator.stats.link_switches += 1
            _LOGGER.info(
                "%s: the LAN answers again; using it instead of BLE", coordinator.config_entry.title
            )
        coordinator.async_set_updated_data(coordinator._state())
        await old.disconnect_when_idle()
        return True
