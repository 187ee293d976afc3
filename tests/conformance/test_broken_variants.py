"""Deliberately broken appliances fail exactly the checks they break.

Each variant is the real stack (simulator, SimulatedSerialMcu, McuBackend,
NetworkModule, ApplianceServer, zeroconf) with ONE real component replaced by
a subclass carrying a typical firmware bug, swapped in where the bridge
builds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import dataclasses
from typing import Any

import pytest
from zeroconf import ServiceInfo

from custom_components.liuzhou_appliances.link import (
    connection as link_connection,
    server as link_server,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.pairing import (
    PairingResponder,
    PairingWindow,
    PairStep,
)
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity, ApplianceServer
from firmware_bridge import bridge
from firmware_bridge.bridge import simulated_appliances
from firmware_bridge.conformance import CHECK_NAMES, CheckResult, run_conformance
from firmware_bridge.mcu import McuBackend

from .conftest import explain, failed_checks, options_for

TARGET = "target_temperature"  # the air conditioner's setpoint, declared 16-30 in 0.5 steps


# --- wrong bounds --------------------------------------------------------------


class RejectsItsMaximum(McuBackend):
    """Off by one: treats the declared maximum as exclusive."""

    async def write(self, values: Mapping[str, Value]) -> None:
        maximum = self.declaration.capability(TARGET).maximum
        value = values.get(TARGET)
        if isinstance(value, int | float) and maximum is not None and value >= maximum:
            raise LinkError(ErrorCode.OUT_OF_RANGE, f"{TARGET} must be below {maximum}", key=TARGET)
        await super().write(values)


class LenientDeclaration(Declaration):
    """Declares the data model's bounds but checks writes against wider ones."""

    __slots__ = ()

    def validate_write(self, key: str, value: object) -> Value:
        capability = self.capability(key)
        if (
            key == TARGET
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and capability.maximum is not None
            and capability.maximum < value <= capability.maximum + 5
        ):
            return value
        return super().validate_write(key, value)


class AcceptsAboveMaximum(McuBackend):
    """Accepts up to 5 °C above the declared maximum and silently clamps."""

    @property
    def declaration(self) -> Declaration:
        honest = super().declaration
        return LenientDeclaration(
            **{field.name: getattr(honest, field.name) for field in dataclasses.fields(honest)}
        )

    async def write(self, values: Mapping[str, Value]) -> None:
        maximum = super().declaration.capability(TARGET).maximum
        clamped = dict(values)
        value = clamped.get(TARGET)
        if isinstance(value, int | float) and maximum is not None:
            clamped[TARGET] = min(value, maximum)
        await super().write(clamped)


# --- missing push --------------------------------------------------------------


class NeverPushes(McuBackend):
    """Change notifications are never wired to the hub sessions."""

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        return lambda: None


# --- commissioning ---------------------------------------------------------------


class TrustingResponder(PairingResponder):
    """Does not check the hub's confirmation: hands its key to anyone guessing."""

    def handle_confirm(self, payload: bytes) -> bytes:
        try:
            return super().handle_confirm(payload)
        except LinkError as err:
            if err.code is not ErrorCode.WRONG_CODE or self._schedule is None:
                raise
            honest = bytes([PairStep.CONFIRM]) + self._schedule.hub_confirmation()
            return super().handle_confirm(honest)


class VagueResponder(PairingResponder):
    """Rejects a wrong code, but with AUTH_FAILED: the hub cannot tell the user to retype it."""

    def handle_confirm(self, payload: bytes) -> bytes:
        try:
            return super().handle_confirm(payload)
        except LinkError as err:
            if err.code is ErrorCode.WRONG_CODE:
                raise LinkError(ErrorCode.AUTH_FAILED, "pairing failed") from None
            raise


# --- no pairing window ----------------------------------------------------------


class AlwaysOpenWindow(PairingWindow):
    """Accepts pairing at any time, paired or not: every stranger gets guesses."""

    def is_open(self, *, paired: bool) -> bool:
        return True


# --- crash on garbage ----------------------------------------------------------


class _TripwireReader:
    """Passes reads through; a first byte that is no frame type "crashes the firmware"."""

    def __init__(self, inner: asyncio.StreamReader, crash: Callable[[], None]) -> None:
        self._inner = inner
        self._crash = crash
        self._first = True

    async def readexactly(self, count: int) -> bytes:
        data = await self._inner.readexactly(count)
        if self._first:
            self._first = False
            if data[0] not in (1, 2, 3, 4, 5):
                self._crash()
                raise ConnectionResetError("firmware crashed")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CrashesOnGarbage(ApplianceServer):
    """Its network task dies on a malformed first frame: no more connections accepted."""

    async def handle_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        def crash() -> None:
            self.crash_task = asyncio.get_running_loop().create_task(self.stop())

        await super().handle_stream(_TripwireReader(reader, crash), writer)  # type: ignore[arg-type]


# --- wrong TXT record ------------------------------------------------------------


def stale_firmware_service_info(identity: ApplianceIdentity, **kwargs: Any) -> ServiceInfo:
    """Advertises the firmware it shipped with, not the one it runs."""
    return bridge_build_service_info(dataclasses.replace(identity, firmware="0.9.0"), **kwargs)


bridge_build_service_info = bridge.build_service_info


# --- the runs ------------------------------------------------------------------


async def _run_ac(seed: int) -> list[CheckResult]:
    async with simulated_appliances(ac=1, seed=seed) as (appliance,):
        return await run_conformance(options_for(appliance))


# variant -> (where the bridge builds the component, name, broken subclass),
#            the checks it must fail, and a phrase the failure detail must contain.
VARIANTS: dict[str, tuple[tuple[Any, str, Any], set[str], str]] = {
    "rejects_its_maximum": (
        (bridge, "McuBackend", RejectsItsMaximum),
        {"writes_and_bounds"},
        "target_temperature=30 rejected (OUT_OF_RANGE",
    ),
    "accepts_above_maximum": (
        (bridge, "McuBackend", AcceptsAboveMaximum),
        {"writes_and_bounds"},
        "target_temperature=30.5 (above max): accepted, expected OUT_OF_RANGE",
    ),
    "never_pushes": (
        (bridge, "McuBackend", NeverPushes),
        {"pushed_updates"},
        "was accepted but no push brought it within 1 s",
    ),
    "accepts_wrong_code": (
        (link_connection, "PairingResponder", TrustingResponder),
        {"commissioning"},
        "wrong code accepted",
    ),
    "vague_wrong_code": (
        (link_connection, "PairingResponder", VagueResponder),
        {"commissioning"},
        "wrong code answered error AUTH_FAILED (pairing failed), expected WRONG_CODE",
    ),
    "ignores_pairing_window": (
        (link_server, "PairingWindow", AlwaysOpenWindow),
        {"commissioning"},
        "pairing accepted after pairing without the pairing button",
    ),
    # A dead device cannot be reconnected to either, nor its voice panel or models checked.
    "crashes_on_garbage": (
        (bridge, "ApplianceServer", CrashesOnGarbage),
        {"malformed_requests", "reconnect", "voice_panel", "declared_models"},
        "after garbage: no fresh session",
    ),
    "stale_txt_record": (
        (bridge, "build_service_info", stale_firmware_service_info),
        {"discovery_record"},
        "TXT fw '0.9.0' but HELLO says 'sim-1.0.0'",
    ),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
async def test_broken_variant_fails_exactly_its_checks(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (module, name, replacement), expected, phrase = VARIANTS[variant]
    monkeypatch.setattr(module, name, replacement)
    results = await _run_ac(seed=200 + list(VARIANTS).index(variant))
    assert [r.check for r in results] == list(CHECK_NAMES)
    assert failed_checks(results) == expected, explain(results)
    first_failure = next(r for r in results if not r.passed)
    assert phrase in first_failure.detail, explain(results)
