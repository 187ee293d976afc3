"""The appliance's BLE side: the GATT service of PROTOCOL.md 11 on the Bumble host stack.

``radio.py`` opens the controller (a real one through an HCI transport, or a
virtual one on an in-process link), ``peripheral.py`` serves one appliance's
GATT service and advertisement on it, ``transport.py`` makes each BLE
connection a ``FrameTransport`` for ``ApplianceServer.serve``.
"""

from .peripheral import BlePeripheral
from .radio import VIRTUAL, BleRadio, VirtualLink, address_for, open_radio

__all__ = ["VIRTUAL", "BlePeripheral", "BleRadio", "VirtualLink", "address_for", "open_radio"]
