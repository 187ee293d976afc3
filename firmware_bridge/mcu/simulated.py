"""The MCU side of the serial link, simulated: an AppliancePhysics model speaking SERIAL.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeGuard

from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value

from .endpoint import FrameEndpoint, LinkClosed, PeerTimeout, Reply, ReplyWork
from .frames import Frame, FrameType
from .links import ByteLink
from .values import (
    McuInfo,
    PayloadError,
    attribute_id_of,
    decode_attributes,
    decode_command,
    encode_nack,
    encode_report,
    encode_value,
)

if TYPE_CHECKING:
    from firmware_bridge.simulators import AppliancePhysics

_LOGGER = logging.getLogger(__name__)

TICK: Final = 1.0  # real seconds between physics updates
MAX_STEP: Final = 1.0  # simulated seconds per physics step, at most...
MAX_STEPS_PER_TICK: Final = 600  # ...unless the speed would need more steps than this
FULL_REPORT_INTERVAL: Final = 60.0  # real seconds (SERIAL.md asks for at most 60)
SAVE_INTERVAL: Final = 30.0  # real seconds between state saves
# The energy counter is saved ahead of what is published: before a REPORT shows
# more than the saved reserve, a new reserve this far ahead is saved first
# (SERIAL.md, "The energy counter across power cuts").
ENERGY_RESERVE_KWH: Final = 0.01
ENERGY_RESERVE_KEY: Final = "energy_reserved_kwh"


def _nack(error: LinkError, attribute_id: int = 0, then: ReplyWork | None = None) -> Reply:
    return Reply(
        FrameType.NACK, encode_nack(error.code, error.message, attribute_id=attribute_id), then
    )


class SimulatedSerialMcu:
    """The MCU end of the serial link, answering from an AppliancePhysics model.

    Answers INFO, SNAPSHOT, WRITE, COMMAND and HEARTBEAT requests, advances
    the physics at ``speed`` times real time, REPORTs changed values (as the
    wire resolution shows them) and a full report every
    ``full_report_interval`` real seconds. With ``state_path`` its energy
    counter and other state survive restarts, and the energy it reports never
    goes backwards, even across a power cut between two saves: no REPORT
    shows more energy than the saved reserve (SERIAL.md). The simulator is
    told the speed (``time_scale``) so that durations on the wire are
    wall-clock seconds.
    """

    def __init__(
        self,
        simulator: AppliancePhysics,
        link: ByteLink,
        *,
        speed: float = 1.0,
        tick: float = TICK,
        full_report_interval: float = FULL_REPORT_INTERVAL,
        state_path: Path | None = None,
        save_interval: float = SAVE_INTERVAL,
        energy_reserve_kwh: float = ENERGY_RESERVE_KWH,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must not be negative")
        self.simulator = simulator
        self.declaration = simulator.declaration
        self._type_spec = self.declaration.type_spec
        self.speed = speed
        simulator.time_scale = speed if speed > 0 else 1.0  # 0: a frozen clock
        self._tick = tick
        self._full_report_interval = full_report_interval
        self._state_path = state_path
        self._save_interval = save_interval
        self._energy_reserve = energy_reserve_kwh
        # The highest energy a REPORT may show: saved before it is raised. Without
        # a state path nothing survives a restart, so nothing needs guarding.
        self._energy_ceiling = math.inf if state_path is None else 0.0
        self._energy_published = 0.0
        self._endpoint = FrameEndpoint(
            link,
            name=f"{simulator.identity.appliance_id} MCU",
            on_request=self._on_request,
            on_event=self._on_event,
        )
        self._reported: dict[str, bytes] = {}
        self._clock_task: asyncio.Task[None] | None = None
        self._report_lock = asyncio.Lock()
        self.simulated_seconds = 0.0

    @property
    def info(self) -> McuInfo:
        """What this MCU announces in INFO."""
        identity = self.simulator.identity
        return McuInfo(self.declaration.type, identity.model, identity.firmware)

    # --- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        """Restore saved state, start answering frames and running the clock."""
        self.load_state()
        self._endpoint.start()
        self._clock_task = asyncio.create_task(self._clock(), name="simulated MCU clock")

    async def stop(self) -> None:
        """Stop the clock, save state and close the link (a clean power-off)."""
        await self._stop_clock()
        if self._state_path is not None:
            # The exact counter is saved now: the reserve is no longer needed, only
            # what was published must not be undercut at the next boot.
            self._energy_ceiling = self._energy_published
        self.save_state()
        await self._endpoint.close()

    async def power_cut(self) -> None:
        """Lose power: stop at once, saving nothing (what was saved before stays)."""
        await self._stop_clock()
        await self._endpoint.close()

    async def _stop_clock(self) -> None:
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
            self._clock_task = None

    def load_state(self) -> None:
        """Restore the simulator from ``state_path`` if a save exists.

        The energy counter resumes at the saved reserve if that is higher than
        the saved counter: a REPORT may have shown up to the reserve before the
        power went.
        """
        if self._state_path is None or not self._state_path.exists():
            return
        try:
            state = json.loads(self._state_path.read_text(encoding="utf-8"))
            if isinstance(state, dict):
                reserved = state.get(ENERGY_RESERVE_KEY)
                energy = state.get("energy_kwh")
                if _finite(reserved) and _finite(energy) and reserved > energy:
                    state = {**state, "energy_kwh": reserved}
            self.simulator.restore_state(state)
        except (OSError, ValueError, TypeError, KeyError) as error:
            # A damaged save must not keep the appliance from booting.
            _LOGGER.warning("ignoring unreadable state %s: %s", self._state_path, error)
        self._energy_ceiling = self._energy_published = self.simulator.energy_kwh

    def save_state(self) -> None:
        """Write the simulator's state and the energy reserve atomically to ``state_path``."""
        if self._state_path is None:
            return
        state: dict[str, Any] = self.simulator.export_state()
        state[ENERGY_RESERVE_KEY] = self._energy_ceiling
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        os.replace(temporary, self._state_path)

    def _guard_energy(self, values: dict[str, Value]) -> dict[str, Value]:
        """Save a new reserve before ``values`` show more energy than the saved one.

        If saving fails, the energy shown stays at the saved reserve: what a
        REPORT shows must survive a power cut.
        """
        energy = values.get("energy")
        if not _finite(energy):
            return values
        if energy > self._energy_ceiling:
            previous = self._energy_ceiling
            self._energy_ceiling = round(energy + self._energy_reserve, 6)
            try:
                self.save_state()
            except OSError as error:
                self._energy_ceiling = previous
                _LOGGER.warning("cannot save the energy counter, holding it: %s", error)
                values = {**values, "energy": previous}
        shown = values["energy"]
        if _finite(shown):
            self._energy_published = max(self._energy_published, shown)
        return values

    # --- the appliance's buttons and clock ----------------------------------------

    async def press_factory_reset(self) -> None:
        """The user holds the reset button: ask the module to forget its pairing.

        Raises LinkError(MCU_UNAVAILABLE) if the module does not acknowledge.
        """
        await self._press(FrameType.FACTORY_RESET, "the factory reset")

    async def _press(self, frame_type: FrameType, what: str) -> None:
        try:
            reply = await self._endpoint.request(
                frame_type, b"", accepts=frozenset({FrameType.ACK, FrameType.NACK})
            )
        except (PeerTimeout, LinkClosed) as error:
            raise LinkError(
                ErrorCode.MCU_UNAVAILABLE, f"the module does not answer: {error}"
            ) from error
        if reply.type != FrameType.ACK:
            raise LinkError(ErrorCode.INTERNAL, f"the module refused {what}")

    async def press_pairing_button(self) -> None:
        """The user presses the pairing button: ask the module to open pairing.

        Raises LinkError(MCU_UNAVAILABLE) if the module does not acknowledge.
        """
        await self._press(FrameType.PAIRING_BUTTON, "the pairing button")

    async def advance(self, seconds: float) -> None:
        """Advance the physics by ``seconds`` simulated seconds and report the changes."""
        self._step(seconds)
        await self.report_changes()

    def _step(self, seconds: float) -> None:
        if seconds <= 0:
            return
        steps = min(MAX_STEPS_PER_TICK, max(1, int(-(-seconds // MAX_STEP))))
        dt = seconds / steps
        for _ in range(steps):
            self.simulator.step(dt)
        self.simulated_seconds += seconds

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        last_full = last
        last_save = last
        while True:
            await asyncio.sleep(self._tick)
            now = loop.time()
            try:
                self._step((now - last) * self.speed)
            except Exception:
                # A physics bug must not silence the appliance; the values stay as they were.
                _LOGGER.exception(
                    "%s: the simulator failed to step", self.simulator.identity.appliance_id
                )
            last = now
            full = now - last_full >= self._full_report_interval
            if full:
                last_full = now
            try:
                await self.report_changes(full=full)
            except LinkClosed:
                return
            if now - last_save >= self._save_interval:
                last_save = now
                try:
                    self.save_state()
                except OSError as error:
                    _LOGGER.warning("cannot save state: %s", error)

    # --- reports ----------------------------------------------------------------

    def _current_values(self) -> dict[str, Value]:
        """The simulator's values as the MCU may publish them."""
        return self._guard_energy(self.simulator.values())

    def _encoded_values(self, values: dict[str, Value]) -> dict[str, bytes]:
        encoded: dict[str, bytes] = {}
        for key, value in values.items():
            try:
                encoded[key] = encode_value(self._type_spec, self._type_spec.attribute(key), value)
            except (PayloadError, LinkError) as error:
                _LOGGER.error("the simulator produced an unencodable value: %s", error)
        return encoded

    async def report_changes(self, *, full: bool = False) -> None:
        """REPORT the values that changed at wire resolution (all of them if ``full``)."""
        async with self._report_lock:
            values = self._current_values()
            current = self._encoded_values(values)
            changed = {
                key: raw for key, raw in current.items() if full or self._reported.get(key) != raw
            }
            if not changed:
                return
            payload = encode_report(
                self._type_spec, {key: values[key] for key in changed}, full=full
            )
            await self._endpoint.send_event(FrameType.REPORT, payload)
            self._reported.update(changed)

    # --- requests from the module -------------------------------------------------

    async def _on_event(self, frame: Frame) -> None:
        _LOGGER.debug("the MCU ignores %s", frame.describe())

    async def _on_request(self, frame: Frame) -> Reply:
        if frame.type == FrameType.INFO_REQUEST:
            return Reply(FrameType.INFO, self.info.encode())
        if frame.type == FrameType.SNAPSHOT_REQUEST:
            values = self._current_values()
            current = self._encoded_values(values)
            self._reported.update(current)
            return Reply(
                FrameType.REPORT,
                encode_report(self._type_spec, {key: values[key] for key in current}, full=True),
            )
        if frame.type == FrameType.HEARTBEAT:
            return Reply(FrameType.ACK)
        if frame.type == FrameType.WRITE:
            return self._write(frame.payload)
        if frame.type == FrameType.COMMAND:
            return self._command(frame.payload)
        return Reply(
            FrameType.NACK,
            encode_nack(ErrorCode.UNKNOWN_MESSAGE, f"the MCU does not take {frame.describe()}"),
        )

    def _write(self, payload: bytes) -> Reply:
        try:
            values = decode_attributes(self._type_spec, payload, strict=True).values
        except PayloadError as error:
            return Reply(
                FrameType.NACK,
                encode_nack(ErrorCode.MALFORMED, str(error), attribute_id=error.attribute_id),
            )
        checked: dict[str, Value] = {}
        for key, value in values.items():
            try:
                checked[key] = self.declaration.validate_write(key, value)
            except LinkError as error:
                return _nack(error, attribute_id_of(self._type_spec, key))
        for key, value in checked.items():
            try:
                self.simulator.write(key, value)
            except LinkError as error:
                # Earlier values may have changed: the report after the NACK shows them.
                return _nack(error, attribute_id_of(self._type_spec, key), self.report_changes)
        return Reply(FrameType.ACK, then=self.report_changes)

    def _command(self, payload: bytes) -> Reply:
        try:
            name, raw_args = decode_command(self._type_spec, payload)
        except PayloadError as error:
            return Reply(FrameType.NACK, encode_nack(ErrorCode.MALFORMED, str(error)))
        try:
            args = self.declaration.validate_command(name, raw_args)
            self.simulator.command(name, args)
        except LinkError as error:
            return _nack(error, attribute_id_of(self._type_spec, error.key))
        return Reply(FrameType.ACK, then=self.report_changes)


def _finite(value: object) -> TypeGuard[float]:
    """A JSON number that is finite (and not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
