"""The MCU serial link of the network module (specified in firmware_bridge/SERIAL.md).

``frames`` frames bytes, ``values`` encodes payloads from the data model,
``links`` carries bytes (UART or in-process), ``endpoint`` matches requests
and replies, ``backend`` is the module's ApplianceBackend and ``simulated``
is the MCU end of the link, answering from a physics model.
"""

from __future__ import annotations

from .backend import COMMUNICATION_FAULT, McuBackend, McuError
from .endpoint import FrameEndpoint, LinkClosed, PeerTimeout
from .frames import Frame, FrameDecoder, FrameType, crc16_ccitt_false
from .links import ByteLink, MemoryLink, StreamLink, memory_link_pair, open_serial_link
from .simulated import SimulatedSerialMcu
from .values import McuInfo, PayloadError

__all__ = [
    "COMMUNICATION_FAULT",
    "ByteLink",
    "Frame",
    "FrameDecoder",
    "FrameEndpoint",
    "FrameType",
    "LinkClosed",
    "McuBackend",
    "McuError",
    "McuInfo",
    "MemoryLink",
    "PayloadError",
    "PeerTimeout",
    "SimulatedSerialMcu",
    "StreamLink",
    "crc16_ccitt_false",
    "memory_link_pair",
    "open_serial_link",
]
