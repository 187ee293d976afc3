"""The network module's side of the MCU link: an ApplianceBackend over serial frames."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import contextlib
import logging
from typing import Final

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value

from .endpoint import (
    RESPONSE_TIMEOUT,
    RETRIES,
    FrameEndpoint,
    LinkClosed,
    PeerTimeout,
    Reply,
)
from .frames import Frame, FrameType
from .links import ByteLink
from .values import (
    McuInfo,
    PayloadError,
    decode_nack,
    decode_report,
    encode_attributes,
    encode_command,
    encode_nack,
)

_LOGGER = logging.getLogger(__name__)

HEARTBEAT_INTERVAL: Final = 5.0
# The fault every appliance type declares for a controller that stopped answering.
COMMUNICATION_FAULT: Final = "communication"

_ACK_OR_NACK: Final = frozenset({FrameType.ACK, FrameType.NACK})

type StateListener = Callable[[Mapping[str, Value]], None]


class McuError(Exception):
    """The MCU does not fit this module's configuration (wrong type, missing attributes)."""


class McuBackend:
    """Bridges an ApplianceServer to the appliance's MCU over a serial link.

    Keeps the last reported values, tells listeners what changed, turns writes
    and commands into frames and waits for the MCU's ACK or NACK. If the MCU
    stops answering it raises LinkError(MCU_UNAVAILABLE) and reports the
    ``communication`` fault until the MCU answers again.
    """

    def __init__(
        self,
        link: ByteLink,
        declaration: Declaration,
        *,
        response_timeout: float = RESPONSE_TIMEOUT,
        retries: int = RETRIES,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
    ) -> None:
        self._declaration = declaration
        self._type_spec = declaration.type_spec
        self._endpoint = FrameEndpoint(
            link,
            name=f"{declaration.model} module",
            on_request=self._on_request,
            on_event=self._on_event,
            response_timeout=response_timeout,
            retries=retries,
        )
        self._heartbeat_interval = heartbeat_interval
        self._values: dict[str, Value] = {}
        self._mcu_faults: list[str] = []
        self._available = False
        self._listeners: list[StateListener] = []
        self._reset_listeners: list[Callable[[], None]] = []
        self._pairing_button_listeners: list[Callable[[], None]] = []
        self._heartbeat_task: asyncio.Task[None] | None = None
        self.info: McuInfo | None = None
        self.report_problems = 0

    # --- ApplianceBackend ----------------------------------------------------

    @property
    def declaration(self) -> Declaration:
        """The model declaration this module serves."""
        return self._declaration

    def snapshot(self) -> dict[str, Value]:
        """Every declared capability's last known value."""
        values = dict(self._values)
        if "faults" in self._declaration.capabilities:
            values["faults"] = self._faults()
        return values

    async def write(self, values: Mapping[str, Value]) -> None:
        """Send a WRITE and wait for the MCU's verdict."""
        try:
            payload = encode_attributes(self._type_spec, values)
        except PayloadError as error:
            raise LinkError(ErrorCode.OUT_OF_RANGE, str(error)) from error
        await self._request_ack(FrameType.WRITE, payload)
        # The MCU accepted them; its REPORT follows, but readers should not see stale values.
        self._apply(dict(values))

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        """Send a COMMAND and wait for the MCU's verdict."""
        try:
            payload = encode_command(self._type_spec, name, args)
        except PayloadError as error:
            raise LinkError(ErrorCode.MALFORMED, str(error)) from error
        await self._request_ack(FrameType.COMMAND, payload)

    def add_listener(self, callback: StateListener) -> Callable[[], None]:
        """Call ``callback`` with the changed values whenever some change."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    # --- module side ----------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the MCU answered its last request."""
        return self._available

    @property
    def frame_stats(self) -> dict[str, int]:
        """Counters of the serial decoder (for diagnostics and tests)."""
        decoder = self._endpoint.decoder
        return {
            "frames": decoder.frames_decoded,
            "bytes_discarded": decoder.bytes_discarded,
            "crc_errors": decoder.crc_errors,
            "length_errors": decoder.length_errors,
            "report_problems": self.report_problems,
        }

    def add_factory_reset_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the appliance's reset button sends FACTORY_RESET."""
        self._reset_listeners.append(callback)
        return lambda: (
            self._reset_listeners.remove(callback) if callback in self._reset_listeners else None
        )

    def add_pairing_button_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the appliance's pairing button sends PAIRING_BUTTON."""
        self._pairing_button_listeners.append(callback)
        return lambda: (
            self._pairing_button_listeners.remove(callback)
            if callback in self._pairing_button_listeners
            else None
        )

    async def start(self) -> McuInfo:
        """Ask the MCU who it is and for all values; start the heartbeat.

        Raises LinkError(MCU_UNAVAILABLE) if it does not answer and McuError if
        it is not the declared type or leaves declared capabilities out.
        """
        self._endpoint.start()
        try:
            frame = await self._endpoint.request(
                FrameType.INFO_REQUEST, b"", accepts=frozenset({FrameType.INFO})
            )
        except (PeerTimeout, LinkClosed) as error:
            raise LinkError(
                ErrorCode.MCU_UNAVAILABLE, f"the MCU does not answer: {error}"
            ) from error
        try:
            info = McuInfo.decode(frame.payload)
        except PayloadError as error:
            raise McuError(f"the MCU's INFO is invalid: {error}") from error
        if info.type is not self._declaration.type:
            raise McuError(
                f"the MCU is a {info.type}, but the declaration is for a {self._declaration.type}"
            )
        self.info = info
        await self._fetch_snapshot()
        missing = set(self._declaration.capabilities) - set(self.snapshot())
        if missing:
            raise McuError(f"the MCU does not report {', '.join(sorted(missing))}")
        self._heartbeat_task = asyncio.create_task(self._heartbeat(), name="MCU heartbeat")
        return info

    async def close(self) -> None:
        """Stop the heartbeat and close the link."""
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
            self._heartbeat_task = None
        await self._endpoint.close()

    # --- internals --------------------------------------------------------------

    def _faults(self) -> list[str]:
        if self._available or COMMUNICATION_FAULT in self._mcu_faults:
            return list(self._mcu_faults)
        return [*self._mcu_faults, COMMUNICATION_FAULT]

    async def _fetch_snapshot(self) -> None:
        try:
            frame = await self._endpoint.request(
                FrameType.SNAPSHOT_REQUEST, b"", accepts=frozenset({FrameType.REPORT})
            )
        except (PeerTimeout, LinkClosed) as error:
            self._set_available(False)
            raise LinkError(
                ErrorCode.MCU_UNAVAILABLE, f"the MCU does not answer: {error}"
            ) from error
        self._set_available(True)
        await self._on_event(frame)

    async def _request_ack(self, frame_type: FrameType, payload: bytes) -> None:
        try:
            reply = await self._endpoint.request(frame_type, payload, accepts=_ACK_OR_NACK)
        except (PeerTimeout, LinkClosed) as error:
            self._set_available(False)
            raise LinkError(
                ErrorCode.MCU_UNAVAILABLE, f"the MCU does not answer: {error}"
            ) from error
        self._set_available(True)
        if reply.type == FrameType.NACK:
            raise decode_nack(self._type_spec, reply.payload)

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            idle = loop.time() - self._endpoint.last_received
            if self._available and idle < self._heartbeat_interval:
                await asyncio.sleep(self._heartbeat_interval - idle)
                continue
            was_available = self._available
            with contextlib.suppress(LinkError):
                await self._request_ack(FrameType.HEARTBEAT, b"")
                if not was_available:
                    _LOGGER.info("the MCU answers again; fetching all values")
                    await self._fetch_snapshot()
            if self._endpoint.closed:
                return
            if not self._available:
                await asyncio.sleep(self._heartbeat_interval)

    def _set_available(self, available: bool) -> None:
        if available == self._available:
            return
        self._available = available
        if not available:
            _LOGGER.warning("the MCU stopped answering")
        if self._values and "faults" in self._declaration.capabilities:
            self._notify({"faults": self._faults()})

    async def _on_event(self, frame: Frame) -> None:
        if frame.type != FrameType.REPORT:
            return
        try:
            _full, decoded = decode_report(self._type_spec, frame.payload)
        except PayloadError as error:
            self.report_problems += 1
            _LOGGER.warning("dropping an invalid REPORT: %s", error)
            return
        for problem in decoded.problems:
            self.report_problems += 1
            _LOGGER.warning("dropping part of a REPORT: %s", problem)
        self._set_available(True)
        self._apply(decoded.values)

    def _apply(self, values: dict[str, Value]) -> None:
        changed: dict[str, Value] = {}
        for key, value in values.items():
            if key not in self._declaration.capabilities:
                continue  # the MCU has it, this model's declaration does not offer it
            if key == "faults":
                assert isinstance(value, list)
                if value != self._mcu_faults:
                    self._mcu_faults = value
                    changed["faults"] = self._faults()
                continue
            if key not in self._values or self._values[key] != value:
                self._values[key] = value
                changed[key] = value
        if changed:
            self._notify(changed)

    def _notify(self, changed: Mapping[str, Value]) -> None:
        for listener in list(self._listeners):
            try:
                listener(changed)
            except Exception:
                _LOGGER.exception("a state listener failed")

    async def _on_request(self, frame: Frame) -> Reply:
        if frame.type == FrameType.FACTORY_RESET:
            _LOGGER.warning("factory reset requested by the appliance")
            self._call(self._reset_listeners, "factory reset")
            return Reply(FrameType.ACK)
        if frame.type == FrameType.PAIRING_BUTTON:
            _LOGGER.info("the appliance's pairing button was pressed")
            self._call(self._pairing_button_listeners, "pairing button")
            return Reply(FrameType.ACK)
        return Reply(
            FrameType.NACK,
            encode_nack(ErrorCode.UNKNOWN_MESSAGE, f"the module does not take {frame.describe()}"),
        )

    @staticmethod
    def _call(listeners: list[Callable[[], None]], what: str) -> None:
        for listener in list(listeners):
            try:
                listener()
            except Exception:
                _LOGGER.exception("a %s listener failed", what)
