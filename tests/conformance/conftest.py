"""Shared pieces of the conformance kit tests: real simulated appliances, fast options."""

from __future__ import annotations

import asyncio

import pytest

from firmware_bridge.bridge import SimulatedProduct
from firmware_bridge.conformance import CheckResult, ConformanceOptions

# Short waits: a healthy simulator answers in milliseconds; the idle period only
# needs to be longer than any gap between requests.
FAST = {"timeout": 2.0, "push_timeout": 1.0, "settle_timeout": 1.0, "idle": 0.5}


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """Serve and connect over 127.0.0.1 (Home Assistant's test plugin blocks sockets)."""


@pytest.fixture(autouse=True)
async def _no_asyncio_debug() -> None:
    """Run at normal speed: Home Assistant's plugin turns on asyncio debug mode, whose
    per-callback bookkeeping triples the runtime of a conformance run (hundreds of
    requests); the link and firmware_bridge suites keep it on for the same code."""
    asyncio.get_running_loop().set_debug(False)


def options_for(appliance: SimulatedProduct, **overrides: object) -> ConformanceOptions:
    """Kit options aimed at one simulated appliance."""
    settings: dict[str, object] = {**FAST, **overrides}
    return ConformanceOptions(appliance.host, appliance.port, appliance.code, **settings)  # type: ignore[arg-type]


def failed_checks(results: list[CheckResult]) -> set[str]:
    """Names of the checks that did not pass (not-applicable ones aside)."""
    return {result.check for result in results if not result.counts}


def explain(results: list[CheckResult]) -> str:
    """Every result on its own line, for assertion messages."""
    return "\n".join(f"{r.status.value} {r.check}: {r.detail}" for r in results)
