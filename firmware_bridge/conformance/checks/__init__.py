"""The checks, in the order the hub meets a device. See firmware_bridge/CONFORMANCE.md.

One module per phase: discovery (before pairing), commissioning, declaration
(the hub's session and reads), writes, commands, session (pushes, keepalive,
reconnect), malformed (bad input), voice (the voice panel) and models (the
neural models it declares); common.py and values.py are shared.
"""

from __future__ import annotations

from typing import Final

from firmware_bridge.conformance.runner import Check, ConformanceOptions

from .ble import (
    check_ble_advertisement,
    check_ble_change_counter,
    check_ble_lost_fragment,
    check_ble_mtu,
    check_ble_paired_flag,
)
from .commands import check_commands
from .commissioning import check_commissioning
from .declaration import check_capability_declaration, check_reads
from .discovery import check_discovery_record, check_version_negotiation
from .malformed import check_malformed_requests
from .models import check_declared_models
from .session import check_keepalive, check_pushed_updates, check_reconnect
from .voice import check_voice_panel, check_voice_utterance
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
    Check("voice_panel", "announcements and replies to the voice panel", check_voice_panel),
    Check("declared_models", "the neural models it declares", check_declared_models),
)
CHECK_NAMES: Final = tuple(check.name for check in CHECKS)

# Over BLE: discovery_record reports itself not applicable; the advertisement, the
# paired flag, the MTU, fragment loss and the change counter (after the pushes) get
# their own checks, where the hub meets them.
BLE_CHECKS: Final = (
    CHECKS[0],
    Check("ble_advertisement", "BLE advertisement and scan response", check_ble_advertisement),
    *CHECKS[1:3],
    Check("ble_paired_flag", "advertisement shows paired", check_ble_paired_flag),
    Check("ble_mtu", "MTU exchange and frames at MTU 23", check_ble_mtu),
    Check("ble_lost_fragment", "a lost fragment ends the session", check_ble_lost_fragment),
    *CHECKS[3:8],
    Check("ble_change_counter", "the advertisement follows the state", check_ble_change_counter),
    *CHECKS[8:],
)
BLE_CHECK_NAMES: Final = tuple(check.name for check in BLE_CHECKS)
# Only when the operator asks (someone must speak at the panel): after all the others.
UTTERANCE_CHECK: Final = Check(
    "voice_utterance", "an utterance from the panel and its reply", check_voice_utterance
)


def checks_for(options: ConformanceOptions) -> tuple[Check, ...]:
    """The checks of a run over ``options``' transport, in order."""
    checks = BLE_CHECKS if options.ble is not None else CHECKS
    return (*checks, UTTERANCE_CHECK) if options.panel_utterance else checks


__all__ = [
    "BLE_CHECKS",
    "BLE_CHECK_NAMES",
    "CHECKS",
    "CHECK_NAMES",
    "UTTERANCE_CHECK",
    "checks_for",
]
