"""The checks, in the order the hub meets a device. See firmware_bridge/CONFORMANCE.md.

One module per phase: discovery (before pairing), commissioning, declaration
(the hub's session and reads), writes, commands, session (pushes, keepalive,
reconnect) and malformed (bad input); common.py and values.py are shared.
"""

from __future__ import annotations

from typing import Final

from firmware_bridge.conformance.runner import Check

from .commands import check_commands
from .commissioning import check_commissioning
from .declaration import check_capability_declaration, check_reads
from .discovery import check_discovery_record, check_version_negotiation
from .malformed import check_malformed_requests
from .session import check_keepalive, check_pushed_updates, check_reconnect
from .writes import check_writes_and_bounds

CHECKS: Final = (
    Check("discovery_record", "zeroconf advertisement and TXT record", check_discovery_record),
    Check("version_negotiation", "protocol version offers", check_version_negotiation),
    Check("commissioning", "pairing with the printed code", check_commissioning),
    Check("capability_declaration", "describe and the hub session", check_capability_declaration),
    Check("reads", "full and partial reads", check_reads),
    Check("writes_and_bounds", "writes inside and outside the bounds", check_writes_and_bounds),
    Check("commands", "operational commands", check_commands),
    Check("pushed_updates", "changes pushed without polling", check_pushed_updates),
    Check("keepalive", "ping and idle sessions", check_keepalive),
    Check("malformed_requests", "bad input and recovery", check_malformed_requests),
    Check("reconnect", "reconnect with the stored key", check_reconnect),
)
CHECK_NAMES: Final = tuple(check.name for check in CHECKS)

__all__ = ["CHECKS", "CHECK_NAMES"]
