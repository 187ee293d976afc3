"""Zeroconf (mDNS/DNS-SD) advertisement schema of Liuzhou appliances.

The bridge advertises with ``build_txt()``; the integration reads records with
``parse_txt()``. TXT keys: ``id`` appliance id, ``type`` appliance type,
``model``, ``fw`` firmware, ``proto`` protocol version ("1", or a range
"1-2"), ``paired`` "0"/"1".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Final

from .model import ApplianceType

SERVICE_TYPE: Final = "_liuzhou._tcp.local."
DEFAULT_PORT: Final = 6780
TXT_KEYS: Final = ("id", "type", "model", "fw", "proto", "paired")

_ID_PATTERN: Final = re.compile(r"[a-z0-9-]{1,64}")
_PROTO_PATTERN: Final = re.compile(r"([1-9][0-9]{0,2})(?:-([1-9][0-9]{0,2}))?")


class DiscoveryError(ValueError):
    """A TXT record that does not describe a Liuzhou appliance."""


@dataclass(frozen=True, slots=True)
class DiscoveryRecord:
    """What an appliance advertises."""

    appliance_id: str
    type: ApplianceType
    model: str
    firmware: str
    protocol_min: int
    protocol_max: int
    paired: bool

    def supports(self, version: int) -> bool:
        """Whether the appliance speaks protocol ``version``."""
        return self.protocol_min <= version <= self.protocol_max


def service_name(appliance_id: str) -> str:
    """The DNS-SD instance name of an appliance."""
    return f"{appliance_id}.{SERVICE_TYPE}"


def build_txt(
    *,
    appliance_id: str,
    appliance_type: ApplianceType,
    model: str,
    firmware: str,
    paired: bool,
    protocol: tuple[int, int] = (1, 1),
) -> dict[str, str]:
    """The TXT properties to advertise (checked with ``parse_txt``)."""
    low, high = protocol
    txt = {
        "id": appliance_id,
        "type": str(appliance_type),
        "model": model,
        "fw": firmware,
        "proto": str(low) if low == high else f"{low}-{high}",
        "paired": "1" if paired else "0",
    }
    parse_txt(txt)
    return txt


def _text(value: bytes | str | None, key: str) -> str:
    if value is None:
        raise DiscoveryError(f"TXT key {key!r} is missing")
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise DiscoveryError(f"TXT key {key!r} is not UTF-8") from None
    return value


def parse_txt(
    properties: Mapping[bytes, bytes | None] | Mapping[str, str | None],
) -> DiscoveryRecord:
    """Parse TXT properties (as zeroconf gives them, bytes or str); DiscoveryError if bad."""
    values: dict[str, str] = {}
    for raw_key, raw_value in properties.items():
        key = _text(raw_key, "key").lower()
        if key in TXT_KEYS:
            values[key] = _text(raw_value, key)
    for key in TXT_KEYS:
        if key not in values:
            raise DiscoveryError(f"TXT key {key!r} is missing")
    appliance_id = values["id"]
    if not _ID_PATTERN.fullmatch(appliance_id):
        raise DiscoveryError(f"id {appliance_id!r} must be 1-64 of a-z 0-9 -")
    try:
        appliance_type = ApplianceType(values["type"])
    except ValueError:
        raise DiscoveryError(f"unknown appliance type {values['type']!r}") from None
    for key in ("model", "fw"):
        if not 0 < len(values[key]) <= 64:
            raise DiscoveryError(f"{key} must be 1-64 characters")
    match = _PROTO_PATTERN.fullmatch(values["proto"])
    if match is None:
        raise DiscoveryError(f"proto {values['proto']!r} must be like 1 or 1-2")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not low <= high <= 255:
        raise DiscoveryError(f"proto range {values['proto']!r} is empty or above 255")
    if values["paired"] not in ("0", "1"):
        raise DiscoveryError("paired must be 0 or 1")
    return DiscoveryRecord(
        appliance_id=appliance_id,
        type=appliance_type,
        model=values["model"],
        firmware=values["fw"],
        protocol_min=low,
        protocol_max=high,
        paired=values["paired"] == "1",
    )
