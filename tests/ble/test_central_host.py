"""The hub's Bumble host when a command is cancelled before its answer arrives."""

from __future__ import annotations

import asyncio
from typing import Any

from bumble.hci import HCI_Read_BD_ADDR_Command
from bumble.link import LocalLink

from firmware_bridge.ble.central import central_device


async def test_an_answer_to_a_cancelled_command_is_dropped() -> None:
    """A link torn down mid-command: the controller's late answer is for nobody.

    Bumble 0.0.211's own host set it on the cancelled future and raised
    InvalidStateError in the event loop (seen at a test's teardown).
    """
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    device = central_device(LocalLink())
    try:
        await device.power_on()
        command = asyncio.ensure_future(device.host.send_command(HCI_Read_BD_ADDR_Command()))
        await asyncio.sleep(0)  # sent; the controller answers on the next loop iteration
        command.cancel()
        await asyncio.gather(command, return_exceptions=True)
        await asyncio.sleep(0.01)
        assert command.cancelled()
        assert errors == []
        # The host is free for the next command.
        answer = await device.host.send_command(HCI_Read_BD_ADDR_Command())
        assert answer.return_parameters.status == 0
    finally:
        loop.set_exception_handler(previous)
