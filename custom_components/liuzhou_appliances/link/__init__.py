"""Liuzhou appliance link: data model, wire codec, crypto, sessions and transports.

Imports nothing from Home Assistant: the integration and firmware_bridge
(the appliance's network module) both use this one package. The names below
are its public API (a test pins the list); the modules hold more for the
conformance kit and tests.

errors.py      the error family (LinkError and one class per wire code)
model.py       appliance types, attributes, commands (the tables)
declaration.py a model's declaration: capabilities, programmes, their checks
codec.py       outer frames, HELLO/ERROR payloads, inner JSON messages
messages.py    typed inner messages (requests, answers, pushes)
transport.py   FrameTransport (the seam), TcpTransport
pairing.py     SPAKE2 commissioning, pairing window and limiter
session.py     Noise session encryption
channel.py     hub side: PlaintextConnection, SecureChannel (the connection below a session)
commissioning.py   hub side: pair() (the printed code for the long-term key)
client.py      hub side: ApplianceClient (public API, lifecycle, read loop)
requests.py    hub side: requests in flight (ids, futures, answer deadlines)
pushed_state.py    hub side: a session's values (checks, merged pushes, kept past a read)
session_timer.py   hub side: one timer per session (deadlines, keepalive pings)
reconnect.py   hub side: ReconnectLogic (backoff, wake-up, two log lines)
server.py      appliance side: ApplianceServer (limits, pairing state, connections)
backend.py     appliance side: ApplianceIdentity, ApplianceBackend (what is served)
connection.py  appliance side: one connection's plaintext phase (HELLO, pairing, handshake)
appliance_session.py   appliance side: the authenticated session (requests, pushes)
keystore.py    appliance side: KeyStore, MemoryKeyStore, FileKeyStore
discovery.py   DNS-SD service type and TXT record
ble.py         BLE GATT service UUIDs and fragmentation
ble_advertisement.py   BLE advertisement: service data (type, id digest, paired flag)
fragmented.py  FragmentedTransport: frames as fragments over GATT values (both sides)
ble_client.py  hub side: BleTransport over a bleak-compatible GattClient
voice.py       the voice panel's limits; appliance side: PanelRelay (utterances, replies)
voice_client.py  hub side: reading and checking utterance pushes for ApplianceClient
"""

from .backend import ApplianceBackend, ApplianceIdentity, PanelSpeech, VoicePanelBackend
from .ble import NOTIFY_CHARACTERISTIC_UUID, SERVICE_UUID, WRITE_CHARACTERISTIC_UUID, FragmentError
from .ble_advertisement import (
    AdvertisementError,
    BleAdvertisement,
    advertising_data,
    build_service_data,
    parse_service_data,
    scan_response_data,
)
from .ble_client import BleTransport, ConnectGattClient, DisconnectedCallback, GattClient
from .channel import OpenTransport, SecureChannel
from .client import ApplianceClient
from .codec import SUPPORTED_VERSIONS, HelloInfo
from .commissioning import PairingResult, pair
from .declaration import Capability, Declaration, DeclarationError, Programme, VoicePanel
from .declared_models import DeclaredModel
from .discovery import (
    DEFAULT_PORT,
    SERVICE_TYPE,
    DiscoveryError,
    DiscoveryRecord,
    build_txt,
    parse_txt,
    service_name,
)
from .errors import (
    ApplianceUnreachable,
    AuthFailedError,
    BusyError,
    CodecError,
    ConnectionClosed,
    ErrorCode,
    InternalError,
    InvalidStateError,
    InvalidTypeError,
    KeyRejectedError,
    LinkError,
    MalformedError,
    McuUnavailableError,
    NotPairedError,
    OutOfRangeError,
    RateLimitedError,
    ReadOnlyError,
    TimedOutError,
    TooLargeError,
    TransportError,
    UnknownCapabilityError,
    UnknownMessageError,
    UnsupportedCommandError,
    UnsupportedVersionError,
    ValueRejectedError,
    WrongCodeError,
    error_for,
)
from .fragmented import FragmentedTransport
from .keystore import FileKeyStore, KeyStore, MemoryKeyStore
from .messages import Utterance
from .model import APPLIANCE_TYPES, ApplianceType, OperationalState, Value, ValueKind
from .pairing import (
    PAIRING_WINDOW_S,
    FilePairingStateStore,
    InvalidPairingCode,
    MemoryPairingStateStore,
    PairingLimiter,
    PairingWindow,
    format_pairing_code,
    generate_pairing_code,
    normalise_pairing_code,
)
from .reconnect import ReconnectLogic, reconnect_delay
from .server import ApplianceServer
from .transport import FrameTransport, TcpTransport
from .voice import MAX_UNANSWERED, UTTERANCE_TIMEOUT_S, PanelRelay

__all__ = [
    "APPLIANCE_TYPES",
    "DEFAULT_PORT",
    "MAX_UNANSWERED",
    "NOTIFY_CHARACTERISTIC_UUID",
    "PAIRING_WINDOW_S",
    "SERVICE_TYPE",
    "SERVICE_UUID",
    "SUPPORTED_VERSIONS",
    "UTTERANCE_TIMEOUT_S",
    "WRITE_CHARACTERISTIC_UUID",
    "AdvertisementError",
    "ApplianceBackend",
    "ApplianceClient",
    "ApplianceIdentity",
    "ApplianceServer",
    "ApplianceType",
    "ApplianceUnreachable",
    "AuthFailedError",
    "BleAdvertisement",
    "BleTransport",
    "BusyError",
    "Capability",
    "CodecError",
    "ConnectGattClient",
    "ConnectionClosed",
    "Declaration",
    "DeclarationError",
    "DeclaredModel",
    "DisconnectedCallback",
    "DiscoveryError",
    "DiscoveryRecord",
    "ErrorCode",
    "FileKeyStore",
    "FilePairingStateStore",
    "FragmentError",
    "FragmentedTransport",
    "FrameTransport",
    "GattClient",
    "HelloInfo",
    "InternalError",
    "InvalidPairingCode",
    "InvalidStateError",
    "InvalidTypeError",
    "KeyRejectedError",
    "KeyStore",
    "LinkError",
    "MalformedError",
    "McuUnavailableError",
    "MemoryKeyStore",
    "MemoryPairingStateStore",
    "NotPairedError",
    "OpenTransport",
    "OperationalState",
    "OutOfRangeError",
    "PairingLimiter",
    "PairingResult",
    "PairingWindow",
    "PanelRelay",
    "PanelSpeech",
    "Programme",
    "RateLimitedError",
    "ReadOnlyError",
    "ReconnectLogic",
    "SecureChannel",
    "TcpTransport",
    "TimedOutError",
    "TooLargeError",
    "TransportError",
    "UnknownCapabilityError",
    "UnknownMessageError",
    "UnsupportedCommandError",
    "UnsupportedVersionError",
    "Utterance",
    "Value",
    "ValueKind",
    "ValueRejectedError",
    "VoicePanel",
    "VoicePanelBackend",
    "WrongCodeError",
    "advertising_data",
    "build_service_data",
    "build_txt",
    "error_for",
    "format_pairing_code",
    "generate_pairing_code",
    "normalise_pairing_code",
    "pair",
    "parse_service_data",
    "parse_txt",
    "reconnect_delay",
    "scan_response_data",
    "service_name",
]
