"""The demo's voice panels: lines typed in the demo's terminal reach the simulated panels.

The simulated appliances run with ``simulate --panel``: each line on their
stdin is something a panel heard ("washer-1> 开始洗"), and each line they
print afterwards is something a panel said. The demo forwards what is typed
at its own terminal to them and prints what they say with a ``[panel]``
prefix, so a person sees the answer of Home Assistant's Assist arrive back at
the appliance.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Final, TextIO

PREFIX: Final = "[panel] "
# An example per language, printed when the demo is ready.
EXAMPLES: Final = {
    "en": "washer-1> en: start the washer",
    "zh-Hans": "washer-1> 开始洗衣服",
}


async def forward_typed_lines(simulators: asyncio.subprocess.Process, stream: TextIO) -> None:
    """Copy each line of ``stream`` (the demo's stdin) to the simulators' stdin until EOF.

    The stream is read by a daemon thread with blocking reads: a terminal is
    left in blocking mode for the shell afterwards, a regular file works too,
    and a read still waiting never holds up the demo's exit.
    """
    assert simulators.stdin is not None
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        try:
            for line in stream:
                loop.call_soon_threadsafe(lines.put_nowait, line)
        except (OSError, ValueError):  # closed or unreadable: no typed lines then
            pass
        loop.call_soon_threadsafe(lines.put_nowait, "")

    threading.Thread(target=read, name="demo panel input", daemon=True).start()
    while line := await lines.get():
        simulators.stdin.write(line.rstrip("\r\n").encode() + b"\n")
        try:
            await simulators.stdin.drain()
        except ConnectionError:
            return


async def print_panel_lines(simulators: asyncio.subprocess.Process) -> None:
    """Print what the simulated panels say (their stdout after the appliance list)."""
    assert simulators.stdout is not None
    while line := await simulators.stdout.readline():
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if text:
            print(f"{PREFIX}{text}", flush=True)


def start(simulators: asyncio.subprocess.Process) -> list[asyncio.Task[None]]:
    """The two forwarding tasks; cancel them when the demo stops."""
    return [
        asyncio.ensure_future(forward_typed_lines(simulators, sys.stdin)),
        asyncio.ensure_future(print_panel_lines(simulators)),
    ]
