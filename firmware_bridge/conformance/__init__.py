"""The conformance kit: exercise a real device exactly as the hub does.

``python -m firmware_bridge conformance HOST:PORT --code CODE [--json]``;
see firmware_bridge/CONFORMANCE.md for every check.
"""

from __future__ import annotations

from .checks import CHECK_NAMES, CHECKS
from .cli import run_cli
from .runner import CheckResult, ConformanceOptions, Status, run_checks


async def run_conformance(
    options: ConformanceOptions, *, skip_discovery: bool = False
) -> list[CheckResult]:
    """Run every check in order against ``options.host``:``options.port``."""
    skip = {"discovery_record": "skipped on request"} if skip_discovery else {}
    return await run_checks(CHECKS, options, skip=skip)


__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "CheckResult",
    "ConformanceOptions",
    "Status",
    "run_checks",
    "run_cli",
    "run_conformance",
]
