"""The conformance kit: exercise a real device exactly as the hub does.

``python -m firmware_bridge conformance HOST:PORT --code CODE [--json]``, or
``--ble ADDRESS [--ble-transport SPEC]`` instead of HOST:PORT;
see firmware_bridge/CONFORMANCE.md for every check.
"""

from __future__ import annotations

from .checks import BLE_CHECK_NAMES, BLE_CHECKS, CHECK_NAMES, CHECKS, checks_for
from .cli import run_cli
from .runner import CheckResult, ConformanceOptions, Status, run_checks


async def run_conformance(
    options: ConformanceOptions, *, skip_discovery: bool = False
) -> list[CheckResult]:
    """Run every check in order against ``options.host``:``options.port`` (or over BLE).

    ``skip_discovery`` skips the discovery check of the transport
    (``discovery_record``, or ``ble_advertisement`` over BLE).
    """
    name = "discovery_record" if options.ble is None else "ble_advertisement"
    skip = {name: "skipped on request"} if skip_discovery else {}
    return await run_checks(checks_for(options), options, skip=skip)


__all__ = [
    "BLE_CHECKS",
    "BLE_CHECK_NAMES",
    "CHECKS",
    "CHECK_NAMES",
    "CheckResult",
    "ConformanceOptions",
    "Status",
    "checks_for",
    "run_checks",
    "run_cli",
    "run_conformance",
]
