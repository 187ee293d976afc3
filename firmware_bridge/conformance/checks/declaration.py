"""The hub's session opens and describes the device (capability_declaration), and reads
give exactly what it declares (reads), CONFORMANCE.md checks 4 and 5."""

from __future__ import annotations

from custom_components.liuzhou_appliances.link.codec import MessageType
from custom_components.liuzhou_appliances.link.declaration import Declaration, DeclarationError
from custom_components.liuzhou_appliances.link.errors import (
    ErrorCode,
    LinkError,
)
from firmware_bridge.conformance.runner import CheckFailed, Context, describe_error

from .common import UNKNOWN_KEY, fail_if, request, result_of


async def check_capability_declaration(context: Context) -> str:
    """The hub's session opens; describe parses and matches HELLO."""
    key = context.require_key()
    options = context.options
    client = context.new_client(key)
    try:
        await client.connect()
    except LinkError as err:  # transport errors included
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
        described = result_of(
            await request(channel, 1, MessageType.DESCRIBE, options.timeout), 1, "describe"
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
    fail_if(problems)
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
    fail_if(problems)
    return f"{len(values)} values, all declared and valid; key read and unknown key OK"
