"""Small helpers for the link tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import itertools


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    for _ in itertools.count():
        if condition():
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
