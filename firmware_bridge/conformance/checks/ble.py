"""Checks only a BLE appliance has: its advertisement, the paired flag it shows, the MTU it
negotiates, frames at the smallest MTU, a lost fragment and the change counter
(CONFORMANCE.md, "Over BLE")."""

from __future__ import annotations

import asyncio
from typing import Final
import uuid

from custom_components.liuzhou_appliances.link.ble import SERVICE_UUID, fragment
from custom_components.liuzhou_appliances.link.ble_advertisement import (
    AD_COMPLETE_LOCAL_NAME,
    AD_SERVICE_DATA_128,
    AD_SHORTENED_LOCAL_NAME,
    CHANGES_MODULO,
    FORMAT,
    MAX_NAME_BYTES,
    AdvertisementError,
    BleAdvertisement,
    parse_service_data,
)
from custom_components.liuzhou_appliances.link.ble_client import BleTransport
from custom_components.liuzhou_appliances.link.codec import (
    FrameType,
    MessageType,
    encode_frame,
    encode_message,
    request_message,
)
from custom_components.liuzhou_appliances.link.declaration import BleConnection
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from firmware_bridge.ble.central import ScanResult, ad_structures
from firmware_bridge.conformance.probes import Reaction, session_outcome
from firmware_bridge.conformance.runner import (
    CheckFailed,
    CheckNotApplicable,
    Context,
    describe_error,
)

from .common import (
    device_hello,
    fail_if,
    ping_new_session,
    request,
    restore,
    result_of,
    stop_programme,
)
from .session import push_target

# The smallest ATT MTU (no exchange): every frame of some size is several fragments.
SMALLEST_MTU: Final = 23
# How long a device gets to update its advertisement after pairing.
READVERTISE_WAIT_S: Final = 3.0
_SERVICE_UUID_LE: Final = uuid.UUID(SERVICE_UUID).bytes[::-1]


async def _scan(context: Context) -> ScanResult:
    options = context.options
    assert options.ble is not None
    result = await options.ble.scan(options.host, options.discovery_timeout)
    if result is None:
        raise CheckFailed(
            f"{options.host} was not heard advertising within {options.discovery_timeout:g} s"
        )
    return result


def _service_data(result: ScanResult) -> tuple[bytes | None, list[str]]:
    """The service data under SERVICE_UUID in the advertising packet, and problems seen."""
    problems: list[str] = []
    try:
        structures = ad_structures(result.advertising)
    except ValueError as err:
        return None, [f"advertising packet unreadable: {err}"]
    found = [
        value[16:]
        for kind, value in structures
        if kind == AD_SERVICE_DATA_128 and value[:16] == _SERVICE_UUID_LE
    ]
    if not found:
        if result.scan_response and _SERVICE_UUID_LE in result.scan_response:
            problems.append("service data is in the scan response, not the advertising packet")
        else:
            problems.append(f"no service data under {SERVICE_UUID} in the advertising packet")
        return None, problems
    return found[0], problems


async def _advertised(context: Context) -> BleAdvertisement:
    """What the appliance advertises now; CheckFailed if its service data is missing or bad."""
    data, problems = _service_data(await _scan(context))
    fail_if(problems)
    assert data is not None
    try:
        return parse_service_data(data)
    except AdvertisementError as err:
        raise CheckFailed(f"service data {data.hex()}: {err}") from None


async def check_ble_advertisement(context: Context) -> str:
    """Service data (format 1, type, id digest, paired) and the scan response's name match HELLO."""
    result = await _scan(context)
    hello = await device_hello(context)
    data, problems = _service_data(result)
    if not result.connectable:
        problems.append("advertises non-connectable (ADV_IND expected)")
    flags = "?"
    if data is not None:
        try:
            advertised = parse_service_data(data)
        except AdvertisementError as err:
            problems.append(f"service data {data.hex()}: {err}")
        else:
            # Bits 1-3 are the change counter (PROTOCOL.md 11.1): any value is valid.
            flags = f"0x{data[0]:02x}"
            if advertised.type is not hello.type:
                problems.append(f"service data type {advertised.type}, HELLO {hello.type}")
            if not advertised.is_for(hello.appliance_id):
                problems.append(
                    f"id digest {advertised.id_digest.hex()} is not {hello.appliance_id}'s"
                )
            if advertised.paired != hello.paired:
                problems.append(f"paired flag {int(advertised.paired)}, HELLO {int(hello.paired)}")
    if result.scan_response is None:
        problems.append("no scan response (the local name carries the appliance id)")
    else:
        problems += _name_problems(result.scan_response, hello.appliance_id)
    fail_if(problems)
    return (
        f"format {FORMAT}, flags {flags}, type {hello.type}, id digest and "
        f"paired={int(hello.paired)} match HELLO; scan response names {hello.appliance_id}"
    )


def _name_problems(scan_response: bytes, appliance_id: str) -> list[str]:
    try:
        structures = dict(ad_structures(scan_response))
    except ValueError as err:
        return [f"scan response unreadable: {err}"]
    expected = appliance_id.encode("ascii")
    if len(expected) <= MAX_NAME_BYTES:
        name = structures.get(AD_COMPLETE_LOCAL_NAME)
        if name != expected:
            return [f"scan response complete local name {name!r}, expected {appliance_id!r}"]
        return []
    name = structures.get(AD_SHORTENED_LOCAL_NAME)
    if name != expected[:MAX_NAME_BYTES]:
        return [f"scan response shortened local name {name!r}, expected {appliance_id[:29]!r}"]
    return []


async def check_ble_paired_flag(context: Context) -> str:
    """Once commissioned, the advertisement says paired (as TXT ``paired`` does over TCP)."""
    context.require_key()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READVERTISE_WAIT_S
    while True:
        if (await _advertised(context)).paired:
            return "after commissioning the advertisement shows paired=1"
        if loop.time() >= deadline:
            raise CheckFailed(
                "paired but still advertising paired=0 "
                f"{READVERTISE_WAIT_S:g} s after commissioning"
            )


async def check_ble_mtu(context: Context) -> str:
    """Report the MTU the device negotiates; at MTU 23 frames in many fragments go both ways."""
    options = context.options
    channel = await context.open_channel()
    try:
        transport = channel.transport
        negotiated = transport.client.mtu_size if isinstance(transport, BleTransport) else 0
    finally:
        await channel.close()
    problems: list[str] = []
    if negotiated < SMALLEST_MTU:
        problems.append(f"negotiated MTU {negotiated}")
    try:
        channel = await context.open_channel(SMALLEST_MTU)
    except LinkError as err:
        raise CheckFailed(f"no session at MTU 23: {describe_error(err)}") from None
    try:
        # A request of several fragments in, a describe of many fragments out.
        described = result_of(
            await request(channel, 1, MessageType.DESCRIBE, options.timeout),
            1,
            "describe at MTU 23",
        )
    finally:
        await channel.close()
    size = len(encode_message(described))
    if described.get("appliance_id") != (await device_hello(context)).appliance_id:
        problems.append("describe at MTU 23 names another appliance")
    fail_if(problems)
    note = " (the device cannot take 517: both sides use it)" if negotiated < 517 else ""
    return (
        f"offered 517, negotiated {negotiated}{note}; at MTU 23 HELLO, handshake and a "
        f"describe result of {size} bytes (~{size // 19 + 1} fragments) reassembled"
    )


async def check_ble_lost_fragment(context: Context) -> str:
    """A frame missing a middle fragment ends the session cleanly; the next connection works."""
    options = context.options
    channel = await context.open_channel(SMALLEST_MTU)
    try:
        transport = channel.transport
        if not isinstance(transport, BleTransport):
            raise CheckFailed("not run: not a BLE transport")
        # A ping padded to four fragments at MTU 23; the second one is never sent.
        message = request_message(7, MessageType.PING)
        sealed = channel.session.encrypt(encode_message({**message, "pad": "x" * 20}))
        values = fragment(encode_frame(FrameType.ENCRYPTED, sealed), SMALLEST_MTU)
        for value in values[:1] + values[2:]:
            await asyncio.wait_for(transport.send_value(value), options.timeout)
        outcome = await session_outcome(channel, options.timeout)
        verdict = outcome.expect_error_or_close(
            {ErrorCode.MALFORMED}, f"frame of {len(values)} fragments without its second"
        )
        if outcome.reaction is Reaction.ERROR:
            after = await session_outcome(channel, options.timeout)
            if after.reaction is not Reaction.CLOSED:
                raise CheckFailed(
                    f"after its error the device sent {after.describe()}, not a close"
                )
    finally:
        await channel.close()
    try:
        await ping_new_session(context)
    except (CheckFailed, LinkError) as err:
        raise CheckFailed(
            f"{verdict}, but the next connection fails: {describe_error(err)}"
        ) from None
    return f"{verdict}, link dropped; the next connection opens a session"


async def check_ble_change_counter(context: Context) -> str:
    """An on_demand model's advertisement carries its last change's seq modulo 8.

    A hub that let the connection go learns from that counter that the state
    moved (PROTOCOL.md 11.1, 11.6). Not applicable to a persistent model.
    """
    declaration = context.declaration
    if declaration.ble_connection is not BleConnection.ON_DEMAND:
        raise CheckNotApplicable(
            "ble_connection is persistent: a hub keeps the connection and hears every push"
        )
    client = context.require_client()
    await stop_programme(context)
    original = await context.settings()
    key, value = push_target(declaration, original)
    problems: list[str] = []
    seen: list[str] = []
    loop = asyncio.get_running_loop()
    try:
        for target in (value, original[key]):
            await client.write({key: target})
            deadline = loop.time() + READVERTISE_WAIT_S
            while True:
                counter = (await _advertised(context)).changes
                # The session's seq moves with every push it hears, the check's write included.
                expected = client.last_seq % CHANGES_MODULO
                if counter == expected:
                    seen.append(f"{client.last_seq}->{counter}")
                    break
                if loop.time() >= deadline:
                    problems.append(
                        f"after {key}={target!r} the counter is {counter}, not seq "
                        f"{client.last_seq} mod 8 = {expected}, {READVERTISE_WAIT_S:g} s later"
                    )
                    break
    finally:
        await restore(context, original, problems)
    fail_if(problems)
    return f"{key} -> {value!r} and back: the counter followed seq ({', '.join(seen)})"
