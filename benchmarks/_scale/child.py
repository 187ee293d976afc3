"""What both child processes of the scale benchmark need: file limits, an orphan guard."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import resource


def raise_file_limit() -> int:
    """Raise the soft limit of open files to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def exit_when_orphaned() -> None:
    """End this process at once if the benchmark that started it is gone.

    The benchmark terminates its children itself; this only covers it being
    killed outright, so that no appliance keeps listening afterwards.
    """
    parent = os.getppid()
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def code_origin() -> str:
    """Where the integration under test was imported from (current tree or a baseline)."""
    from custom_components.liuzhou_appliances import link

    return str(Path(link.__file__).resolve().parents[3])
