"""The link package's public API: what ``link/__init__.py`` exports, pinned."""

from __future__ import annotations

from custom_components.liuzhou_appliances import link
from custom_components.liuzhou_appliances.link import errors

PUBLIC_API = {
    # errors
    "LinkError", "ErrorCode", "error_for", "CodecError", "TransportError",
    "ApplianceUnreachable", "ConnectionClosed", "KeyRejectedError", "ValueRejectedError",
    "MalformedError", "UnsupportedVersionError", "UnknownMessageError",
    "UnknownCapabilityError", "OutOfRangeError", "ReadOnlyError", "InvalidStateError",
    "BusyError", "AuthFailedError", "WrongCodeError", "RateLimitedError", "NotPairedError",
    "TooLargeError", "InternalError", "TimedOutError", "UnsupportedCommandError",
    "McuUnavailableError", "InvalidTypeError",
    # model
    "APPLIANCE_TYPES", "ApplianceType", "Capability", "Declaration", "DeclarationError",
    "OperationalState", "Programme", "Value", "ValueKind",
    # the neural models an appliance declares it runs (PROTOCOL.md 7.6)
    "DeclaredModel",
    # codec
    "SUPPORTED_VERSIONS", "HelloInfo",
    # transports
    "FrameTransport", "TcpTransport", "OpenTransport",
    # BLE: the GATT service, advertisements, the hub's transport, the shared framing
    "SERVICE_UUID", "WRITE_CHARACTERISTIC_UUID", "NOTIFY_CHARACTERISTIC_UUID", "FragmentError",
    "BleAdvertisement", "AdvertisementError", "build_service_data", "parse_service_data",
    "advertising_data", "scan_response_data", "BleTransport", "GattClient",
    "ConnectGattClient", "DisconnectedCallback", "FragmentedTransport",
    # pairing
    "PAIRING_WINDOW_S", "InvalidPairingCode", "PairingLimiter", "PairingWindow",
    "FilePairingStateStore", "MemoryPairingStateStore", "format_pairing_code",
    "generate_pairing_code", "normalise_pairing_code",
    # hub side
    "ApplianceClient", "PairingResult", "SecureChannel", "pair", "ReconnectLogic",
    "reconnect_delay",
    # appliance side
    "ApplianceServer", "ApplianceBackend", "ApplianceIdentity", "KeyStore", "FileKeyStore",
    "MemoryKeyStore",
    # the voice panel (PROTOCOL.md 7.5): declaration, push, the panel's hook, the relay, limits
    "VoicePanel", "Utterance", "VoicePanelBackend", "PanelSpeech", "PanelRelay",
    "MAX_UNANSWERED", "UTTERANCE_TIMEOUT_S",
    # discovery
    "DEFAULT_PORT", "SERVICE_TYPE", "DiscoveryError", "DiscoveryRecord", "build_txt",
    "parse_txt", "service_name",
}  # fmt: skip


def test_the_public_api_is_pinned() -> None:
    assert set(link.__all__) == PUBLIC_API
    assert len(link.__all__) == len(PUBLIC_API)
    for name in link.__all__:
        assert getattr(link, name) is not None


def test_an_advertisement_round_trips_through_the_public_names() -> None:
    data = link.build_service_data("lz-dw-1", link.ApplianceType.DISHWASHER, paired=True)
    heard = link.parse_service_data(data)
    assert heard == link.BleAdvertisement(
        link.ApplianceType.DISHWASHER, heard.id_digest, paired=True
    )
    assert heard.is_for("lz-dw-1")
    assert not heard.is_for("lz-dw-2")
    assert issubclass(link.BleTransport, link.FragmentedTransport)
    assert issubclass(link.FragmentError, link.CodecError)


def test_every_wire_code_has_its_own_error_class() -> None:
    for code in errors.ErrorCode:
        error = errors.error_for(code, "detail", key="k")
        assert type(error) is errors.error_class(code)
        assert type(error) is not errors.LinkError
        assert error.code is code
        assert (error.message, error.key) == ("detail", "k")
        assert str(error) == f"{code.name}: detail"
        assert error.means(type(error))


def test_transport_errors_belong_to_the_family() -> None:
    lost = errors.ApplianceUnreachable("connection lost: reset")
    assert isinstance(lost, errors.TransportError)
    assert isinstance(lost, errors.LinkError)
    assert str(lost) == "connection lost: reset"
    assert not lost.means(errors.TimedOutError)


def test_a_generic_error_means_what_its_code_says() -> None:
    refused = errors.LinkError(errors.ErrorCode.NOT_PAIRED, "reset")
    assert type(refused) is errors.LinkError
    assert refused.means(errors.KeyRejectedError)
    assert not refused.means(errors.ValueRejectedError)
    assert errors.OutOfRangeError("too hot").means(errors.ValueRejectedError)
