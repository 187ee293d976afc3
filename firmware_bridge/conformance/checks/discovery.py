"""Before pairing: the zeroconf record (discovery_record) and HELLO's version choice
(version_negotiation), CONFORMANCE.md checks 1 and 2."""

from __future__ import annotations

from custom_components.liuzhou_appliances.link.codec import (
    SUPPORTED_VERSIONS,
    ClientHello,
    HelloInfo,
)
from custom_components.liuzhou_appliances.link.discovery import (
    DiscoveryError,
    parse_txt,
    service_name,
)
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from firmware_bridge.conformance.browse import find_advertisement
from firmware_bridge.conformance.probes import exchange_hello
from firmware_bridge.conformance.runner import (
    CheckFailed,
    CheckNotApplicable,
    Context,
    describe_error,
)

from .common import device_hello, fail_if


async def check_discovery_record(context: Context) -> str:
    """The zeroconf advertisement exists and agrees with HELLO (TCP only)."""
    options = context.options
    if options.ble is not None:
        raise CheckNotApplicable(
            "zeroconf is how a hub finds a TCP appliance; over BLE ble_advertisement "
            "checks the advertisement instead"
        )
    advertisement, instances = await find_advertisement(
        options.host, options.port, options.discovery_timeout
    )
    hello = await device_hello(context)
    try:
        record = parse_txt(advertisement.properties)
    except DiscoveryError as err:
        raise CheckFailed(f"TXT record of {advertisement.name} is invalid: {err}") from None
    context.notes["discovery"] = record
    problems = [
        f"TXT {name} {txt!r} but HELLO says {said!r}"
        for name, txt, said in (
            ("id", record.appliance_id, hello.appliance_id),
            ("type", str(record.type), str(hello.type)),
            ("model", record.model, hello.model),
            ("fw", record.firmware, hello.firmware),
            ("paired", record.paired, hello.paired),
        )
        if txt != said
    ]
    if not record.supports(hello.protocol):
        problems.append(
            f"TXT proto {record.protocol_min}-{record.protocol_max} excludes the "
            f"version HELLO chose ({hello.protocol})"
        )
    expected_name = service_name(hello.appliance_id)
    if advertisement.name.lower() != expected_name.lower():
        problems.append(f"instance name {advertisement.name!r}, expected {expected_name!r}")
    fail_if(problems)
    proto = (
        str(record.protocol_min)
        if record.protocol_min == record.protocol_max
        else f"{record.protocol_min}-{record.protocol_max}"
    )
    return (
        f"{advertisement.name} at {', '.join(advertisement.addresses)}:{advertisement.port} "
        f"(1 of {instances} seen); TXT id, type, model, fw, proto={proto}, "
        f"paired={int(record.paired)} match HELLO"
    )


async def check_version_negotiation(context: Context) -> str:
    """Overlapping offers get the highest common version; a disjoint one UNSUPPORTED_VERSION."""
    options = context.options
    low, high = SUPPORTED_VERSIONS

    async def offer(min_version: int, max_version: int) -> HelloInfo | LinkError:
        hello = ClientHello(options.hub_id, min_version, max_version)
        try:
            return await exchange_hello(context, hello)
        except LinkError as err:
            return err

    problems: list[str] = []
    usual = await offer(low, high)
    if isinstance(usual, LinkError):
        raise CheckFailed(f"the hub's offer {low}-{high} refused: {describe_error(usual)}")
    if not low <= usual.protocol <= high:
        problems.append(f"offer {low}-{high} answered with version {usual.protocol}")
    context.hello = usual
    steps = [f"offer {low}-{high} -> {usual.protocol}"]

    wide = await offer(1, 255)
    if isinstance(wide, LinkError):
        raise CheckFailed(f"offer 1-255 refused: {describe_error(wide)} (it overlaps)")
    steps.append(f"offer 1-255 -> {wide.protocol}")
    if wide.protocol < usual.protocol:
        problems.append(
            f"offer 1-255 answered {wide.protocol}, below the {usual.protocol} it speaks"
        )
    if wide.appliance_id != usual.appliance_id:
        problems.append("HELLO names a different appliance on the second connection")
    record = context.notes.get("discovery")
    if record is not None and wide.protocol != record.protocol_max:
        problems.append(
            f"offer 1-255 answered {wide.protocol}, but TXT proto says it speaks "
            f"up to {record.protocol_max}"
        )
    if wide.protocol < 255:
        disjoint = await offer(wide.protocol + 1, 255)
        if isinstance(disjoint, HelloInfo):
            problems.append(
                f"offer {wide.protocol + 1}-255 (disjoint) accepted with version "
                f"{disjoint.protocol}; expected UNSUPPORTED_VERSION"
            )
        elif disjoint.code is not ErrorCode.UNSUPPORTED_VERSION:
            problems.append(
                f"offer {wide.protocol + 1}-255 (disjoint) answered "
                f"{describe_error(disjoint)}; expected UNSUPPORTED_VERSION"
            )
        else:
            steps.append(f"offer {wide.protocol + 1}-255 -> UNSUPPORTED_VERSION")
    fail_if(problems)
    return "; ".join(steps)
