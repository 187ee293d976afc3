"""The reconnect loop outlives whatever answers on the appliance's address while it is away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import logging

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest

from custom_components.liuzhou_appliances.link.codec import FrameType, encode_frame, read_frame

from .conftest import PairedAppliance, wait_until
from .test_runtime import entity_states

_HELLO = (
    '{"appliance_id":"lz-ac-0badf00d","firmware":"1","model":"M","paired":true,'
    '"type":%s,"version":%s}'
)
# One answer per kind of fault that used to escape the codec as TypeError/OverflowError.
ANSWERS = {
    "type_object": encode_frame(FrameType.HELLO, (_HELLO % ("{}", "1")).encode()),
    "type_list": encode_frame(FrameType.HELLO, (_HELLO % ("[]", "1")).encode()),
    "huge_version": encode_frame(FrameType.HELLO, (_HELLO % ('"dishwasher"', "9" * 401)).encode()),
    "huge_retry_after": encode_frame(
        FrameType.ERROR, ('{"code":11,"message":"wait","retry_after":%s}' % ("9" * 401)).encode()
    ),
}


@contextlib.asynccontextmanager
async def impostor(port: int, answer: bytes) -> AsyncIterator[list[int]]:
    """Something on ``port`` that answers every HELLO with ``answer``; yields a HELLO count."""
    hellos: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await read_frame(reader)
            hellos.append(1)
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield hellos
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
async def test_a_malformed_answer_while_away_does_not_stop_reconnecting(
    hass: HomeAssistant,
    paired_appliance: PairedAppliance,
    caplog: pytest.LogCaptureFixture,
    answer: str,
) -> None:
    coordinator = paired_appliance.coordinator
    appliance = paired_appliance.appliance
    await appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    async with impostor(appliance.port, ANSWERS[answer]) as hellos:
        for _ in range(3):
            asked = len(hellos)
            coordinator.async_wake_reconnect()
            await wait_until(hass, lambda asked=asked: len(hellos) > asked)
            await hass.async_block_till_done()
        reconnect = coordinator._reconnect.task
        assert reconnect is not None
        assert not reconnect.done()
    await appliance.restart()
    coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: coordinator.connected)
    assert STATE_UNAVAILABLE not in entity_states(hass, paired_appliance).values()
    # The impostor's answers are protocol errors, not bugs: nothing above info level.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
    ]


async def test_an_unexpected_error_is_logged_once_and_the_loop_keeps_trying(
    hass: HomeAssistant,
    paired_appliance: PairedAppliance,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coordinator = paired_appliance.coordinator
    appliance = paired_appliance.appliance
    real_connect = coordinator._async_connect
    failures: list[int] = []

    async def broken_connect() -> None:
        failures.append(1)
        raise RuntimeError("a bug somewhere below the coordinator")

    monkeypatch.setattr(coordinator, "_async_connect", broken_connect)
    await appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    await appliance.restart()
    for _ in range(3):
        tried = len(failures)
        coordinator.async_wake_reconnect()
        await wait_until(hass, lambda tried=tried: len(failures) > tried)
    monkeypatch.setattr(coordinator, "_async_connect", real_connect)
    coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: coordinator.connected)
    assert STATE_UNAVAILABLE not in entity_states(hass, paired_appliance).values()
    reported = [r for r in caplog.records if "Unexpected error reconnecting" in r.getMessage()]
    assert len(reported) == 1
    assert reported[0].exc_info is not None
