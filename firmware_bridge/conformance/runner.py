"""The conformance run: options, results, the shared context and the check sequence."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
import math
import sys
import time
from typing import TYPE_CHECKING, Any, Final

from custom_components.liuzhou_appliances.link.client import (
    ApplianceClient,
    OpenTransport,
    SecureChannel,
)
from custom_components.liuzhou_appliances.link.codec import HelloInfo
from custom_components.liuzhou_appliances.link.declaration import Capability, Declaration
from custom_components.liuzhou_appliances.link.errors import LinkError, TransportError
from custom_components.liuzhou_appliances.link.model import OperationalState, Value, ValueKind

if TYPE_CHECKING:
    from firmware_bridge.ble.central import BleCentral

    from .probes import PlainConnection

DEFAULT_HUB_ID: Final = "conformance-kit"
POLL_INTERVAL: Final = 0.05


class CheckFailed(Exception):
    """The device does not behave as the hub expects; the message says how."""


class CheckSkipped(Exception):
    """The check was not run, on request; the message says why."""


class CheckNotApplicable(CheckSkipped):
    """The check does not apply to this transport (zeroconf over BLE) or model (no voice
    panel); the message says why."""


class Status(StrEnum):
    """Outcome of one check."""

    PASSED = "pass"
    FAILED = "fail"
    SKIPPED = "skip"
    # Not for this transport or model: reported, and no obstacle to conformance.
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome, as printed."""

    check: str
    status: Status
    detail: str
    duration_ms: float

    @property
    def passed(self) -> bool:
        """Only a check that ran and passed counts as passed."""
        return self.status is Status.PASSED

    @property
    def counts(self) -> bool:
        """Passed, or does not apply to the transport: what a conformant run needs of each check."""
        return self.status in (Status.PASSED, Status.NOT_APPLICABLE)

    def to_json(self) -> dict[str, Any]:
        """The JSON line of this check."""
        out: dict[str, Any] = {
            "check": self.check,
            "passed": self.passed,
            "detail": self.detail,
            "duration_ms": round(self.duration_ms, 1),
        }
        if self.status in (Status.SKIPPED, Status.NOT_APPLICABLE):
            out["skipped"] = True
        if self.status is Status.NOT_APPLICABLE:
            out["not_applicable"] = True
        return out


@dataclass(frozen=True, slots=True)
class ConformanceOptions:
    """What to test and how patiently (seconds).

    Over TCP ``host``:``port`` is the appliance. Over BLE ``ble`` is the
    central to use and ``host`` the appliance's BLE address (``port`` unused).
    """

    host: str
    port: int
    code: str
    hub_id: str = DEFAULT_HUB_ID
    # Longest wait for any single answer from the device.
    timeout: float = 3.0
    # How long a change may take to arrive as a push.
    push_timeout: float = 3.0
    # How long a write or command may take to show in a read.
    settle_timeout: float = 3.0
    # Idle period the session must survive (the hub pings every 20 s).
    idle: float = 2.0
    discovery: bool = True
    discovery_timeout: float = 5.0
    # Upper bound for one whole check, so a hanging device cannot hang the run.
    check_timeout: float = 60.0
    # The hub's central when the appliance is tested over BLE.
    ble: BleCentral | None = None
    # A second central for the kit's own connections while the hub session is up:
    # two LE devices share at most one connection, so one central cannot hold both.
    ble_side: BleCentral | None = None
    # voice_utterance: prompt someone to speak at the panel, and wait this long for it.
    panel_utterance: bool = False
    utterance_timeout: float = 60.0
    prompt: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr))

    @property
    def transport_name(self) -> str:
        """``ble`` or ``tcp``."""
        return "tcp" if self.ble is None else "ble"

    def opener(self, mtu: int = 517, *, side: bool = False) -> OpenTransport | None:
        """The ``open_transport`` for BLE (offering ``mtu``), None for TCP.

        ``side``: a connection next to the hub session (on ``ble_side`` if given).
        """
        central = (self.ble_side or self.ble) if side else self.ble
        if central is None:
            return None
        return central.opener(self.host, mtu=mtu, timeout=max(self.timeout, 5.0))


@dataclass(slots=True)
class Context:
    """What checks learn and hand on: HELLO, the key, the hub session."""

    options: ConformanceOptions
    hello: HelloInfo | None = None
    key: bytes | None = None
    client: ApplianceClient | None = None
    # What the device said last, kept for checks that run after a session is lost.
    last_declaration: Declaration | None = None
    last_settings: dict[str, Value] | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    # --- prerequisites -------------------------------------------------------

    def require_key(self) -> bytes:
        """The key from commissioning, or fail: nothing after it can run without one."""
        if self.key is None:
            raise CheckFailed("not run: commissioning gave no key")
        return self.key

    def require_client(self) -> ApplianceClient:
        """The hub session opened by capability_declaration, or fail."""
        if self.client is None:
            raise CheckFailed("not run: no hub session (see capability_declaration)")
        if not self.client.connected:
            raise CheckFailed("not run: the device dropped the hub session earlier")
        return self.client

    @property
    def declaration(self) -> Declaration:
        """The declaration of the hub session."""
        declaration = self.require_client().declaration
        if declaration is None:
            raise CheckFailed("not run: the hub session has no declaration")
        return declaration

    # --- sessions ------------------------------------------------------------

    def new_client(self, key: bytes) -> ApplianceClient:
        """A hub-side client configured as the hub configures it, with the kit's timeouts."""
        options = self.options
        return ApplianceClient(
            options.host,
            options.port,
            key,
            hub_id=options.hub_id,
            request_timeout=options.timeout,
            open_transport=options.opener(),
        )

    async def open_channel(self, mtu: int = 517) -> SecureChannel:
        """A fresh raw session (HELLO + Noise handshake) with the stored key.

        ``mtu`` is what a BLE connection offers (23: no exchange).
        """
        options = self.options
        return await SecureChannel.open(
            options.host,
            options.port,
            self.require_key(),
            hub_id=options.hub_id,
            io_timeout=options.timeout,
            open_transport=options.opener(mtu, side=True),
        )

    async def open_plain(self, mtu: int = 517) -> PlainConnection:
        """A connection in the plaintext phase, or CheckFailed if the device cannot be reached."""
        from .probes import PlainConnection  # probes imports this module

        options = self.options
        opener = options.opener(mtu, side=True)
        if opener is None:
            return await PlainConnection.open(options.host, options.port, options.timeout)
        return await PlainConnection.over(opener, options.timeout)

    # --- reading state -------------------------------------------------------

    async def settings(self) -> dict[str, Value]:
        """Current values of every writable capability (what nothing but the hub changes)."""
        declaration = self.declaration
        values = await self.require_client().read()
        settings = {
            key: values[key] for key, cap in declaration.capabilities.items() if cap.writable
        }
        self.last_settings = settings
        return settings

    async def wait_for(
        self, key: str, predicate: Callable[[Value | None], bool], within: float | None = None
    ) -> Value | None:
        """Poll ``key`` until ``predicate`` holds; return the last value read."""
        client = self.require_client()
        deadline = time.monotonic() + (self.options.settle_timeout if within is None else within)
        while True:
            value = (await client.read([key])).get(key)
            if predicate(value) or time.monotonic() >= deadline:
                return value
            await asyncio.sleep(POLL_INTERVAL)

    async def wait_for_value(self, key: str, expected: Value) -> Value | None:
        """Poll ``key`` until it reads ``expected``; return the last value read."""
        capability = self.declaration.capability(key)
        return await self.wait_for(key, lambda value: same_value(capability, value, expected))

    async def wait_for_state(self, *states: OperationalState) -> Value | None:
        """Poll ``operational_state`` until it is one of ``states``."""
        wanted = {str(state) for state in states}
        return await self.wait_for("operational_state", lambda value: value in wanted)

    async def close(self) -> None:
        """End the hub session."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.disconnect()
            self.client = None


def same_value(capability: Capability, actual: object, expected: object) -> bool:
    """Equal as the wire resolution shows them (numbers within half a resolution step)."""
    kind = capability.spec.kind
    if kind in (ValueKind.NUMBER, ValueKind.DURATION):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return False
        if not isinstance(actual, int | float) or not isinstance(expected, int | float):
            return False
        tolerance = 0.5 * 10.0**-capability.spec.decimals
        return math.isclose(actual, expected, abs_tol=tolerance * 0.999 + 1e-9)
    if kind is ValueKind.BOOL:
        return isinstance(actual, bool) and actual is expected
    return actual == expected


def settings_differences(
    declaration: Declaration, before: Mapping[str, Value], after: Mapping[str, Value]
) -> list[str]:
    """Human-readable differences between two settings snapshots."""
    out = []
    for key, value in before.items():
        if not same_value(declaration.capability(key), after.get(key), value):
            out.append(f"{key} {value!r} -> {after.get(key)!r}")
    return out


def describe_error(err: BaseException) -> str:
    """A short text for an exception raised while talking to the device."""
    if isinstance(err, TransportError):  # inside the LinkError family: asked first
        return f"unreachable: {err}"
    if isinstance(err, LinkError):
        return f"{err.code.name}: {err.message}"
    if isinstance(err, TimeoutError):
        return "timed out"
    return f"{type(err).__name__}: {err}"


type CheckFunction = Callable[[Context], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Check:
    """One named check; ``run`` returns a detail on success or raises CheckFailed."""

    name: str
    summary: str
    run: CheckFunction


async def run_checks(
    checks: Sequence[Check],
    options: ConformanceOptions,
    *,
    on_result: Callable[[CheckResult], None] | None = None,
    skip: Mapping[str, str] | None = None,
) -> list[CheckResult]:
    """Run ``checks`` in order against the device; return (and report) every result.

    ``skip`` maps check names to the reason they are skipped on request.
    """
    context = Context(options)
    results: list[CheckResult] = []
    try:
        for check in checks:
            result = await _run_one(check, context, (skip or {}).get(check.name))
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        await context.close()
    return results


async def _run_one(check: Check, context: Context, skip_reason: str | None) -> CheckResult:
    started = time.perf_counter()
    status = Status.PASSED
    try:
        if skip_reason is not None:
            raise CheckSkipped(skip_reason)
        detail = await asyncio.wait_for(check.run(context), context.options.check_timeout)
    except CheckNotApplicable as not_applicable:
        status, detail = Status.NOT_APPLICABLE, str(not_applicable)
    except CheckSkipped as skipped:
        status, detail = Status.SKIPPED, str(skipped)
    except CheckFailed as failed:
        status, detail = Status.FAILED, str(failed)
    except TimeoutError:
        status = Status.FAILED
        detail = f"the check did not finish within {context.options.check_timeout:g} s"
    except (LinkError, OSError) as err:  # transport errors are LinkErrors
        status, detail = Status.FAILED, f"unexpected: {describe_error(err)}"
    return CheckResult(check.name, status, detail, (time.perf_counter() - started) * 1000)
