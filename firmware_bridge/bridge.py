"""The network module: an MCU behind an ApplianceServer, advertised over zeroconf.

``NetworkModule`` is what runs on a real appliance's network module (see
``python -m firmware_bridge bridge``); ``simulated_appliances`` runs any mix of
simulated appliances the same way, each simulator playing the MCU on the far
end of an in-process serial link. The zeroconf record and the zeroconf
instance that announces it are built in ``advertisement.py`` (importable from
here too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import tempfile
from typing import Any, Final

from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.discovery import DEFAULT_PORT
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import (
    FilePairingStateStore,
    PairingLimiter,
)
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    FileKeyStore,
    KeyStore,
)

from .advertisement import LOOPBACK, build_service_info, zeroconf_for
from .mcu import McuBackend, SimulatedSerialMcu, memory_link_pair
from .panel import SimulatedPanel
from .simulators import AppliancePhysics, create_simulator

__all__ = [
    "APP_DIR_NAME",
    "LOOPBACK",
    "SHORT_NAMES",
    "NetworkModule",
    "SimulatedProduct",
    "build_service_info",
    "default_state_dir",
    "key_path",
    "pairing_state_path",
    "simulated_appliances",
    "simulator_state_path",
    "zeroconf_for",
]

_LOGGER = logging.getLogger(__name__)

# The short names of simulated appliances ("washer-1"), for people typing at their panels.
SHORT_NAMES: Final = {
    ApplianceType.ROOM_AIR_CONDITIONER: "ac",
    ApplianceType.REFRIGERATOR: "fridge",
    ApplianceType.LAUNDRY_WASHER: "washer",
    ApplianceType.DISHWASHER: "dishwasher",
}
APP_DIR_NAME: Final = "liuzhou-appliances"


def default_state_dir() -> Path:
    """Where ``simulate`` keeps keys and simulator state without --state-dir."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / APP_DIR_NAME / "simulate"


def key_path(state_dir: Path, appliance_id: str) -> Path:
    """The long-term key file of an appliance."""
    return state_dir / f"{appliance_id}.key"


def pairing_state_path(state_dir: Path, appliance_id: str) -> Path:
    """The saved count of failed pairing attempts of an appliance (survives reboots)."""
    return state_dir / f"{appliance_id}.pairing.json"


def simulator_state_path(state_dir: Path, appliance_id: str) -> Path:
    """The saved simulator state (energy counter...) of an appliance."""
    return state_dir / f"{appliance_id}.state.json"


class _WatchedKeyStore:
    """A KeyStore that says when the key appears or disappears (for the TXT record)."""

    def __init__(self, inner: KeyStore, on_change: Callable[[], None]) -> None:
        self._inner = inner
        self._on_change = on_change

    def load(self) -> bytes | None:
        return self._inner.load()

    def save(self, key: bytes) -> None:
        self._inner.save(key)
        self._on_change()

    def clear(self) -> None:
        self._inner.clear()
        self._on_change()


class NetworkModule:
    """One appliance's network module: MCU backend + ApplianceServer + advertisement.

    ``start`` asks the MCU who it is (INFO), builds the identity from it,
    serves the hub protocol and advertises the service; the ``paired`` TXT
    value follows pairing and factory resets. FACTORY_RESET from the MCU
    clears the key; PAIRING_BUTTON opens pairing for 15 min
    (``link.pairing.PAIRING_WINDOW_S``). The key and the count of failed
    pairing attempts live in ``state_dir``.
    """

    def __init__(
        self,
        backend: McuBackend,
        *,
        appliance_id: str,
        pairing_code: str,
        state_dir: Path,
        host: str = "0.0.0.0",
        port: int = DEFAULT_PORT,
        zeroconf: AsyncZeroconf | None = None,
        server_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.backend = backend
        self.appliance_id = appliance_id
        self.host = host
        self._requested_port = port
        self._pairing_code = pairing_code
        self._state_dir = state_dir
        self._zeroconf = zeroconf
        self._server_options = dict(server_options or {})
        self._server: ApplianceServer | None = None
        self._service_info: ServiceInfo | None = None
        self._advertised_paired: bool | None = None
        self._advertise_task: asyncio.Task[None] | None = None
        self._remove_reset_listener: Callable[[], None] | None = None
        self._remove_button_listener: Callable[[], None] | None = None
        self._pairing_listeners: list[Callable[[], None]] = []
        self.identity: ApplianceIdentity | None = None

    @property
    def server(self) -> ApplianceServer:
        """The running ApplianceServer."""
        if self._server is None:
            raise RuntimeError("the network module is not started")
        return self._server

    @property
    def port(self) -> int:
        """The TCP port served."""
        return self.server.port

    @property
    def paired(self) -> bool:
        """Whether a hub's key is stored."""
        return self.server.paired

    @property
    def service_info(self) -> ServiceInfo | None:
        """The advertised record (None without zeroconf)."""
        return self._service_info

    async def start(self) -> None:
        """Talk to the MCU, serve, advertise."""
        info = await self.backend.start()
        declaration = self.backend.declaration
        if info.model != declaration.model:
            _LOGGER.warning(
                "the MCU says model %r, the declaration %r", info.model, declaration.model
            )
        self.identity = ApplianceIdentity(
            appliance_id=self.appliance_id,
            type=info.type,
            model=declaration.model,
            firmware=info.firmware,
        )
        self._state_dir.mkdir(parents=True, exist_ok=True)
        key_store = _WatchedKeyStore(
            FileKeyStore(key_path(self._state_dir, self.appliance_id)),
            self._pairing_changed,
        )
        options = dict(self._server_options)
        options.setdefault(
            "pairing_limiter",
            PairingLimiter(
                store=FilePairingStateStore(pairing_state_path(self._state_dir, self.appliance_id))
            ),
        )
        self._server = ApplianceServer(
            self.backend,
            self.identity,
            pairing_code=self._pairing_code,
            key_store=key_store,
            **options,
        )
        await self._server.start(self.host, self._requested_port)
        self._remove_reset_listener = self.backend.add_factory_reset_listener(self.factory_reset)
        self._remove_button_listener = self.backend.add_pairing_button_listener(
            self.open_pairing_window
        )
        if self._zeroconf is not None:
            self._service_info = self._build_service_info()
            await (await self._zeroconf.async_register_service(self._service_info))
            self._advertised_paired = self.paired
        _LOGGER.info(
            "%s serving on %s:%s (paired: %s)",
            self.appliance_id,
            self.host,
            self.port,
            self.paired,
        )

    async def stop(self) -> None:
        """Withdraw the advertisement, stop serving, close the MCU link."""
        if self._remove_reset_listener is not None:
            self._remove_reset_listener()
            self._remove_reset_listener = None
        if self._remove_button_listener is not None:
            self._remove_button_listener()
            self._remove_button_listener = None
        if self._advertise_task is not None:
            self._advertise_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._advertise_task
            self._advertise_task = None
        if self._zeroconf is not None and self._service_info is not None:
            await (await self._zeroconf.async_unregister_service(self._service_info))
            self._service_info = None
        if self._server is not None:
            await self._server.stop()
        await self.backend.close()

    def factory_reset(self) -> None:
        """Forget the hub's key and close its sessions (the appliance's reset button)."""
        self.server.factory_reset()

    def open_pairing_window(self) -> None:
        """Accept pairing for the window's duration (the appliance's pairing button)."""
        self.server.open_pairing_window()

    def _build_service_info(self) -> ServiceInfo:
        assert self.identity is not None
        return build_service_info(
            self.identity,
            host=self.host,
            port=self.port,
            paired=self.paired,
            protocol=self.server.supported_versions,
        )

    def add_pairing_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` when the key appears or goes (the BLE advertisement follows)."""
        self._pairing_listeners.append(callback)
        return lambda: self._pairing_listeners.remove(callback)

    def _pairing_changed(self) -> None:
        for listener in list(self._pairing_listeners):
            listener()
        if self._zeroconf is None or self._service_info is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # key changed outside the event loop: the next change re-announces
        if self._advertise_task is None or self._advertise_task.done():
            self._advertise_task = loop.create_task(
                self._update_advertisement(), name=f"{self.appliance_id} TXT update"
            )

    async def _update_advertisement(self) -> None:
        # Loop: pairing may flip again while an update is being announced.
        while self._zeroconf is not None and self._advertised_paired != self.paired:
            paired = self.paired
            self._service_info = self._build_service_info()
            await (await self._zeroconf.async_update_service(self._service_info))
            self._advertised_paired = paired
            _LOGGER.info("%s advertises paired=%s", self.appliance_id, paired)


# --- simulated appliances ------------------------------------------------------


@dataclass(slots=True)
class SimulatedProduct:
    """A whole simulated product as it runs: physics model, MCU, serial link, network module."""

    type: ApplianceType
    index: int
    seed: int
    host: str
    code: str
    simulator: AppliancePhysics
    mcu: SimulatedSerialMcu
    module: NetworkModule
    state_dir: Path
    speed: float
    zeroconf: AsyncZeroconf | None = field(default=None, repr=False)
    port: int = 0
    # The voice panel, when the declaration has one (PROTOCOL.md 7.5); kept across restarts.
    panel: SimulatedPanel | None = None
    # The simulator's options (``create_simulator``'s: module class ...); kept across restarts.
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The short name people type at the panel console: "washer-1", "ac-2" ..."""
        return f"{SHORT_NAMES[self.type]}-{self.index + 1}"

    @property
    def id(self) -> str:
        """The appliance id."""
        return self.simulator.identity.appliance_id

    @property
    def model(self) -> str:
        """The model name."""
        return self.simulator.identity.model

    @property
    def firmware(self) -> str:
        """The (simulated) firmware version."""
        return self.simulator.identity.firmware

    def to_json(self) -> dict[str, Any]:
        """The record ``simulate --json`` prints."""
        return {
            "type": str(self.type),
            "id": self.id,
            "host": self.host,
            "port": self.port,
            "code": self.code,
            "model": self.model,
            "firmware": self.firmware,
        }

    async def factory_reset(self) -> None:
        """Press the appliance's reset button (FACTORY_RESET over the serial link)."""
        await self.mcu.press_factory_reset()

    async def press_pairing_button(self) -> None:
        """Press the appliance's pairing button (PAIRING_BUTTON over the serial link)."""
        await self.mcu.press_pairing_button()

    async def stop(self) -> None:
        """Power off: stop serving, save the simulator state."""
        await self.module.stop()
        await self.mcu.stop()

    async def lan_down(self) -> None:
        """Lose the LAN (Wi-Fi gone): TCP sessions end, the port is closed; BLE goes on."""
        await self.module.server.stop_tcp()

    async def lan_up(self) -> None:
        """The LAN is back: serve TCP again on the same port."""
        await self.module.server.start(self.module.host, self.port)

    async def power_cut(self) -> None:
        """Lose power: stop serving at once; the MCU saves nothing more."""
        await self.module.stop()
        await self.mcu.power_cut()

    async def restart(
        self,
        *,
        power_cut: bool = False,
        firmware: str | None = None,
        declaration: Declaration | None = None,
    ) -> None:
        """Power cycle on the same port: a fresh simulator restored from saved state.

        With ``power_cut`` the power goes without warning, so only what the MCU
        saved before survives (as after a real outage). With ``firmware`` and/or
        ``declaration`` it boots into new firmware (a firmware update), with the
        same id, key and port; otherwise it keeps both.
        """
        await (self.power_cut() if power_cut else self.stop())
        fresh = await _start_appliance(
            self.type,
            self.index,
            seed=self.seed,
            host=self.host,
            port=self.port,
            speed=self.speed,
            state_dir=self.state_dir,
            zeroconf=self.zeroconf,
            simulator_options={
                **self.options,
                "firmware": firmware or self.firmware,
                "declaration": declaration or self.simulator.declaration,
            },
            panel=self.panel,
        )
        self.simulator, self.mcu, self.module = fresh.simulator, fresh.mcu, fresh.module
        self.panel = fresh.panel


async def _start_appliance(
    appliance_type: ApplianceType,
    index: int,
    *,
    seed: int,
    host: str,
    port: int,
    speed: float,
    state_dir: Path,
    zeroconf: AsyncZeroconf | None,
    mcu_options: Mapping[str, Any] | None = None,
    simulator_options: Mapping[str, Any] | None = None,
    panel: SimulatedPanel | None = None,
) -> SimulatedProduct:
    simulator = create_simulator(
        appliance_type, seed=seed, index=index, **(simulator_options or {})
    )
    appliance_id = simulator.identity.appliance_id
    if simulator.declaration.voice_panel is None:
        panel = None
    elif panel is None:
        panel = SimulatedPanel(f"{SHORT_NAMES[appliance_type]}-{index + 1}")
    module_end, mcu_end = memory_link_pair()
    mcu = SimulatedSerialMcu(
        simulator,
        mcu_end,
        speed=speed,
        state_path=simulator_state_path(state_dir, appliance_id),
        **(mcu_options or {}),
    )
    await mcu.start()
    module = NetworkModule(
        McuBackend(module_end, simulator.declaration),
        appliance_id=appliance_id,
        pairing_code=simulator.pairing_code,
        state_dir=state_dir,
        host=host,
        port=port,
        zeroconf=zeroconf,
        server_options=None if panel is None else {"panel": panel},
    )
    try:
        await module.start()
        if panel is not None:
            assert module.server.voice_panel is not None  # the declaration has a panel
            panel.attach(module.server.voice_panel)
    except BaseException:
        await module.stop()
        await mcu.stop()
        raise
    return SimulatedProduct(
        type=appliance_type,
        index=index,
        seed=seed,
        host=host,
        code=simulator.pairing_code,
        simulator=simulator,
        mcu=mcu,
        module=module,
        state_dir=state_dir,
        speed=speed,
        zeroconf=zeroconf,
        port=module.port,
        panel=panel,
        options=dict(simulator_options or {}),
    )


@contextlib.asynccontextmanager
async def simulated_appliances(
    *,
    ac: int = 0,
    fridge: int = 0,
    washer: int = 0,
    dishwasher: int = 0,
    seed: int = 0,
    speed: float = 1.0,
    host: str = LOOPBACK,
    state_dir: Path | str | None = None,
    zeroconf: bool = True,
    base_port: int = 0,
    mcu_options: Mapping[str, Any] | None = None,
    simulator_options: Mapping[ApplianceType, Mapping[str, Any]] | None = None,
) -> AsyncIterator[list[SimulatedProduct]]:
    """Run simulated appliances, each on its own port; stop and save them on exit.

    Same seed, same ids and codes. Ports are consecutive from ``base_port``
    (in the order ac, fridge, washer, dishwasher), or chosen by the system
    with ``base_port=0``. Without ``state_dir`` keys and simulator state live
    in a temporary directory removed on exit. ``simulator_options`` gives a
    type's simulators their options (``create_simulator``'s), e.g.
    ``{ApplianceType.LAUNDRY_WASHER: {"module": "mcu", "remaining": "model"}}``.
    """
    counts = {
        ApplianceType.ROOM_AIR_CONDITIONER: ac,
        ApplianceType.REFRIGERATOR: fridge,
        ApplianceType.LAUNDRY_WASHER: washer,
        ApplianceType.DISHWASHER: dishwasher,
    }
    if any(count < 0 for count in counts.values()):
        raise ValueError("appliance counts must not be negative")
    if speed < 0:
        raise ValueError("speed must not be negative")
    if not 0 <= base_port <= 65535 - sum(counts.values()):
        raise ValueError(f"base port {base_port} leaves no room for {sum(counts.values())} ports")
    async with contextlib.AsyncExitStack() as stack:
        if state_dir is None:
            state_path = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        else:
            state_path = Path(state_dir)
        state_path.mkdir(parents=True, exist_ok=True)
        aiozc: AsyncZeroconf | None = None
        if zeroconf:
            aiozc = zeroconf_for(host)
            stack.push_async_callback(aiozc.async_close)
        fleet: list[SimulatedProduct] = []

        async def stop_all() -> None:
            # Each appliance stops even if another fails to; errors are logged.
            results = await asyncio.gather(
                *(appliance.stop() for appliance in fleet), return_exceptions=True
            )
            for appliance, result in zip(fleet, results, strict=True):
                if isinstance(result, Exception):
                    _LOGGER.error("stopping %s failed: %s", appliance.id, result)

        stack.push_async_callback(stop_all)
        plan = [
            (appliance_type, index)
            for appliance_type, count in counts.items()
            for index in range(count)
        ]
        # Started side by side: each zeroconf registration waits about a second
        # for its probes and announcements.
        results = await asyncio.gather(
            *(
                _start_appliance(
                    appliance_type,
                    index,
                    seed=seed,
                    host=host,
                    port=base_port + position if base_port else 0,
                    speed=speed,
                    state_dir=state_path,
                    zeroconf=aiozc,
                    mcu_options=mcu_options,
                    simulator_options=(simulator_options or {}).get(appliance_type),
                )
                for position, (appliance_type, index) in enumerate(plan)
            ),
            return_exceptions=True,
        )
        fleet.extend(result for result in results if isinstance(result, SimulatedProduct))
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the started ones are stopped by the exit stack
        yield fleet
