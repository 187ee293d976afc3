"""One appliance's connection in Home Assistant: pushed state, availability, commands.

The appliance pushes every change (iot_class local_push), so nothing polls.
A lost connection makes every entity unavailable until ``link.reconnect``
gets it back (backoff as ESPHome's, woken at once when zeroconf or Bluetooth
sees the appliance again, except while no Bluetooth proxy has a free
connection); this module keeps only the Home Assistant side of that:
connecting and adopting a client (LAN first, else BLE), availability,
reauthentication and the reconnect. ``LiuzhouCoordinator`` is the one object
entities and platforms use; it owns its parts, each in its own module:

- coordinator_commands.py: writes, commands and panel requests, and the
  translated errors of those and of a refresh;
- coordinator_on_demand.py: letting an idle on-demand BLE session go and
  opening it again; going back from BLE to the LAN;
- coordinator_pushes.py: which listeners hear a push, and when;
- coordinator_issues.py: repair issues (unreachable, no connection slot, faults);
- coordinator_firmware.py: following new firmware or another declaration;
- connection_stats.py: the counters diagnostics show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
import contextlib
import logging
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .bluetooth import AdvertisementWatcher, OutOfConnectionSlots
from .connection_stats import ConnectionStats
from .const import (
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEEPALIVE_INTERVAL,
    CONF_KEY,
    DEFAULT_KEEPALIVE_INTERVAL,
    DOMAIN,
    MANUFACTURER,
)
from .coordinator_commands import (
    ApplianceRequests,
    async_connect_error,
    refresh_error,
    unavailable_error,
)
from .coordinator_firmware import async_follow_appliance
from .coordinator_issues import ApplianceIssues
from .coordinator_on_demand import BleOnDemand, LanRetry
from .coordinator_pushes import PushFanout
from .hub_limits import connect_slot
from .invalid_values import InvalidValues
from .link.client import ApplianceClient
from .link.codec import HelloInfo
from .link.declaration import Declaration
from .link.errors import (
    ApplianceUnreachable,
    LinkError,
    TransportError,
)
from .link.model import Value
from .link.reconnect import ReconnectLogic
from .links import ApplianceLinks, LinkKind
from .pushed_state import ApplianceState, ReadRecorder, StateReads

_LOGGER = logging.getLogger(__package__)


def _discovery_helps(err: Exception) -> bool:
    """Whether seeing the appliance again can end the failure ``err`` (else: keep the backoff).

    A Bluetooth proxy without a free connection stays full however often the
    appliance advertises (every second or so): waking at each advertisement
    would only hammer the proxies. Anything else may have ended with the
    appliance's return, as a zeroconf announcement or advertisement tells.
    """
    return not isinstance(err, OutOfConnectionSlots)


class LiuzhouCoordinator(DataUpdateCoordinator[ApplianceState]):
    """Keeps one connection to one appliance and its current state.

    A push reaches only the listeners it concerns (``pushed_state.py``):
    entities listen with a ``StateReads`` as their context and hear a push
    only when it changed a key they read; other listeners hear every push.
    Connecting, reconnecting and losing the connection reach everyone.
    """

    # Only the entry's data, options and title are read here; its runtime data
    # (which holds this coordinator) is typed in runtime_data.py, which imports this.
    config_entry: ConfigEntry[Any]
    client: ApplianceClient
    declaration: Declaration
    hello: HelloInfo

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Prepare the connection; nothing runs until the first refresh."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.data[CONF_APPLIANCE_ID]}",
            update_interval=None,
        )
        self.appliance_id: str = entry.data[CONF_APPLIANCE_ID]
        # The link in use while connected (links.py: the LAN first, else BLE).
        self.link: LinkKind | None = None
        # Back to the LAN from BLE (coordinator_on_demand.py).
        self._lan_retry = LanRetry(self)
        # One connection attempt at a time: the reconnect loop's, or a try of the LAN.
        self._connect_lock = asyncio.Lock()
        # Connect-on-demand over BLE (links.py, coordinator_on_demand.py).
        self._ble = BleOnDemand(self)
        # Follows a BLE appliance's advertisements (started by async_watch_bluetooth).
        self.advertisements: AdvertisementWatcher | None = None
        self._keepalive = float(
            entry.options.get(CONF_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_INTERVAL)
        )
        self.stats = ConnectionStats()
        # The type in the server's language, shown as the device's model (set by set-up).
        self.type_name: str | None = None
        self._connected = False
        self._closing = False
        self._client_unsubs: list[CALLBACK_TYPE] = []
        self._client_hooks: list[Callable[[ApplianceClient], CALLBACK_TYPE]] = []
        self._reconnect = ReconnectLogic(
            name=entry.title,
            address=self.links.where(),
            connect=self._async_reconnect_once,
            on_connected=self._async_reconnected,
            on_key_rejected=self._async_key_rejected,
            on_failure=self._reconnect_failed,
            discovery_helps=_discovery_helps,
            logger=_LOGGER,
            create_task=self._create_reconnect_task,
            task_name=f"{DOMAIN} reconnect {self.appliance_id}",
        )
        # Records which keys each entity reads (see pushed_state.py).
        self.reads = ReadRecorder()
        # Unreachable, no connection slot, faults and supplies (coordinator_issues.py).
        self._issues = ApplianceIssues(self, entry)
        # Who hears the pushes, and when (coordinator_pushes.py).
        self._pushes = PushFanout(hass, self.reads)
        # Values the appliance reports against its own declaration (client.py drops them).
        self._invalid = InvalidValues(hass, lambda: self._issues.owner)
        self._requests = ApplianceRequests(self, self._async_open_for_request)

    # --- connection ------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the appliance can be used now: a session is open, or it opens on demand.

        An on-demand BLE appliance let go while idle (``parked``) counts as
        connected: its entities keep their values and a request reconnects.
        """
        return self._connected or self._ble.parked

    @property
    def session_open(self) -> bool:
        """Whether a session with the appliance is open now."""
        return self._connected

    @property
    def parked(self) -> bool:
        """Whether the hub let an idle on-demand BLE appliance's connection go."""
        return self._ble.parked

    @property
    def links(self) -> ApplianceLinks:
        """The links the entry names now (discovery may add one without a reload)."""
        return ApplianceLinks.from_entry_data(self.config_entry.data)

    @property
    def host(self) -> str | None:
        """The LAN host, if the entry has one."""
        return self.links.host

    @property
    def port(self) -> int:
        """The LAN port."""
        return self.links.port

    @property
    def address(self) -> str | None:
        """The Bluetooth address, if the entry has one."""
        return self.links.address

    @property
    def where(self) -> str:
        """Where the appliance is reached now, or every link when not connected."""
        return self.links.where(self.link)

    @property
    def device_info(self) -> DeviceInfo:
        """The device registry entry of this appliance.

        Home Assistant shows "model (model id)": the translated type with the
        model code, e.g. "Air conditioner (SIM-KFR-35GW)"; the appliance id is
        the serial number. The name is the entry's title, chosen when pairing.
        """
        return DeviceInfo(
            identifiers={(DOMAIN, self.appliance_id)},
            manufacturer=self.declaration.manufacturer or MANUFACTURER,
            model=self.type_name or self.hello.model,
            model_id=self.hello.model,
            serial_number=self.appliance_id,
            name=self.config_entry.title,
            sw_version=self.hello.firmware,
        )

    async def _async_update_data(self) -> ApplianceState:
        """Connect on the first refresh; later refreshes re-read the state."""
        if self._ble.parked:
            await self._ble.async_unpark_for_request()
        if self._connected:
            self._ble.active = True
            try:
                await self.client.refresh()
            except LinkError as err:
                raise refresh_error(self.config_entry.title) from err
            return self._state()
        try:
            await self._async_connect()
        except LinkError as err:
            raise await async_connect_error(self.hass, self.config_entry.title, err) from err
        return self._state()

    @property
    def values(self) -> Mapping[str, Value]:
        """The current values (capability key to value); empty before the first connection."""
        data = self.data
        return data if data is not None else {}

    def _state(self) -> ApplianceState:
        """The client's current values, as the entities read them."""
        return ApplianceState(self.client.state, self.reads)

    @callback
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> Callable[[], None]:
        """Listen for updates; with a ``StateReads`` context, only for pushes that concern it."""
        remove = super().async_add_listener(update_callback, context)
        remove_push = self._pushes.async_add(update_callback, context)

        @callback
        def remove_listener() -> None:
            remove_push()
            remove()

        return remove_listener

    @callback
    def async_call_recording(self, update_callback: CALLBACK_TYPE, reads: StateReads) -> None:
        """Call ``update_callback``, recording the keys it reads into ``reads``."""
        self._pushes.async_call_recording(update_callback, reads)

    async def _async_connect(self) -> None:
        """Open one connection, over the LAN if it answers, else over BLE.

        Raises LinkError or ApplianceUnreachable (the last link's failure);
        OutOfConnectionSlots (an ApplianceUnreachable) when no Bluetooth adapter
        or proxy in range has a free connection, after raising its issue.
        """
        async with self._connect_lock:
            if self._closing:
                raise ApplianceUnreachable("the entry is being unloaded")
            if self._connected:  # a try of the LAN connected meanwhile
                return
            started = time.monotonic()
            kinds = self.links.kinds
            for kind in kinds:
                try:
                    client = await self._async_open_client(kind)
                except TransportError as err:
                    if kind is kinds[-1]:
                        raise
                    _LOGGER.debug(
                        "%s: %s unreachable (%s); trying %s", self.name, kind, err, kinds[-1]
                    )
                    continue
                self._async_adopt(client, kind, started)
                return

    async def _async_open_client(self, kind: LinkKind) -> ApplianceClient:
        """A connected client over ``kind``; raises LinkError or ApplianceUnreachable."""
        self.stats.connect_attempts += 1
        links = self.links
        # Read from the entry at each attempt: a pairing flow that replaced the key
        # updates the entry before its reload, and the reconnect must not lose that race.
        data = self.config_entry.data
        client = ApplianceClient(
            links.host or "",
            links.port,
            bytes.fromhex(data[CONF_KEY]),
            hub_id=data[CONF_HUB_ID],
            keepalive_interval=self._keepalive,
            on_invalid_value=self._invalid.handle,
            open_transport=links.opener(self.hass, kind, self.config_entry.title),
        )
        self._invalid.rejected_keys = set()
        try:
            async with connect_slot(self.hass):
                await client.connect()
        except TransportError as err:
            await client.disconnect()
            if isinstance(err, OutOfConnectionSlots):
                # Only the user can free a connection or add a proxy: say so in Repairs.
                self._issues.async_no_connection_slot()
            raise
        except LinkError as err:
            await client.disconnect()
            if client.hello is not None and client.hello.appliance_id != self.appliance_id:
                # Another appliance answers at this address (DHCP reshuffle); it cannot
                # know our key. Not a reason to re-pair: wait for ours to reappear.
                raise ApplianceUnreachable(
                    f"{links.where(kind)} is now {client.hello.appliance_id}"
                ) from err
            raise
        except BaseException:
            await client.disconnect()
            raise
        if client.hello is None or client.hello.appliance_id != self.appliance_id:
            found = client.hello.appliance_id if client.hello else "nothing"
            await client.disconnect()
            raise ApplianceUnreachable(f"{links.where(kind)} is {found}, not {self.appliance_id}")
        return client

    @callback
    def _async_adopt(self, client: ApplianceClient, kind: LinkKind, started: float) -> None:
        """Make ``client`` (connected over ``kind``) the appliance's connection."""
        assert client.hello is not None  # set by connect()
        assert client.declaration is not None
        before = (self.hello, self.declaration) if self.stats.connects else None
        self.client = client
        self.link = kind
        self._ble.async_connected()
        self.hello = client.hello
        self.declaration = client.declaration
        self._keep_last_valid_values(client)
        self._connected = True
        self.stats.connects += 1
        self.stats.connect_duration_s = round(time.monotonic() - started, 4)
        self.stats.last_connected = dt_util.utcnow().isoformat()
        self._client_unsubs = [
            client.add_state_listener(self._handle_push),
            client.add_disconnect_listener(self._handle_disconnect),
            *(hook(client) for hook in self._client_hooks),
        ]
        self._issues.async_connection_restored()
        if before is not None:
            async_follow_appliance(self, *before)
        self._lan_retry.async_schedule()
        self._ble.async_start_idle_checks()

    @callback
    def _async_let_session_go(self) -> None:
        """Forget the open session on purpose (parked): no listener, no pending push or retry."""
        self._drop_client_listeners()
        self._pushes.forget_unshown()
        self._lan_retry.async_cancel()
        self._connected = False
        self.link = None

    async def async_try_lan(self) -> bool:
        """While connected over BLE: connect over the LAN and switch if it answers.

        The BLE session closes once the requests sent over it are answered
        (``ApplianceClient.disconnect_when_idle``): a write or command in flight
        during the switch is acknowledged or raised, never lost. True if the
        LAN is in use afterwards.
        """
        return await self._lan_retry.async_try()

    def _keep_last_valid_values(self, client: ApplianceClient) -> None:
        """Values refused in the first read keep what the entities showed, if still valid."""
        previous = self.values
        for key in self._invalid.rejected_keys - set(client.state):
            if key in previous:
                with contextlib.suppress(LinkError):
                    client.state[key] = self.declaration.validate_reported(key, previous[key])

    @callback
    def _handle_push(self, changed: Mapping[str, Value]) -> None:
        """A pushed `changed` message: the state at once, the entities now or a little later.

        ``data`` and ``values`` take the change at once, so decisions (energy
        control, handing settings back) always see the latest state, and so do
        listeners without a ``StateReads`` context. Repair issues are looked at
        only when a key they come from changed. The entities are updated when
        ``PushPacing`` allows (at once unless the event loop is late); changes
        arriving meanwhile are merged, so each entity is written once for them.
        """
        self.stats.pushes += 1
        self._ble.active = True
        self.data = self._state()
        self._pushes.async_tell_unpaced()
        self._issues.async_pushed(changed)
        self._pushes.async_pushed(changed)

    @callback
    def _handle_disconnect(self, error: Exception | None) -> None:
        """The connection ended; mark everything unavailable and start reconnecting.

        Not called for our own disconnect: async_close drops the listeners first.
        """
        self._connected = False
        lost = self.link
        self.link = None
        self._lan_retry.async_cancel()
        self._drop_client_listeners()
        self._pushes.forget_unshown()
        self.stats.disconnects += 1
        self.stats.last_disconnected = dt_util.utcnow().isoformat()
        self.stats.last_error = repr(error) if error else None
        self._reconnect.name = self.config_entry.title
        self._reconnect.address = self.links.where(lost)
        self.async_set_update_error(ApplianceUnreachable(str(error or "connection closed")))
        self._issues.async_connection_lost()
        self._reconnect.connection_lost(error)
        if len(self.links.kinds) > 1:
            # The other link may answer now: no reason to wait out the first backoff.
            self._reconnect.wake()

    @callback
    def async_set_update_error(self, err: Exception) -> None:
        """Mark the data stale; logged once by the caller at info level, not as an error."""
        self.last_exception = err
        if self.last_update_success:
            self.last_update_success = False
            self.async_update_listeners()

    def _drop_client_listeners(self) -> None:
        for unsub in self._client_unsubs:
            unsub()
        self._client_unsubs = []

    def _create_reconnect_task(
        self, coro: Coroutine[Any, Any, None], name: str
    ) -> asyncio.Task[None]:
        return self.config_entry.async_create_background_task(self.hass, coro, name)

    @callback
    def async_watch_bluetooth(self) -> CALLBACK_TYPE | None:
        """Follow a BLE appliance's advertisements; returns the stop function (None: LAN).

        An advertisement wakes the reconnect; when Home Assistant's Bluetooth stops
        hearing the appliance while it is disconnected, its entities go unavailable
        (a connected appliance may stop advertising: that is not a loss).
        """
        if self.address is None:
            return None
        self.advertisements = AdvertisementWatcher(
            self.hass, self.address, self._ble.async_advertised, self._async_not_advertising
        )
        return self.advertisements.async_start()

    @callback
    def _async_not_advertising(self) -> None:
        if not self._connected:
            self.async_set_update_error(ApplianceUnreachable(f"{self.where} is not advertising"))

    @callback
    def async_wake_reconnect(self, *, lan: bool = False) -> None:
        """Zeroconf (``lan``) or Bluetooth saw the appliance: retry now, not after the backoff.

        Zeroconf also brings an appliance connected over BLE back to the LAN. Not
        after an attempt that found no free Bluetooth connection (see _discovery_helps).
        """
        if self._closing:
            return
        if self._ble.parked:
            if lan:  # the LAN is back: leave BLE altogether
                self._ble.async_unpark_soon()
        elif not self._connected:
            self._reconnect.wake()
        elif lan and self.link is LinkKind.BLE and self._lan_retry.scheduled:
            self._lan_retry.async_cancel()
            self._lan_retry.async_due(None)

    async def async_reconnect_now(self) -> bool:
        """Try to connect at once (repair flow) and wait for that attempt; True if connected."""
        if self._connected:
            return True
        if self._ble.parked:
            return await self._ble.async_unpark()
        # False when closing, or waiting for the user to pair again.
        return await self._reconnect.attempt_now() and self._connected

    async def _async_reconnect_once(self) -> None:
        await self._async_connect()

    def _reconnect_failed(self, err: Exception) -> None:
        self.stats.last_error = repr(err)

    @callback
    def _async_reconnected(self) -> None:
        self.async_set_updated_data(self._state())

    @callback
    def _async_key_rejected(self, _err: LinkError) -> None:
        self.config_entry.async_start_reauth(self.hass)

    async def async_close(self) -> None:
        """Stop reconnecting and close the connection; nothing keeps running."""
        self._closing = True
        self._lan_retry.async_cancel()
        self._ble.async_cancel_timers()
        self._issues.async_cancel()
        self._invalid.async_cancel()
        await self._reconnect.stop()
        self._drop_client_listeners()
        self._pushes.forget_unshown()
        if self._connected:
            self._connected = False
            await self.client.disconnect()
        await self.async_shutdown()

    @callback
    def async_remove_issues(self) -> None:
        """Delete every repair issue of this appliance (entry removed)."""
        self._issues.async_remove_all()

    # --- requests (coordinator_commands.py) ---------------------------------

    async def _async_open_for_request(self) -> ApplianceClient:
        """The open session's client, a parked one opened first; raises HomeAssistantError."""
        if self._ble.parked:
            await self._ble.async_unpark_for_request()
        if not self._connected:
            raise unavailable_error(self.config_entry.title)
        self._ble.active = True
        return self.client

    async def async_write(self, values: Mapping[str, Value]) -> None:
        """Write values; raise a translated HomeAssistantError if it cannot be done."""
        await self._requests.async_write(values)

    async def async_command(self, name: str, args: Mapping[str, int] | None = None) -> None:
        """Send a command; raise a translated HomeAssistantError if it is not accepted."""
        await self._requests.async_command(name, args)

    async def async_panel_request(self, send: Callable[[ApplianceClient], Awaitable[None]]) -> None:
        """Send a voice panel request (PROTOCOL.md 7.5) on the current connection.

        Raises a translated HomeAssistantError when the appliance is unreachable
        or refuses it.
        """
        await self._requests.async_panel_request(send)

    @callback
    def async_add_client_hook(
        self, hook: Callable[[ApplianceClient], CALLBACK_TYPE]
    ) -> CALLBACK_TYPE:
        """Call ``hook`` with each connection the appliance gets, the current one at once.

        What ``hook`` returns is called when that connection goes; the returned
        callback stops calling ``hook`` for later connections.
        """
        self._client_hooks.append(hook)
        if self._connected:
            self._client_unsubs.append(hook(self.client))
        return lambda: self._client_hooks.remove(hook)
