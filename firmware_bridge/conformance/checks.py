"""The checks, in the order the hub meets a device. See firmware_bridge/CONFORMANCE.md."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import os
import statistics
import time
from typing import Any, Final

from custom_components.liuzhou_appliances.link.client import SecureChannel, pair
from custom_components.liuzhou_appliances.link.codec import (
    SUPPORTED_VERSIONS,
    ClientHello,
    FrameType,
    HelloInfo,
    MessageType,
    encode_frame,
    encode_message,
    request_message,
)
from custom_components.liuzhou_appliances.link.discovery import (
    DiscoveryError,
    parse_txt,
    service_name,
)
from custom_components.liuzhou_appliances.link.errors import (
    ApplianceUnreachable,
    ErrorCode,
    LinkError,
)
from custom_components.liuzhou_appliances.link.model import (
    Capability,
    Declaration,
    DeclarationError,
    OperationalState,
    Value,
    ValueKind,
)
from custom_components.liuzhou_appliances.link.pairing import (
    KEY_SIZE,
    MAC_SIZE,
    PairingInitiator,
    PairStep,
    normalise_pairing_code,
)
from custom_components.liuzhou_appliances.link.session import hello_transcript

from .browse import find_advertisement
from .probes import Outcome, PlainConnection, Reaction, exchange_hello, session_outcome
from .runner import (
    Check,
    CheckFailed,
    Context,
    describe_error,
    same_value,
    settings_differences,
)

UNKNOWN_KEY: Final = "conformance_no_such_capability"
UNKNOWN_COMMAND: Final = "conformance_no_such_command"
# Delayed start asked for in the commands check (capped by the declared maximum).
DELAY_S: Final = 3600
# Pairing attempts made while the window is closed: more than the 5 failures
# that would lock pairing if they were counted (PROTOCOL.md 5.5).
CLOSED_WINDOW_ATTEMPTS: Final = 6
CLOSED_HINT: Final = (
    "pairing is closed (INVALID_STATE): the device is paired already; "
    "press its pairing button, then run the kit within 15 min"
)


def _fail_if(problems: list[str]) -> None:
    if problems:
        raise CheckFailed("; ".join(problems))


async def _device_hello(context: Context) -> HelloInfo:
    """The device's answer to the hub's usual HELLO (cached)."""
    if context.hello is None:
        options = context.options
        try:
            context.hello = await exchange_hello(
                options.host, options.port, ClientHello(options.hub_id), options.timeout
            )
        except LinkError as err:
            raise CheckFailed(f"HELLO refused: {describe_error(err)}") from None
    return context.hello


async def _request(
    channel: SecureChannel, message_id: int, message_type: MessageType, wait: float, **fields: Any
) -> Outcome:
    channel.send_message(request_message(message_id, message_type, **fields))
    await channel.drain()
    return await session_outcome(channel, wait)


def _result(outcome: Outcome, message_id: int, what: str) -> dict[str, Any]:
    message = outcome.message
    if outcome.reaction is not Reaction.REPLY or message is None:
        raise CheckFailed(f"{what}: expected a result, got {outcome.describe()}")
    if message.get("type") != MessageType.RESULT or message.get("id") != message_id:
        raise CheckFailed(f"{what}: expected result {message_id}, got {message!r:.120}")
    result = message.get("result")
    if not isinstance(result, dict):
        raise CheckFailed(f"{what}: result is not an object")
    return result


# --- discovery_record --------------------------------------------------------


async def check_discovery_record(context: Context) -> str:
    """The zeroconf advertisement exists and agrees with HELLO."""
    options = context.options
    advertisement, instances = await find_advertisement(
        options.host, options.port, options.discovery_timeout
    )
    hello = await _device_hello(context)
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
    _fail_if(problems)
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


# --- version_negotiation -----------------------------------------------------


async def check_version_negotiation(context: Context) -> str:
    """Overlapping offers get the highest common version; a disjoint one UNSUPPORTED_VERSION."""
    options = context.options
    low, high = SUPPORTED_VERSIONS

    async def offer(min_version: int, max_version: int) -> HelloInfo | LinkError:
        hello = ClientHello(options.hub_id, min_version, max_version)
        try:
            return await exchange_hello(options.host, options.port, hello, options.timeout)
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
    _fail_if(problems)
    return "; ".join(steps)


# --- commissioning -----------------------------------------------------------


def wrong_code_for(code: str) -> str:
    """A code one digit away from ``code`` (a plausible typo)."""
    digits = normalise_pairing_code(code)
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


async def _wrong_code_attempt(context: Context, code: str) -> str:
    """One pairing attempt with a wrong code, completed as a guessing attacker would.

    The hub itself notices the device's confirmation does not match; to test
    the device's side the kit then sends a confirmation it cannot have
    computed, which the device must answer with WRONG_CODE and no key.
    """
    options = context.options
    connection = await PlainConnection.open(options.host, options.port, options.timeout)
    try:
        offer = ClientHello(options.hub_id)
        info, server_hello = await connection.hello(offer)
        initiator = PairingInitiator(
            code,
            hub_id=options.hub_id,
            appliance_id=info.appliance_id,
            hello_transcript=hello_transcript(offer.encode(), server_hello),
        )
        await connection.send(encode_frame(FrameType.PAIR, initiator.start()))
        outcome = await connection.outcome()
        if outcome.reaction is Reaction.ERROR and outcome.error is not None:
            if outcome.error.code is ErrorCode.RATE_LIMITED:
                raise CheckFailed(
                    f"pairing is rate limited (retry after {outcome.error.retry_after} s): "
                    "earlier failed attempts count; wait and run again"
                )
            if outcome.error.code is ErrorCode.INVALID_STATE:
                raise CheckFailed(CLOSED_HINT)
            raise CheckFailed(f"PAIR START answered {outcome.describe()}")
        if (
            outcome.reaction is not Reaction.REPLY
            or outcome.message is None
            or outcome.message["type"] != FrameType.PAIR.name
        ):
            raise CheckFailed(f"PAIR START: expected PAIR REPLY, got {outcome.describe()}")
        try:
            initiator.handle_reply(outcome.message["payload"])
        except LinkError as err:
            if err.code is not ErrorCode.WRONG_CODE:
                raise CheckFailed(f"PAIR REPLY unreadable: {describe_error(err)}") from None
        else:
            raise CheckFailed("the device's confirmation matches a wrong code")
        forged = bytes([PairStep.CONFIRM]) + os.urandom(MAC_SIZE)
        await connection.send(encode_frame(FrameType.PAIR, forged))
        outcome = await connection.outcome()
    finally:
        await connection.close()
    if outcome.reaction is Reaction.ERROR and outcome.error is not None:
        if outcome.error.code is ErrorCode.WRONG_CODE:
            return "wrong code -> WRONG_CODE"
        raise CheckFailed(f"wrong code answered {outcome.describe()}, expected WRONG_CODE")
    if outcome.reaction is Reaction.REPLY:
        raise CheckFailed(
            "wrong code accepted: the device went on (sent a PAIR frame, its wrapped key) "
            "instead of answering WRONG_CODE"
        )
    raise CheckFailed(f"wrong code: expected WRONG_CODE, got {outcome.describe()}")


async def check_commissioning(context: Context) -> str:
    """Wrong code -> WRONG_CODE; right code -> a 32-byte key that opens sessions."""
    options = context.options
    hello = await _device_hello(context)
    problems: list[str] = []
    steps: list[str] = []
    try:
        steps.append(await _wrong_code_attempt(context, wrong_code_for(options.code)))
    except CheckFailed as failed:
        problems.append(str(failed))
    try:
        result = await pair(
            options.host, options.port, options.code, hub_id=options.hub_id, timeout=options.timeout
        )
    except (LinkError, ApplianceUnreachable) as err:
        if not (isinstance(err, LinkError) and err.code is ErrorCode.INVALID_STATE):
            problems.append(f"pairing with the right code failed: {describe_error(err)}")
        elif CLOSED_HINT not in problems:
            problems.append(CLOSED_HINT)
        raise CheckFailed("; ".join(problems)) from None
    if len(result.key) != KEY_SIZE:
        problems.append(f"key of {len(result.key)} bytes, expected {KEY_SIZE}")
        _fail_if(problems)
    if result.hello.appliance_id != hello.appliance_id:
        problems.append(f"paired HELLO names {result.hello.appliance_id}, not {hello.appliance_id}")
    context.key = result.key
    steps.append("right code -> 32-byte key")
    try:
        channel = await context.open_channel()
        try:
            _result(await _request(channel, 1, MessageType.PING, options.timeout), 1, "ping")
        finally:
            await channel.close()
        steps.append("key opens a session")
    except (LinkError, ApplianceUnreachable, CheckFailed) as err:
        problems.append(f"the new key does not open a session: {describe_error(err)}")
    try:
        stranger = await SecureChannel.open(
            options.host,
            options.port,
            os.urandom(KEY_SIZE),
            hub_id=options.hub_id,
            io_timeout=options.timeout,
        )
    except LinkError as err:
        if err.code is ErrorCode.AUTH_FAILED:
            steps.append("other key -> AUTH_FAILED")
        else:
            problems.append(
                f"a key it never issued answered {describe_error(err)}, not AUTH_FAILED"
            )
    except ApplianceUnreachable:
        steps.append("other key -> closed")
    else:
        await stranger.close()
        problems.append("a session opened with a key the device never issued")
    try:
        steps.append(await _closed_window_attempts(context))
    except CheckFailed as failed:
        problems.append(str(failed))
    _fail_if(problems)
    return "; ".join(steps)


async def _pair_start(context: Context) -> Outcome:
    """HELLO, then PAIR START with the right code on a fresh connection; the answer."""
    options = context.options
    connection = await PlainConnection.open(options.host, options.port, options.timeout)
    try:
        offer = ClientHello(options.hub_id)
        info, server_hello = await connection.hello(offer)
        initiator = PairingInitiator(
            options.code,
            hub_id=options.hub_id,
            appliance_id=info.appliance_id,
            hello_transcript=hello_transcript(offer.encode(), server_hello),
        )
        await connection.send(encode_frame(FrameType.PAIR, initiator.start()))
        return await connection.outcome()
    finally:
        await connection.close()


async def _closed_window_attempts(context: Context) -> str:
    """Paired now, so the window is closed: PAIR START is refused at once, uncounted.

    Each attempt uses the right code, so a device that ignores the window would
    go on to REPLY. A refusal before REPLY gives no guess, so nothing can be
    counted (PROTOCOL.md 5.5); the kit makes more attempts than the lockout
    allows failures, and the key from commissioning must still open a session.
    """
    options = context.options
    for attempt in range(1, CLOSED_WINDOW_ATTEMPTS + 1):
        try:
            outcome = await _pair_start(context)
        except (LinkError, ApplianceUnreachable) as err:
            raise CheckFailed(
                f"PAIR START after pairing (attempt {attempt}): {describe_error(err)}"
            ) from None
        error = outcome.error
        if outcome.reaction is Reaction.ERROR and error is not None:
            if error.code is ErrorCode.INVALID_STATE:
                continue
            raise CheckFailed(
                f"PAIR START after pairing (attempt {attempt}) answered {outcome.describe()}, "
                "expected INVALID_STATE: a paired device accepts pairing only after its "
                "pairing button"
            )
        if outcome.reaction is Reaction.REPLY:
            raise CheckFailed(
                "pairing accepted after pairing without the pairing button (PAIR REPLY "
                "instead of INVALID_STATE): strangers can guess the code at any time"
            )
        raise CheckFailed(
            f"PAIR START after pairing: expected INVALID_STATE, got {outcome.describe()}"
        )
    try:
        channel = await context.open_channel()
        try:
            _result(await _request(channel, 1, MessageType.PING, options.timeout), 1, "ping")
        finally:
            await channel.close()
    except (LinkError, ApplianceUnreachable) as err:
        raise CheckFailed(
            f"after the refused attempts the key no longer opens a session: {describe_error(err)}"
        ) from None
    return f"paired: {CLOSED_WINDOW_ATTEMPTS} x PAIR START -> INVALID_STATE, key still works"


# --- capability_declaration --------------------------------------------------


async def check_capability_declaration(context: Context) -> str:
    """The hub's session opens; describe parses and matches HELLO."""
    key = context.require_key()
    options = context.options
    client = context.new_client(key)
    try:
        await client.connect()
    except (LinkError, ApplianceUnreachable) as err:
        raise CheckFailed(f"the hub's session does not open: {describe_error(err)}") from None
    context.client = client
    hello = client.hello
    declaration = client.declaration
    context.last_declaration = declaration
    assert hello is not None
    assert declaration is not None
    problems: list[str] = []
    if declaration.type is not hello.type:
        problems.append(f"declaration type {declaration.type}, HELLO type {hello.type}")
    channel = await context.open_channel()
    try:
        described = _result(
            await _request(channel, 1, MessageType.DESCRIBE, options.timeout), 1, "describe"
        )
    finally:
        await channel.close()
    for field, said in (
        ("appliance_id", hello.appliance_id),
        ("type", str(hello.type)),
        ("model", hello.model),
        ("firmware", hello.firmware),
    ):
        if described.get(field) != said:
            problems.append(f"describe {field} {described.get(field)!r}, HELLO {said!r}")
    try:
        again = Declaration.from_dict(described.get("declaration"))
    except DeclarationError as err:
        problems.append(f"second describe does not parse: {err}")
    else:
        if again.to_dict() != declaration.to_dict():
            problems.append("two describes gave different declarations")
    _fail_if(problems)
    writable = sum(1 for cap in declaration.capabilities.values() if cap.writable)
    extra = ""
    if declaration.programmes:
        extra = f", {len(declaration.programmes)} programmes"
    if declaration.max_delay_s:
        extra += f", delayed start up to {declaration.max_delay_s} s"
    return (
        f"{declaration.type} {declaration.model}: {len(declaration.capabilities)} capabilities "
        f"({writable} writable){extra}"
    )


# --- reads -------------------------------------------------------------------


async def check_reads(context: Context) -> str:
    """A full read has exactly the declared keys with valid values; key reads work."""
    client = context.require_client()
    declaration = context.declaration
    values = await client.read()
    declared = set(declaration.capabilities)
    problems: list[str] = []
    if missing := sorted(declared - set(values)):
        problems.append(f"missing from a full read: {', '.join(missing)}")
    if undeclared := sorted(set(values) - declared):
        problems.append(f"undeclared keys in a full read: {', '.join(undeclared)}")
    for key in sorted(declared & set(values)):
        try:
            declaration.validate_reported(key, values[key])
        except LinkError as err:
            problems.append(f"{key}={values[key]!r}: {err.message}")
    if missing_at_connect := sorted(declared - set(client.state)):
        problems.append(f"missing when the session opened: {', '.join(missing_at_connect)}")
    first = next(iter(declaration.capabilities))
    single = await client.read([first])
    if set(single) != {first}:
        problems.append(f"read of [{first}] returned keys {sorted(single)}")
    try:
        await client.read([UNKNOWN_KEY])
    except LinkError as err:
        if err.code is not ErrorCode.UNKNOWN_CAPABILITY:
            problems.append(f"read of an unknown key answered {err.code.name}")
    else:
        problems.append("read of an unknown key was answered without an error")
    _fail_if(problems)
    return f"{len(values)} values, all declared and valid; key read and unknown key OK"


# --- writes_and_bounds -------------------------------------------------------


def _rounded(value: float) -> float | int:
    number = round(value, 6)
    return int(number) if number == int(number) else number


def valid_values(capability: Capability) -> list[Value]:
    """Values the declaration promises to accept: bounds, a step value, every option."""
    kind = capability.spec.kind
    if kind is ValueKind.BOOL:
        return [True, False]
    if kind is ValueKind.ENUM:
        return list(capability.options)
    if kind not in (ValueKind.NUMBER, ValueKind.DURATION):
        return []
    low, high, step = capability.minimum, capability.maximum, capability.step
    values: list[Value] = []
    if low is not None:
        values.append(_rounded(low))
    if high is not None:
        values.append(_rounded(high))
    if low is not None and high is not None:
        if step:
            middle = low + step * int((high - low) / step / 2)
        else:
            middle = (low + high) / 2
            if kind is ValueKind.DURATION or capability.spec.decimals == 0:
                middle = round(middle)
            else:
                middle = round(middle, capability.spec.decimals)
        if _rounded(middle) not in values:
            values.append(_rounded(middle))
    return values


def invalid_values(
    declaration: Declaration, capability: Capability
) -> list[tuple[object, ErrorCode, str]]:
    """Values that must be rejected, with the code and why."""
    kind = capability.spec.kind
    out: list[tuple[object, ErrorCode, str]] = []
    if kind is ValueKind.BOOL:
        out += [(1, ErrorCode.INVALID_TYPE, "a number"), ("true", ErrorCode.INVALID_TYPE, "text")]
    elif kind is ValueKind.ENUM:
        out.append(("conformance-no-such-option", ErrorCode.OUT_OF_RANGE, "an unknown option"))
        spare = [o for o in capability.spec.options if o not in capability.options]
        out += [(o, ErrorCode.OUT_OF_RANGE, "an undeclared option") for o in spare[:1]]
        out.append((1, ErrorCode.INVALID_TYPE, "a number"))
    elif kind in (ValueKind.NUMBER, ValueKind.DURATION):
        low, high, step = capability.minimum, capability.maximum, capability.step
        delta = step or 1
        if high is not None:
            out.append((_rounded(high + delta), ErrorCode.OUT_OF_RANGE, "above max"))
        if low is not None:
            out.append((_rounded(low - delta), ErrorCode.OUT_OF_RANGE, "below min"))
        if step and low is not None:
            out.append((_rounded(low + step / 2), ErrorCode.OUT_OF_RANGE, "off the step"))
        sample = low if low is not None else 0
        out += [
            (str(sample), ErrorCode.INVALID_TYPE, "text"),
            (True, ErrorCode.INVALID_TYPE, "a boolean"),
        ]
    return out


async def _expect_rejected(
    context: Context, values: Mapping[str, object], code: ErrorCode, what: str
) -> str | None:
    """Write ``values`` expecting ``code`` and no change; a problem text, or None."""
    client = context.require_client()
    before = await context.settings()
    try:
        await client.write(values)  # type: ignore[arg-type]  # deliberately wrong types
    except LinkError as err:
        problem = None if err.code is code else f"{what}: {err.code.name}, expected {code.name}"
    else:
        problem = f"{what}: accepted, expected {code.name}"
    await asyncio.sleep(0)
    changed = settings_differences(context.declaration, before, await context.settings())
    if changed:
        detail = f"{what}: changed {', '.join(changed)}"
        problem = f"{problem}; {detail}" if problem else detail
    return problem


async def _stop_programme(context: Context) -> None:
    """Writes need an idle appliance: stop a programme that runs (documented)."""
    declaration = context.declaration
    if "operational_state" not in declaration.capabilities:
        return
    state = (await context.require_client().read(["operational_state"])).get("operational_state")
    if state in (OperationalState.RUNNING, OperationalState.PAUSED):
        await context.require_client().command("stop")
        await context.wait_for_state(OperationalState.STOPPED, OperationalState.FINISHED)


async def check_writes_and_bounds(context: Context) -> str:
    """Declared bounds hold both ways; rejections change nothing; originals come back."""
    client = context.require_client()
    declaration = context.declaration
    await _stop_programme(context)
    original = await context.settings()
    problems: list[str] = []
    accepted = rejected = 0
    writable = [cap for cap in declaration.capabilities.values() if cap.writable]
    for capability in writable:
        key = capability.key
        for value in valid_values(capability):
            try:
                await client.write({key: value})
            except LinkError as err:
                problems.append(f"{key}={value!r} rejected ({describe_error(err)})")
                continue
            seen = await context.wait_for_value(key, value)
            if not same_value(capability, seen, value):
                problems.append(f"{key}={value!r} accepted but reads {seen!r}")
            else:
                accepted += 1
        for bad, code, why in invalid_values(declaration, capability):
            problem = await _expect_rejected(context, {key: bad}, code, f"{key}={bad!r} ({why})")
            rejected += problem is None
            if problem:
                problems.append(problem)
        try:
            await client.write({key: original[key]})
        except LinkError as err:
            problems.append(f"restoring {key}={original[key]!r}: {describe_error(err)}")
    for capability in declaration.capabilities.values():
        if not capability.writable:
            current = (await client.read([capability.key])).get(capability.key)
            problem = await _expect_rejected(
                context,
                {capability.key: current},
                ErrorCode.READ_ONLY,
                f"{capability.key} (read-only)",
            )
            rejected += problem is None
            if problem:
                problems.append(problem)
    unknown = [UNKNOWN_KEY] + [
        spec.key
        for spec in declaration.type_spec.attributes
        if spec.key not in declaration.capabilities
    ][:1]
    for key in unknown:
        problem = await _expect_rejected(
            context, {key: 1}, ErrorCode.UNKNOWN_CAPABILITY, f"{key} (undeclared)"
        )
        rejected += problem is None
        if problem:
            problems.append(problem)
    if writable:
        # All or nothing: a valid value next to an invalid one must not be applied.
        first = writable[0]
        other = next(
            (v for v in valid_values(first) if not same_value(first, v, original[first.key])), None
        )
        if other is not None:
            problem = await _expect_rejected(
                context,
                {first.key: other, UNKNOWN_KEY: 1},
                ErrorCode.UNKNOWN_CAPABILITY,
                f"{first.key}={other!r} with an unknown key (all or nothing)",
            )
            rejected += problem is None
            if problem:
                problems.append(problem)
    await _restore(context, original, problems)
    _fail_if(problems)
    return (
        f"{len(writable)} writable capabilities: {accepted} valid writes read back, "
        f"{rejected} bad writes rejected with the right code and no change; originals restored"
    )


async def _restore(context: Context, original: Mapping[str, Value], problems: list[str]) -> None:
    client = context.require_client()
    current = await context.settings()
    if settings_differences(context.declaration, original, current):
        try:
            await client.write(original)
        except LinkError as err:
            problems.append(f"restoring the original settings: {describe_error(err)}")
    for key, value in original.items():
        await context.wait_for_value(key, value)
    if differences := settings_differences(context.declaration, original, await context.settings()):
        problems.append(f"not restored: {', '.join(differences)}")


# --- commands ----------------------------------------------------------------


async def _command_rejected(
    context: Context, name: str, args: Mapping[str, int], code: ErrorCode
) -> str | None:
    try:
        await context.require_client().command(name, args)
    except LinkError as err:
        return None if err.code is code else f"{name}: {err.code.name}, expected {code.name}"
    return f"{name}: accepted, expected {code.name}"


async def _command_to(
    context: Context, name: str, args: Mapping[str, int], *states: OperationalState
) -> str | None:
    try:
        await context.require_client().command(name, args)
    except LinkError as err:
        return f"{name} rejected ({describe_error(err)})"
    seen = await context.wait_for_state(*states)
    if seen not in {str(state) for state in states}:
        return f"{name}: operational_state {seen!r}, expected {'/'.join(states)}"
    return None


async def check_commands(context: Context) -> str:
    """start/pause/resume/stop follow Matter Operational State; wrong states are refused."""
    declaration = context.declaration
    problems: list[str] = []
    if not declaration.type_spec.commands:
        problem = await _command_rejected(context, "start", {}, ErrorCode.UNSUPPORTED_COMMAND)
        _fail_if([problem] if problem else [])
        return f"a {declaration.type} has no commands; start -> UNSUPPORTED_COMMAND"
    original = await context.settings()
    await _stop_programme(context)
    stopped = (OperationalState.STOPPED, OperationalState.FINISHED)
    running, paused = OperationalState.RUNNING, OperationalState.PAUSED
    steps: list[Callable[[], Any]] = [
        lambda: _command_rejected(context, UNKNOWN_COMMAND, {}, ErrorCode.UNSUPPORTED_COMMAND),
        lambda: _command_rejected(context, "pause", {}, ErrorCode.INVALID_STATE),
        lambda: _command_rejected(context, "resume", {}, ErrorCode.INVALID_STATE),
        lambda: _command_to(context, "start", {}, running),
        # Matter: resuming a running machine and pausing a paused one succeed and do nothing.
        lambda: _command_to(context, "resume", {}, running),
        lambda: _command_to(context, "pause", {}, paused),
        lambda: _command_to(context, "pause", {}, paused),
        lambda: _command_to(context, "resume", {}, running),
        lambda: _command_to(context, "stop", {}, *stopped),
        lambda: _command_rejected(context, "pause", {}, ErrorCode.INVALID_STATE),
    ]
    for step in steps:
        if problem := await step():
            problems.append(problem)
    done = [
        "start, pause, resume, stop follow Matter",
        "pause/resume when stopped -> INVALID_STATE",
    ]
    if declaration.max_delay_s > 0:
        delay = min(DELAY_S, declaration.max_delay_s)
        if problem := await _delayed_start(context, delay):
            problems.append(problem)
        else:
            done.append(f"delayed start ({delay} s) and its cancel")
    else:
        problem = await _command_rejected(
            context, "start", {"delay_s": 60}, ErrorCode.UNSUPPORTED_COMMAND
        )
        if problem:
            problems.append(f"delayed start without max_delay_s: {problem}")
    await _stop_programme(context)
    await _restore(context, original, problems)
    _fail_if(problems)
    return "; ".join(done)


async def _delayed_start(context: Context, delay: int) -> str | None:
    client = context.require_client()
    try:
        await client.command("start", {"delay_s": delay})
    except LinkError as err:
        return f"start with delay_s={delay} rejected ({describe_error(err)})"
    remaining = await context.wait_for(
        "delay_remaining",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and value > 0,
    )
    state = (await client.read(["operational_state"])).get("operational_state")
    problems = []
    if not isinstance(remaining, int) or not 0 < remaining <= delay:
        problems.append(f"after start with delay_s={delay}: delay_remaining {remaining!r}")
    if state not in (OperationalState.STOPPED, OperationalState.RUNNING):
        problems.append(f"while a delayed start waits: operational_state {state!r}")
    try:
        await client.command("stop")
    except LinkError as err:
        problems.append(f"stop (cancel the delayed start) rejected ({describe_error(err)})")
    remaining = await context.wait_for("delay_remaining", lambda value: value == 0)
    if remaining != 0:
        problems.append(f"after stop, delay_remaining {remaining!r}")
    state = await context.wait_for_state(OperationalState.STOPPED)
    if state != OperationalState.STOPPED:
        problems.append(f"after cancelling a delayed start: operational_state {state!r}")
    return "; ".join(problems) or None


# --- pushed_updates ----------------------------------------------------------


def _push_target(declaration: Declaration, current: Mapping[str, Value]) -> tuple[str, Value]:
    """A writable capability and a different valid value (numbers preferred: few side effects)."""
    kinds = (ValueKind.NUMBER, ValueKind.ENUM, ValueKind.BOOL)
    for kind in kinds:
        for capability in declaration.capabilities.values():
            if capability.writable and capability.spec.kind is kind:
                for value in valid_values(capability):
                    if not same_value(capability, value, current[capability.key]):
                        return capability.key, value
    raise CheckFailed("no writable capability with a second value to change")


async def check_pushed_updates(context: Context) -> str:
    """A change arrives as a pushed ``changed`` message, without reads."""
    client = context.require_client()
    declaration = context.declaration
    await _stop_programme(context)
    original = await context.settings()
    key, value = _push_target(declaration, original)
    capability = declaration.capability(key)
    pushes: asyncio.Queue[dict[str, Value]] = asyncio.Queue()
    remove = client.add_state_listener(lambda values: pushes.put_nowait(dict(values)))
    problems: list[str] = []
    latencies: list[float] = []
    seq_before = client.last_seq
    try:
        for target in (value, original[key]):
            while not pushes.empty():
                pushes.get_nowait()
            started = time.monotonic()
            await client.write({key: target})
            if await _await_push(pushes, key, capability, target, context.options.push_timeout):
                latencies.append(time.monotonic() - started)
            else:
                problems.append(
                    f"{key}={target!r} was accepted but no push brought it within "
                    f"{context.options.push_timeout:g} s"
                )
    finally:
        remove()
    if latencies and client.last_seq <= seq_before:
        problems.append(f"push seq did not increase (stayed {client.last_seq})")
    await _restore(context, original, problems)
    _fail_if(problems)
    return (
        f"{key} -> {value!r} and back: both pushed, slowest {max(latencies) * 1000:.0f} ms "
        f"after the write; seq {seq_before} -> {client.last_seq}"
    )


async def _await_push(
    pushes: asyncio.Queue[dict[str, Value]],
    key: str,
    capability: Capability,
    target: Value,
    wait: float,
) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while (remaining := deadline - loop.time()) > 0:
        try:
            values = await asyncio.wait_for(pushes.get(), remaining)
        except TimeoutError:
            return False
        if key in values and same_value(capability, values[key], target):
            return True
    return False


# --- keepalive ---------------------------------------------------------------


async def check_keepalive(context: Context) -> str:
    """Pings are answered; an idle session is not dropped."""
    client = context.require_client()
    options = context.options
    round_trips = [await client.ping() for _ in range(5)]
    channel = await context.open_channel()
    try:
        # A session counts once a frame from the hub decrypted (PROTOCOL.md 1), so
        # authenticate first: the idle period is a session's, not a handshake's.
        _result(await _request(channel, 0, MessageType.PING, options.timeout), 0, "first ping")
        await asyncio.sleep(options.idle)
        outcome = await _request(channel, 1, MessageType.PING, options.timeout)
    finally:
        await channel.close()
    problems = []
    if outcome.reaction is Reaction.CLOSED:
        problems.append(f"the device closed a session idle for {options.idle:g} s")
    else:
        try:
            _result(outcome, 1, f"ping after {options.idle:g} s idle")
        except CheckFailed as failed:
            problems.append(str(failed))
    if not client.connected:
        problems.append("the hub session dropped during the idle period")
    else:
        round_trips.append(await client.ping())
    _fail_if(problems)
    return (
        f"ping round trip median {statistics.median(round_trips) * 1000:.1f} ms "
        f"(max {max(round_trips) * 1000:.1f}); idle {options.idle:g} s survived"
    )


# --- malformed_requests ------------------------------------------------------


def _hello_frame(hub_id: str, min_version: int = 1, max_version: int = 1) -> bytes:
    return encode_frame(FrameType.HELLO, ClientHello(hub_id, min_version, max_version).encode())


async def _plain_probe(
    context: Context, data: bytes, *, end: bool, codes: set[ErrorCode], what: str
) -> str:
    options = context.options
    connection = await PlainConnection.open(options.host, options.port, options.timeout)
    try:
        await connection.send(data, end=end)
        outcome = await connection.outcome()
        verdict = outcome.expect_error_or_close(codes, what)
        if outcome.reaction is Reaction.ERROR:
            # PROTOCOL.md 3: one ERROR frame, then the appliance closes.
            after = await connection.outcome()
            if after.reaction is not Reaction.CLOSED:
                raise CheckFailed(f"{what}: after its ERROR the device sent {after.describe()}")
    finally:
        await connection.close()
    return verdict


async def _probe_garbage(context: Context) -> str:
    return await _plain_probe(
        context,
        b"GET / HTTP/1.1\r\nHost: appliance\r\n\r\n",
        end=False,
        codes={ErrorCode.UNKNOWN_MESSAGE, ErrorCode.MALFORMED},
        what="garbage before HELLO",
    )


async def _probe_truncated(context: Context) -> str:
    frame = _hello_frame(context.options.hub_id)
    return await _plain_probe(
        context,
        frame[: len(frame) // 2],
        end=True,
        codes={ErrorCode.MALFORMED},
        what="truncated HELLO then end of stream",
    )


async def _probe_oversized(context: Context) -> str:
    header = bytes([FrameType.HELLO]) + (0xFFFF).to_bytes(2, "big")
    return await _plain_probe(
        context,
        header + b"{" * 64,
        end=False,
        codes={ErrorCode.TOO_LARGE, ErrorCode.MALFORMED},
        what="frame announcing 65535 bytes",
    )


async def _probe_wrong_version(context: Context) -> str:
    payload = b'{"hub_id":"%s","max_version":0,"min_version":0}' % context.options.hub_id.encode()
    return await _plain_probe(
        context,
        encode_frame(FrameType.HELLO, payload),
        end=False,
        codes={ErrorCode.MALFORMED, ErrorCode.UNSUPPORTED_VERSION},
        what="HELLO offering version 0",
    )


async def _probe_handshake_first(context: Context) -> str:
    return await _plain_probe(
        context,
        encode_frame(FrameType.HANDSHAKE, os.urandom(48)),
        end=False,
        codes={ErrorCode.MALFORMED},
        what="HANDSHAKE before HELLO",
    )


async def _session_probe(
    context: Context,
    send: Callable[[SecureChannel], None],
    codes: set[ErrorCode],
    what: str,
    *,
    reply_id: int | None = None,
    continues: bool = False,
) -> str:
    """Send something bad inside a session; expect an error (``reply_id``) or a close.

    With ``continues`` an error reply must leave the session serving
    (PROTOCOL.md 7.2), checked with a ping on the same session.
    """
    wait = context.options.timeout
    channel = await context.open_channel()
    try:
        send(channel)
        await channel.drain()
        outcome = await session_outcome(channel, wait)
        verdict = outcome.expect_error_or_close(codes, what)
        if outcome.reaction is Reaction.ERROR and outcome.message is not None:
            if outcome.message.get("id") != reply_id:
                raise CheckFailed(
                    f"{what}: error carries id {outcome.message.get('id')!r}, expected {reply_id!r}"
                )
            if continues:
                _result(
                    await _request(channel, 99, MessageType.PING, wait), 99, what + ", then ping"
                )
                verdict += ", session continues"
    finally:
        await channel.close()
    return verdict


async def _probe_unknown_type(context: Context) -> str:
    return await _session_probe(
        context,
        lambda channel: channel.send_message({"id": 41, "type": "conformance_self_destruct"}),
        {ErrorCode.UNKNOWN_MESSAGE},
        "unknown message type in a session",
        reply_id=41,
        continues=True,
    )


async def _probe_bad_json(context: Context) -> str:
    return await _session_probe(
        context,
        lambda channel: channel.send_plaintext(b'{"id": 42, "type": "ping"'),
        {ErrorCode.MALFORMED},
        "malformed JSON in a valid encrypted frame",
        continues=True,
    )


async def _probe_tampered(context: Context) -> str:
    def send(channel: SecureChannel) -> None:
        sealed = bytearray(
            channel.session.encrypt(encode_message(request_message(43, MessageType.PING)))
        )
        sealed[-1] ^= 0x01  # the last byte belongs to the authentication tag
        channel.send_frame(FrameType.ENCRYPTED, bytes(sealed))

    return await _session_probe(
        context, send, {ErrorCode.AUTH_FAILED, ErrorCode.MALFORMED}, "tampered frame (bad tag)"
    )


async def _probe_replayed(context: Context) -> str:
    options = context.options
    channel = await context.open_channel()
    try:
        sealed = channel.session.encrypt(encode_message(request_message(44, MessageType.PING)))
        channel.send_frame(FrameType.ENCRYPTED, sealed)
        await channel.drain()
        _result(await session_outcome(channel, options.timeout), 44, "ping before the replay")
        channel.send_frame(FrameType.ENCRYPTED, sealed)
        await channel.drain()
        outcome = await session_outcome(channel, options.timeout)
    finally:
        await channel.close()
    if outcome.reaction is Reaction.REPLY:
        raise CheckFailed("replayed frame: the device answered it as a new request")
    return outcome.expect_error_or_close(
        {ErrorCode.AUTH_FAILED, ErrorCode.MALFORMED}, "replayed frame"
    )


PROBES: Final = (
    ("garbage", _probe_garbage),
    ("truncated", _probe_truncated),
    ("oversized", _probe_oversized),
    ("wrong_version", _probe_wrong_version),
    ("handshake_first", _probe_handshake_first),
    ("unknown_type", _probe_unknown_type),
    ("bad_json", _probe_bad_json),
    ("tampered", _probe_tampered),
    ("replayed", _probe_replayed),
)


class _DeviceGone(Exception):
    """The device no longer accepts connections at all."""


async def _fresh_session_works(context: Context) -> str | None:
    """None if a new session opens and answers a ping, else why not.

    Raises _DeviceGone when the device cannot even be connected to.
    """
    try:
        channel = await context.open_channel()
    except ApplianceUnreachable as err:
        raise _DeviceGone(f"no fresh session ({describe_error(err)})") from None
    except LinkError as err:
        return f"no fresh session ({describe_error(err)})"
    try:
        _result(await _request(channel, 1, MessageType.PING, context.options.timeout), 1, "ping")
    except CheckFailed as failed:
        return f"fresh session broken ({failed})"
    finally:
        await channel.close()
    return None


async def check_malformed_requests(context: Context) -> str:
    """Every bad input gets an error or a clean close; the device keeps serving, unchanged."""
    before = await context.settings()
    problems: list[str] = []
    passed: list[str] = []
    for position, (name, probe) in enumerate(PROBES):
        try:
            passed.append(await probe(context))
        except CheckFailed as failed:
            problems.append(str(failed))
        except (LinkError, ApplianceUnreachable, OSError) as err:
            problems.append(f"{name}: {describe_error(err)}")
        try:
            if broken := await _fresh_session_works(context):
                problems.append(f"after {name}: {broken}")
        except _DeviceGone as gone:
            problems.append(f"after {name}: {gone}; the device stopped serving")
            if remaining := [later for later, _ in PROBES[position + 1 :]]:
                problems.append(f"not run: {', '.join(remaining)}")
            break
    try:
        after = await context.settings()
    except (CheckFailed, LinkError, ApplianceUnreachable):
        problems.append("the hub's own session was dropped")
    else:
        if changed := settings_differences(context.declaration, before, after):
            problems.append(f"state changed: {', '.join(changed)}")
    _fail_if(problems)
    return f"{len(PROBES)} probes, each refused cleanly with fresh sessions after: " + "; ".join(
        passed
    )


# --- reconnect ---------------------------------------------------------------


async def check_reconnect(context: Context) -> str:
    """Disconnect, reconnect with the stored key: same appliance, declaration and settings."""
    key = context.require_key()
    previous = context.client
    declaration = context.last_declaration
    if previous is None or declaration is None or previous.hello is None:
        raise CheckFailed("not run: no hub session to compare with (see capability_declaration)")
    appliance_id = previous.hello.appliance_id
    problems: list[str] = []
    if previous.connected:
        await context.settings()
        await previous.disconnect()
    else:
        problems.append("the previous hub session had already been dropped")
    context.client = None
    before = context.last_settings or {}
    started = time.monotonic()
    fresh = context.new_client(key)
    try:
        await fresh.connect()
    except (LinkError, ApplianceUnreachable) as err:
        problems.append(f"reconnecting with the key failed: {describe_error(err)}")
        raise CheckFailed("; ".join(problems)) from None
    elapsed = time.monotonic() - started
    context.client = fresh
    assert fresh.hello is not None
    assert fresh.declaration is not None
    if fresh.hello.appliance_id != appliance_id:
        problems.append(f"now HELLO names {fresh.hello.appliance_id}, before {appliance_id}")
    if fresh.declaration.to_dict() != declaration.to_dict():
        problems.append("the declaration changed across the reconnect")
    if missing := sorted(set(declaration.capabilities) - set(fresh.state)):
        problems.append(f"state after reconnect lacks {', '.join(missing)}")
    after = {key: value for key, value in fresh.state.items() if key in before}
    if changed := settings_differences(declaration, before, after):
        problems.append(f"settings differ after reconnect: {', '.join(changed)}")
    try:
        await fresh.ping()
    except (LinkError, ApplianceUnreachable) as err:
        problems.append(f"ping after reconnect: {describe_error(err)}")
    _fail_if(problems)
    return f"reconnected in {elapsed * 1000:.0f} ms; same appliance, declaration and settings"


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
