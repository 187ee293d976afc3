"""BLE advertisement of Liuzhou appliances: service data under the service UUID.

Legacy advertising leaves 31 bytes per packet. Flags (3) and the service data
header with a 128-bit UUID (18) leave 10 bytes of service data, so the
advertisement carries the appliance type and a digest of the appliance id,
and the scan response carries the id itself as the local name
(PROTOCOL.md 11.1)::

    service data (10 bytes) = format_flags u8 | type u8 | id_digest 8 bytes
    format_flags: bits 4-7 format (1), bit 0 paired, bits 1-3 change counter
    type:        1 room_air_conditioner, 2 refrigerator, 3 laundry_washer, 4 dishwasher
    id_digest:   the first 8 bytes of SHA-256(appliance id, ASCII)

A hub that knows an appliance's id recognises it from the advertisement
alone (passive scanning gets no scan response); a new appliance's id is in
the scan response and, in any case, in its HELLO. The change counter is the
appliance's state ``seq`` (PROTOCOL.md 7.3) modulo 8: a hub that let an
on-demand appliance's connection go sees from it that the state moved.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
from typing import Final
import uuid

from .ble import SERVICE_UUID
from .model import ApplianceType

FORMAT: Final = 1
SERVICE_DATA_SIZE: Final = 10
DIGEST_SIZE: Final = 8
PAIRED_FLAG: Final = 0x01
CHANGES_SHIFT: Final = 1
CHANGES_MODULO: Final = 8
# Longest local name that fits a scan response: 31 bytes less the AD length and type.
MAX_NAME_BYTES: Final = 29

TYPE_CODES: Final[dict[ApplianceType, int]] = {
    ApplianceType.ROOM_AIR_CONDITIONER: 1,
    ApplianceType.REFRIGERATOR: 2,
    ApplianceType.LAUNDRY_WASHER: 3,
    ApplianceType.DISHWASHER: 4,
}
_TYPES_BY_CODE: Final = {code: kind for kind, code in TYPE_CODES.items()}

# AD types (Bluetooth Assigned Numbers, "Common Data Types").
AD_FLAGS: Final = 0x01
AD_SHORTENED_LOCAL_NAME: Final = 0x08
AD_COMPLETE_LOCAL_NAME: Final = 0x09
AD_SERVICE_DATA_128: Final = 0x21
# LE General Discoverable, BR/EDR not supported.
FLAGS_VALUE: Final = 0x06


class AdvertisementError(ValueError):
    """Service data that is not a Liuzhou appliance's."""


@dataclass(frozen=True, slots=True)
class BleAdvertisement:
    """What the service data says."""

    type: ApplianceType
    id_digest: bytes
    paired: bool
    # The appliance's state seq modulo CHANGES_MODULO (0 from appliances that do not count).
    changes: int = 0

    def is_for(self, appliance_id: str) -> bool:
        """Whether this advertisement is (with odds of 2^-64 against) that appliance's."""
        return id_digest(appliance_id) == self.id_digest


def id_digest(appliance_id: str) -> bytes:
    """The 8-byte digest of an appliance id that the advertisement carries."""
    return hashlib.sha256(appliance_id.encode("ascii")).digest()[:DIGEST_SIZE]


def build_service_data(
    appliance_id: str, appliance_type: ApplianceType, *, paired: bool, seq: int = 0
) -> bytes:
    """The 10 bytes of service data under SERVICE_UUID; ``seq`` is the state seq."""
    flags = (
        (FORMAT << 4) | ((seq % CHANGES_MODULO) << CHANGES_SHIFT) | (PAIRED_FLAG if paired else 0)
    )
    return bytes([flags, TYPE_CODES[appliance_type]]) + id_digest(appliance_id)


def parse_service_data(data: bytes) -> BleAdvertisement:
    """Read service data found under SERVICE_UUID; AdvertisementError if it is not ours.

    Longer data of the same format is accepted (a later format may append).
    """
    if len(data) < SERVICE_DATA_SIZE:
        raise AdvertisementError(f"service data of {len(data)} bytes, at least 10 expected")
    if data[0] >> 4 != FORMAT:
        raise AdvertisementError(f"unknown service data format {data[0] >> 4}")
    kind = _TYPES_BY_CODE.get(data[1])
    if kind is None:
        raise AdvertisementError(f"unknown appliance type code {data[1]}")
    return BleAdvertisement(
        type=kind,
        id_digest=bytes(data[2:SERVICE_DATA_SIZE]),
        paired=bool(data[0] & PAIRED_FLAG),
        changes=(data[0] >> CHANGES_SHIFT) % CHANGES_MODULO,
    )


def _ad(ad_type: int, value: bytes) -> bytes:
    return bytes([len(value) + 1, ad_type]) + value


def advertising_data(
    appliance_id: str, appliance_type: ApplianceType, *, paired: bool, seq: int = 0
) -> bytes:
    """The advertising packet (31 bytes): flags and the service data."""
    service = uuid.UUID(SERVICE_UUID).bytes[::-1]  # 128-bit UUIDs go little-endian in AD
    return _ad(AD_FLAGS, bytes([FLAGS_VALUE])) + _ad(
        AD_SERVICE_DATA_128,
        service + build_service_data(appliance_id, appliance_type, paired=paired, seq=seq),
    )


def scan_response_data(appliance_id: str) -> bytes:
    """The scan response: the appliance id as the local name (shortened past 29 bytes)."""
    name = appliance_id.encode("ascii")
    if len(name) <= MAX_NAME_BYTES:
        return _ad(AD_COMPLETE_LOCAL_NAME, name)
    return _ad(AD_SHORTENED_LOCAL_NAME, name[:MAX_NAME_BYTES])
